// The port, plus the embedded SQLite adapter (the default; better-sqlite3 is a
// hard dependency of this package). Adapters with optional drivers (pg,
// EventStoreDB) belong behind their own subpath exports so that importing the
// port never loads a driver. The contract suite imports vitest, so it lives at
// `@sluice/event-store/contract`, never here.
export * from './port.js';
export { logSource } from './log-source.js';
export { openSqliteEventStore } from './sqlite/sqlite-event-store.js';
export type { SqliteEventStoreOptions } from './sqlite/sqlite-event-store.js';
export { SqliteFileError, openSluiceSqliteFile } from './sqlite/connection.js';
export type { SluiceSqliteFile, SqliteFileProblem } from './sqlite/connection.js';
export { openConfiguredEventStore } from './open.js';
export type { StoreChoice } from './open.js';
