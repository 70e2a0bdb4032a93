export { buildApp, DEFAULT_LIMITS } from './app.js';
export type { ApiDeps, ApiLimits } from './app.js';
export type { IngestQueue } from './routes/ingest.js';
export { startServer, InsecureBindError } from './server.js';
export { isLoopback } from './auth.js';
export type { ListenOptions } from './server.js';
export type { ApiKey, Scope } from './auth.js';
export type { Problem, ProblemItem } from './problem.js';
