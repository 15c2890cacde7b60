export { toErrorStream } from './error-stream.ts';
export type { ErrorSink } from './error-stream.ts';
export { FileWrapper } from './file-wrapper.ts';
export { Headers } from './headers.ts';
export { unquoteNative } from './_quote.ts';
export { toInputStream } from './input-stream.ts';
export type { InputSource, InputStreamOptions } from './input-stream.ts';
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
} from './types.ts';
export {
  applicationUri,
  guessScheme,
  isHopByHop,
  requestUri,
  setupTestingDefaults,
  shiftPathInfo,
} from './util.ts';
