// `@sluice/event-store-postgres`: the PostgreSQL adapter, in its own package
// with pg as a peer dependency, so that the port (`@sluice/event-store`) and
// the embedded mode never load pg.
export { openPostgresEventStore } from './postgres-event-store.js';
export type { PostgresEventStoreOptions } from './postgres-event-store.js';
// for the other PostgreSQL adapters (@sluice/read-models-postgres): one way to run a transaction on a pooled connection and to migrate a schema
export { inTransaction } from './transaction.js';
export { type VersionedSchema, migrateSchema } from './schema.js';
