/**
 * Where findings go: thrown, collected, passed to a callback or emitted as process warnings.
 *
 * @module
 */
import { inspect } from 'node:util';

import {
  ValidationError,
  WSGIWarning,
  type Finding,
  type ValidationErrorCode,
  type WSGIWarningCode,
} from './_errors.ts';

/** The sinks a validator reports to, fixed when `validator()` is called. */
export interface Sinks {
  readonly collect: boolean;
  readonly onWarning: ((warning: WSGIWarning) => void) | undefined;
  readonly onFinding: ((finding: Finding) => void) | undefined;
}

/**
 * Reports findings for one validator: a broken rule throws (or, in collect mode, is only
 * recorded); a warning goes to `onWarning` or `process.emitWarning`.
 */
export class Reporter {
  readonly #sinks: Sinks;

  constructor(sinks: Sinks) {
    this.#sinks = sinks;
  }

  /** Whether findings are collected instead of thrown. */
  get collecting(): boolean {
    return this.#sinks.collect;
  }

  /**
   * Reports a broken rule. Throws the `ValidationError` unless collecting, in which case the
   * caller carries on as if the rule held.
   */
  fail(code: ValidationErrorCode, message: string, cause?: unknown): void {
    const error =
      cause === undefined
        ? new ValidationError(code, message)
        : new ValidationError(code, message, { cause });
    this.#sinks.onFinding?.(error);
    if (!this.#sinks.collect) throw error;
  }

  /** Reports a questionable but legal thing; never throws (unless a callback does). */
  warn(code: WSGIWarningCode, message: string): void {
    const warning = new WSGIWarning(code, message);
    const { onFinding, onWarning, collect } = this.#sinks;
    onFinding?.(warning);
    if (onWarning !== undefined) onWarning(warning);
    else if (!collect) process.emitWarning(warning.message, 'WSGIWarning');
  }
}

/** Shows an offending value in a message: strings quoted, objects shallow and on one line. */
export function show(value: unknown): string {
  return inspect(value, {
    depth: 1,
    breakLength: Infinity,
    maxArrayLength: 8,
    maxStringLength: 120,
  });
}
