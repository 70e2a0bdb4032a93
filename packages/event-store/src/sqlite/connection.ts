import Database from 'better-sqlite3';
import { migrate } from './schema.js';

export interface ConnectionOptions {
  /** Database file, or ':memory:'. */
  path: string;
  /** How long a write waits for another process's write lock before failing (SQLITE_BUSY). */
  busyTimeoutMs: number;
}

/**
 * Opens a connection configured for the event store and brings the schema up
 * to date. Every connection to an event store file goes through here, so the
 * durability settings cannot be forgotten by one of them.
 */
export function openConnection({ path, busyTimeoutMs }: ConnectionOptions): Database.Database {
  // `timeout` is better-sqlite3's busy_timeout: a second process (a CLI import
  // while the server runs) waits for the write lock instead of failing at once.
  const db = new Database(path, { timeout: busyTimeoutMs });
  try {
    // WAL: readers (subscriptions, queries, other processes) never block the writer, nor it them.
    db.pragma('journal_mode = WAL');
    // FULL: the WAL is fsynced at every commit, so an acknowledged append
    // survives kill -9 and power loss (NORMAL survives only the former).
    db.pragma('synchronous = FULL');
    // Appends insert into two indexes keyed by random-looking values (event id,
    // stream id), so each commit of ~1,000 events dirties ~2,000 pages (~8 MB of
    // WAL): commit I/O, not CPU, bounds append throughput. Checkpointing every
    // ~40 MB of WAL instead of the default ~4 MB copies a page that several
    // commits rewrote into the database file once rather than after every
    // commit (a modest, noisy gain in local runs). Durability is unaffected:
    // a commit is durable once it is in the WAL.
    db.pragma('wal_autocheckpoint = 10000');
    // 64 MiB page cache (default 2 MiB) keeps those index pages hot for the
    // per-append lookups (stream head, duplicate id) and the unique checks.
    db.pragma('cache_size = -65536');
    migrate(db);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}
