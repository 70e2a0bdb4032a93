// `@sluice/event-store/postgres`: the PostgreSQL adapter, behind its own subpath
// so that importing the port (`@sluice/event-store`) never loads pg.
export { openPostgresEventStore } from './postgres-event-store.js';
export type { PostgresEventStoreOptions } from './postgres-event-store.js';
