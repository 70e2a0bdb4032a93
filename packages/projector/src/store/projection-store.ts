import type Database from 'better-sqlite3';
import { ruleFingerprint } from '@sluice/config';
import { openSluiceSqliteFile } from '@sluice/event-store';
import type { SluiceSqliteFile } from '@sluice/event-store';
import type { RuleConfig } from '@sluice/schemas';
import { LISTING_INDEXES, READ_MODEL_TABLES, SCHEMA_VERSION, migrate } from './schema.js';

/**
 * The read models' own SQLite file (e.g. `<dataDir>/projections.sqlite`),
 * separate from the event store, which may be PostgreSQL. WAL so the API reads
 * while the projector writes; synchronous = FULL so a committed flush (read
 * models + checkpoint, one transaction) survives kill -9 and power loss.
 */
export interface ProjectionStore {
  /** the file, or ':memory:' */
  readonly path: string;
  /** the connection; this package's writers and queries use it, callers should not */
  readonly db: Database.Database;
  /** where the read models are: the checkpoint and the rules they were built under */
  state(): ProjectionState;
  close(): void;
}

export interface ProjectionState {
  /** global log position of the last event whose effect is durable (0: nothing projected) */
  readonly position: number;
  /** names this build of the read models: a rebuild starts a new one (followers then start over) */
  readonly build: string;
  /** the rules the read models were built under; undefined before the first build */
  readonly config:
    | { readonly version: string; readonly fingerprint: string; readonly timeZone: string; readonly stages: readonly string[] }
    | undefined;
}

interface StateRow {
  position: number;
  build: string;
  config_version: string | null;
  config_fingerprint: string | null;
  time_zone: string | null;
  stages: string | null;
}

// the read models are derived: whatever is wrong with their file, building them again from the log mends it
const PROJECTIONS_FILE: SluiceSqliteFile = {
  what: 'a Sluice read-model file',
  markerTable: 'projection_state',
  schemaVersion: SCHEMA_VERSION,
  unusable: 'the read models are derived from the log, so delete it (with its -wal and -shm files, if any) and run `sluice rebuild`',
  newer: 'upgrade Sluice, or delete it (with its -wal and -shm files, if any) and run `sluice rebuild` to build the read models again with this one',
};

/** Opens (creating if needed) the read models' file; one that cannot be used is refused with a SqliteFileError saying what to do. */
export function openProjectionStore(path: string, options: { busyTimeoutMs?: number } = {}): ProjectionStore {
  const db = openSluiceSqliteFile(path, PROJECTIONS_FILE, { timeout: options.busyTimeoutMs ?? 5000 }, (db) => {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    // 64 MiB of page cache (the default is 2 MiB): flushes touch rows all over the lead table
    db.pragma('cache_size = -65536');
    migrate(db);
  });
  const readState = db.prepare<[], StateRow>('SELECT position, build, config_version, config_fingerprint, time_zone, stages FROM projection_state WHERE id = 1');
  return {
    path,
    db,
    state() {
      const row = readState.get()!;
      return {
        position: row.position,
        build: row.build,
        config:
          row.config_version === null
            ? undefined
            : { version: row.config_version, fingerprint: row.config_fingerprint!, timeZone: row.time_zone!, stages: JSON.parse(row.stages!) as string[] },
      };
    },
    close: () => db.close(),
  };
}

export class ProjectionConfigMismatchError extends Error {
  readonly code = 'PROJECTION_CONFIG_MISMATCH';
  constructor(
    readonly built: { version: string; fingerprint: string },
    readonly wanted: { version: string; fingerprint: string },
  ) {
    super(
      `the read models were built under rules ${built.version} (${built.fingerprint.slice(0, 12)}), not ${wanted.version} (${wanted.fingerprint.slice(0, 12)}): rebuild them (sluice rebuild) to project under the new rules`,
    );
    this.name = 'ProjectionConfigMismatchError';
  }
}

/**
 * Claims an empty store for `config`, or checks that a built one was built
 * under the same rules (version label and content fingerprint): one set of
 * read models never mixes two rule sets.
 */
export function bindConfig(store: ProjectionStore, config: RuleConfig): void {
  const fingerprint = ruleFingerprint(config);
  const { position, config: built } = store.state();
  if (built !== undefined && (built.version !== config.version || built.fingerprint !== fingerprint)) {
    if (position > 0) throw new ProjectionConfigMismatchError(built, { version: config.version, fingerprint });
  }
  store.db
    .prepare('UPDATE projection_state SET config_version = ?, config_fingerprint = ?, time_zone = ?, stages = ? WHERE id = 1')
    .run(config.version, fingerprint, config.timeZone, JSON.stringify(config.stageModel.stages.map((s) => s.id)));
}

/**
 * Empties every read model, the change feed, the subject and day change marks
 * and the parked events (a rebuild tries them again) and moves the checkpoint back to
 * 0 under a new build, in one transaction; `forBulkLoad` also drops the
 * listing indexes (createListingIndexes puts them back).
 */
export function clearProjections(store: ProjectionStore, forBulkLoad = false): void {
  store.db.transaction(() => {
    for (const table of READ_MODEL_TABLES) store.db.exec(`DELETE FROM ${table.name}`);
    store.db.exec('DELETE FROM derived_changes');
    store.db.exec('DELETE FROM subject_changes');
    store.db.exec('DELETE FROM conversion_day_changes');
    store.db.exec('DELETE FROM parked_events');
    store.db.exec('UPDATE projection_state SET position = 0, build = lower(hex(randomblob(16))) WHERE id = 1');
    if (forBulkLoad) for (const index of LISTING_INDEXES) store.db.exec(`DROP INDEX IF EXISTS ${index.name}`);
  })();
}

export function createListingIndexes(store: ProjectionStore): void {
  store.db.transaction(() => {
    for (const index of LISTING_INDEXES) store.db.exec(index.sql);
  })();
}
