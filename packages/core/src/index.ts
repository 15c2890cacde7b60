export { BaseHandler } from './handlers.ts';
export { WSGIAssertionError, WSGIError, isClientDisconnect } from './_errors.ts';
export type { WSGIErrorCode } from './_errors.ts';
export { formatDateTime } from './_format-date-time.ts';
export type {
  Application,
  Bytes,
  Environ,
  ErrorStream,
  FileLike,
  InputStream,
  ReadableFileLike,
  ResponseBody,
  StartResponse,
  Write,
} from '@wsgi/util';
