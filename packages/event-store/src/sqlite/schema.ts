import type BetterSqlite3 from 'better-sqlite3';

/** Bump together with a new entry in MIGRATIONS; stored in PRAGMA user_version. */
export const SCHEMA_VERSION = 1;

/**
 * MIGRATIONS[v] takes a database from user_version v to v + 1.
 *
 * v1, the log:
 * - `position` is the INTEGER PRIMARY KEY (the rowid), so the global log is the
 *   table's own b-tree order. SQLite has one writer at a time and assigns the
 *   rowid inside the write transaction, so a reader can never see position n+1
 *   committed while n is still pending: reading "position > checkpoint" in rowid
 *   order never skips. AUTOINCREMENT keeps positions from being reused even if
 *   the newest rows were ever deleted by hand (a reused position would be
 *   silently skipped by every checkpointed consumer).
 * - UNIQUE(event_id) is the durable idempotency key; UNIQUE(stream_id, revision)
 *   makes a lost revision race impossible to commit, and its index answers
 *   "last revision of this stream" with one seek.
 * - STRICT: a wrong column type is an error, not a silent coercion.
 */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE events (
     position    INTEGER PRIMARY KEY AUTOINCREMENT,
     stream_id   TEXT    NOT NULL,
     revision    INTEGER NOT NULL,
     event_id    TEXT    NOT NULL UNIQUE,
     type        TEXT    NOT NULL,
     data        TEXT    NOT NULL,
     metadata    TEXT,
     recorded_at TEXT    NOT NULL,
     UNIQUE (stream_id, revision)
   ) STRICT`,
];

/**
 * Brings the file to SCHEMA_VERSION. Safe to run from several processes at once:
 * the IMMEDIATE transaction serialises them and the version is re-read inside it.
 */
export function migrate(db: BetterSqlite3.Database): void {
  db.transaction(() => {
    const current = db.pragma('user_version', { simple: true }) as number;
    if (current > SCHEMA_VERSION) {
      throw new Error(
        `event store schema version ${current} is newer than this build understands (${SCHEMA_VERSION}); upgrade Sluice`,
      );
    }
    for (let version = current; version < SCHEMA_VERSION; version++) {
      db.exec(MIGRATIONS[version]!);
    }
    if (current !== SCHEMA_VERSION) db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}
