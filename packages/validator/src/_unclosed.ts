/**
 * The `body.not-closed` check: a response body garbage-collected without `close()` being
 * called is reported, as `wsgiref.validate`'s `IteratorWrapper.__del__` does.
 *
 * @see PEP 3333, "Specification Details" (the server must call `close()`)
 * @module
 */
import type { Reporter } from './_report.ts';

/** The most bodies held between two sweeps. */
const SWEEP_BATCH = 512;

/** The state of one wrapped body that the check reads and updates. */
export interface Tracked {
  /** Whether `close()` has been called. */
  closed: boolean;
  /** Whether the body is registered with the `FinalizationRegistry` (so `close()` unregisters). */
  registered: boolean;
}

/**
 * Watches the bodies of one validator. Registering every body with a `FinalizationRegistry`
 * costs more than the rest of the checks of a small response, and most bodies are closed
 * within the event-loop turn that made them. So a new body is only held here, strongly, until
 * the next turn (a `setImmediate` sweep); the bodies still open then are registered, and a
 * registered body that is collected before `close()` is reported. A body never escapes the
 * check: until the sweep it cannot be collected, and after it the registry watches it.
 */
export class Unclosed {
  readonly #report: Reporter;
  readonly #registry: FinalizationRegistry<Reporter>;
  /** Bodies tracked since the last sweep, and their states, index for index. */
  readonly #bodies: object[] = [];
  readonly #states: Tracked[] = [];
  #scheduled = false;
  readonly #nextTurn = (): void => {
    this.#scheduled = false;
    this.#sweep();
  };

  constructor(report: Reporter) {
    this.#report = report;
    this.#registry = new FinalizationRegistry((reporter) => {
      reporter.warn(
        'body.not-closed',
        'a response body was garbage-collected without close() being called',
      );
    });
  }

  /** Registers the bodies tracked since the last sweep that are still open, and drops all. */
  #sweep(): void {
    const bodies = this.#bodies;
    const states = this.#states;
    for (let index = 0; index < states.length; index++) {
      const state = states[index] as Tracked;
      if (state.closed) continue;
      this.#registry.register(bodies[index] as object, this.#report, state);
      state.registered = true;
    }
    bodies.length = 0;
    states.length = 0;
  }

  /**
   * Starts watching `body` (what the server holds), whose `close()` updates `state` (which
   * may be `body` itself).
   */
  track(body: object, state: Tracked): void {
    // Many requests in one turn (all of them in microtasks, say) are swept in batches.
    if (this.#states.length >= SWEEP_BATCH) this.#sweep();
    this.#bodies.push(body);
    this.#states.push(state);
    if (!this.#scheduled) {
      this.#scheduled = true;
      // Unref'd: a process with nothing else to do exits without waiting for the sweep.
      setImmediate(this.#nextTurn).unref();
    }
  }

  /** Marks the body of `state` closed: it is no longer watched. */
  closed(state: Tracked): void {
    state.closed = true;
    if (state.registered) {
      state.registered = false;
      this.#registry.unregister(state);
    }
  }
}
