export { WSGIServerError } from './_errors.ts';
export type { WSGIServerErrorCode } from './_errors.ts';
export type { ServerOptions } from './_options.ts';
export { demoApp } from './demo-app.ts';
export { SimpleHandler } from './handlers.ts';
export type { SimpleHandlerOptions } from './handlers.ts';
export { SIGNAL_KEY, WSGIRequestHandler } from './request-handler.ts';
export { ServerHandler } from './server-handler.ts';
export { makeServer, WSGIServer } from './simple-server.ts';
