// `@sluice/event-store-postgres`: the PostgreSQL adapter, in its own package
// with pg as a peer dependency, so that the port (`@sluice/event-store`) and
// the embedded mode never load pg.
export { openPostgresEventStore } from './postgres-event-store.js';
export type { PostgresEventStoreOptions } from './postgres-event-store.js';
