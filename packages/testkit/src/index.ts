export * from './services/kafka.js';
export * from './services/postgres.js';
export * from './services/clickhouse.js';
export * from './services/eventstoredb.js';
export type { DockerEngine, DockerProbe, ResolveServiceOptions } from './services/docker.js';
