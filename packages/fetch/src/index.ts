export { fromFetchHandler } from './from-fetch-handler.ts';
export { toFetchHandler } from './to-fetch-handler.ts';
export type { FetchHandler, ToFetchHandlerOptions } from './types.ts';
