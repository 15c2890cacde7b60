export type { Finding, ValidationCode, ValidationErrorCode, WSGIWarningCode } from './_errors.ts';
export { ValidationError, WSGIWarning } from './_errors.ts';
export type { ValidatorOptions } from './validate.ts';
export { validator } from './validate.ts';
