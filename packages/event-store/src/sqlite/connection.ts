import { accessSync, constants, existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { SCHEMA_VERSION, migrate } from './schema.js';

export interface ConnectionOptions {
  /** Database file, or ':memory:'. */
  path: string;
  /** How long a write waits for another process's write lock before failing (SQLITE_BUSY). */
  busyTimeoutMs: number;
}

/** What a Sluice SQLite file holds: what opening one checks, and what its messages say when it cannot be used. */
export interface SluiceSqliteFile {
  /** for messages: "a Sluice event store" */
  readonly what: string;
  /** a table every schema version of the file has: a database with tables but not this one belongs to something else */
  readonly markerTable: string;
  /** the newest schema version (PRAGMA user_version) this build understands */
  readonly schemaVersion: number;
  /** what to do about a file that is not a database, is damaged or belongs to something else */
  readonly unusable: string;
  /** what to do about a file written by a newer Sluice */
  readonly newer: string;
}

export type SqliteFileProblem = 'unusable' | 'newer' | 'not_writable';

/** A Sluice SQLite file that cannot be used as it is; the message names the file and what to do. */
export class SqliteFileError extends Error {
  readonly code = 'SQLITE_FILE_UNUSABLE';
  constructor(
    readonly path: string,
    readonly problem: SqliteFileProblem,
    message: string,
  ) {
    super(message);
    this.name = 'SqliteFileError';
  }
}

const EVENT_STORE_FILE: SluiceSqliteFile = {
  what: 'a Sluice event store',
  markerTable: 'events',
  schemaVersion: SCHEMA_VERSION,
  unusable: 'move it away (with its -wal and -shm files, if any) or point --data-dir elsewhere',
  newer: 'upgrade Sluice',
};

/**
 * Opens a Sluice SQLite file and runs `prepare` (pragmas, migrations) on it.
 * A file that is not a database, is cut short, belongs to another program,
 * was written by a newer Sluice or cannot be written is refused with a
 * SqliteFileError naming it and what to do. The foreign and newer checks read
 * before `prepare` writes anything, so such a file is left as it was.
 */
export function openSluiceSqliteFile(path: string, file: SluiceSqliteFile, options: Database.Options, prepare: (db: Database.Database) => void): Database.Database {
  let db: Database.Database;
  try {
    // SQLite opens a file it may not write read-only without a word, and the first write would fail much later
    if (options.readonly !== true && existsSync(path)) accessSync(path, constants.W_OK);
    db = new Database(path, options);
  } catch (err) {
    throw explained(err, path, file);
  }
  try {
    refuseForeignOrNewer(db, path, file);
    prepare(db);
    return db;
  } catch (err) {
    db.close();
    throw explained(err, path, file);
  }
}

function refuseForeignOrNewer(db: Database.Database, path: string, file: SluiceSqliteFile): void {
  const tables = db.prepare<[], string>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name").pluck().all();
  if (tables.length > 0 && !tables.includes(file.markerTable)) {
    const shown = tables.slice(0, 5).join(', ') + (tables.length > 5 ? ', ...' : '');
    throw new SqliteFileError(path, 'unusable', `${path} is a SQLite database but not ${file.what} (it has tables ${shown} and no ${file.markerTable}): ${file.unusable}`);
  }
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > file.schemaVersion) {
    throw new SqliteFileError(
      path,
      'newer',
      `${path} was written by a newer Sluice: its schema version ${version} is newer than this build understands (${file.schemaVersion}); ${file.newer}`,
    );
  }
}

/** SQLite's error for a file, as what it means for this one and what to do. */
function explained(err: unknown, path: string, file: SluiceSqliteFile): unknown {
  if ((err as NodeJS.ErrnoException).code === 'EACCES' || (err as NodeJS.ErrnoException).code === 'EROFS') return notWritable(path, (err as Error).message);
  if (!(err instanceof Database.SqliteError)) return err;
  if (err.code === 'SQLITE_NOTADB') return new SqliteFileError(path, 'unusable', `${path} is not ${file.what} (${err.message}): ${file.unusable}`);
  if (err.code.startsWith('SQLITE_CORRUPT')) return new SqliteFileError(path, 'unusable', `${path} is damaged or cut short (${err.message}): ${file.unusable}`);
  if (err.code.startsWith('SQLITE_READONLY') || err.code.startsWith('SQLITE_CANTOPEN') || err.code === 'SQLITE_PERM') return notWritable(path, err.message);
  return err;
}

const notWritable = (path: string, reason: string) =>
  new SqliteFileError(path, 'not_writable', `cannot open ${path} for writing (${reason}): Sluice creates and writes files in its data directory; give it write access there or point --data-dir elsewhere`);

/**
 * Opens a connection configured for the event store and brings the schema up
 * to date. Every connection to an event store file goes through here, so the
 * durability settings cannot be forgotten by one of them.
 */
export function openConnection({ path, busyTimeoutMs }: ConnectionOptions): Database.Database {
  // `timeout` is better-sqlite3's busy_timeout: a second process (a CLI import
  // while the server runs) waits for the write lock instead of failing at once.
  return openSluiceSqliteFile(path, EVENT_STORE_FILE, { timeout: busyTimeoutMs }, (db) => {
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
  });
}
