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
