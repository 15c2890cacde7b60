export { WSGIServerError } from './_errors.ts';
export type { WSGIServerErrorCode } from './_errors.ts';
export type { ServerOptions } from './_options.ts';
export { demoApp } from './demo-app.ts';
export { SimpleHandler } from './handlers.ts';
export type { SimpleHandlerOptions } from './handlers.ts';
export { toNodeListener } from './node-listener.ts';
export type { NodeListener, NodeListenerOptions } from './node-listener.ts';
export { SIGNAL_KEY, WSGIRequestHandler } from './request-handler.ts';
export { ServerHandler } from './server-handler.ts';
export { makeServer, WSGIServer } from './simple-server.ts';
export { TestClient } from './test-client.ts';
export type {
  TestClientOptions,
  TestHeaders,
  TestQuery,
  TestRequestInit,
  TestResponse,
  TestResponseHead,
  TestStreamResponse,
} from './test-client.ts';
export type { CookieJar } from './_cookie-jar.ts';
