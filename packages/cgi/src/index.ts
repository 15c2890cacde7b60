export { BaseCGIHandler, CGIHandler, IISCGIHandler } from './handlers.ts';
export { readEnviron } from './read-environ.ts';
