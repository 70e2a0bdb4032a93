// The port, plus the embedded SQLite adapter (the default; better-sqlite3 is a
// hard dependency of this package). Adapters with other drivers are their own
// packages with the driver as a peer (`@sluice/event-store-postgres`,
// `@sluice/event-store-eventstoredb`), built on `@sluice/event-store/support`,
// so that importing the port never loads a driver; which one a process opens
// is the composition's choice (@sluice/app's openConfiguredEventStore). The contract suite imports
// vitest, so it lives at `@sluice/event-store/contract`, never here.
export * from './port.js';
export { logSource } from './log-source.js';
export { openSqliteEventStore } from './sqlite/sqlite-event-store.js';
export type { SqliteEventStoreOptions } from './sqlite/sqlite-event-store.js';
export { SqliteFileError, openSluiceSqliteFile } from './sqlite/connection.js';
export type { SluiceSqliteFile, SqliteFileProblem } from './sqlite/connection.js';
