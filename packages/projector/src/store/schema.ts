import type BetterSqlite3 from 'better-sqlite3';

/** Bump together with a new entry in MIGRATIONS; stored in PRAGMA user_version. */
export const SCHEMA_VERSION = 4;

/**
 * MIGRATIONS[v] takes a projections file from user_version v to v + 1.
 *
 * Times are epoch milliseconds (INTEGER). Every table but `projection_state`
 * and `derived_changes` is a read model: a function of the log and the rule
 * configuration, compared by `contentHash` (which is why no row holds a log
 * position or a wall-clock time: the same events in another order give the
 * same rows).
 *
 * - `leads`: one row per subject (its stream id: `lead-<id>` / `anon-<id>`),
 *   its state as of its own last event ("event time"). Anonymous subjects
 *   merged into a lead keep a row naming the lead and count for nothing.
 * - `stage_transitions`: one row per (subject, stage entered).
 * - `identity_links`: the anonymous -> lead map (first link wins).
 * - `conversion_days`: live conversion counters per local cohort day, business
 *   unit, source and (from stage, to stage): actors, how many of them had
 *   skipped `from`, and the sum of their times from `from` to `to`; the row
 *   from = to counts the entries.
 * - `projection_state`: the one checkpoint row, compare-and-set on every flush,
 *   and the rule configuration the read models were built under.
 * - `derived_changes`: a bounded feed of stage changes and hot leads (SSE).
 * - `subject_changes` (version 2): per subject, the checkpoint of the flush
 *   that last wrote it, so a follower outside this file (the ClickHouse stage
 *   tables) can ask which subjects changed after its own checkpoint.
 *   `projection_state.build` names one build of the read models (a new one
 *   at every rebuild): positions compare only within a build.
 *   Neither is a read model, so neither is hashed.
 * - `parked_events` (version 3): the events the projector could not apply
 *   (follower, position, event id and type, why, when), written as each is
 *   parked; the projection passes them, and so does a subject folded again
 *   from the log. Not a read model: a rebuild empties it and tries them again.
 * - `conversion_day_changes` (version 4): per cohort day, the checkpoint of
 *   the flush that last changed one of its conversion counters, so a copy of
 *   the read models elsewhere (@sluice/read-models-postgres) can ask which
 *   days changed after its own checkpoint, as `subject_changes` tells it the
 *   subjects. Not a read model, not hashed.
 */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE projection_state (
     id                 INTEGER PRIMARY KEY CHECK (id = 1),
     position           INTEGER NOT NULL,
     config_version     TEXT,
     config_fingerprint TEXT,
     time_zone          TEXT,
     stages             TEXT
   ) STRICT;
   INSERT INTO projection_state (id, position) VALUES (1, 0);

   CREATE TABLE leads (
     subject                     TEXT PRIMARY KEY,
     kind                        TEXT NOT NULL,
     id                          TEXT NOT NULL,
     merged_into                 TEXT,
     config_version              TEXT NOT NULL,
     stage                       TEXT,
     stage_entered_at            INTEGER,
     stages                      TEXT NOT NULL,
     is_customer                 INTEGER NOT NULL,
     side_state                  TEXT,
     side_reason                 TEXT,
     side_rule                   TEXT,
     side_since                  INTEGER,
     fit                         REAL NOT NULL,
     engagement                  REAL NOT NULL,
     total                       REAL NOT NULL,
     grade                       TEXT NOT NULL,
     quadrant                    TEXT NOT NULL,
     next_action                 TEXT NOT NULL,
     owner                       TEXT,
     business_unit               TEXT NOT NULL,
     account_id                  TEXT,
     source                      TEXT,
     channel                     TEXT,
     campaign                    TEXT,
     profile                     TEXT NOT NULL,
     first_touch_at              INTEGER,
     last_touch_at               INTEGER NOT NULL,
     last_sales_touch_at         INTEGER,
     touchpoints                 INTEGER NOT NULL,
     sla_started_at              INTEGER,
     sla_first_touch_due_at      INTEGER,
     sla_first_touch_at          INTEGER,
     sla_first_touch_minutes     REAL,
     sla_first_touch_status      TEXT,
     sla_attempts                INTEGER,
     sla_attempts_required       INTEGER,
     sla_attempts_window_ends_at INTEGER,
     sla_attempts_status         TEXT,
     sla_breached                INTEGER
   ) STRICT;

   CREATE TABLE stage_transitions (
     subject        TEXT NOT NULL,
     to_stage       TEXT NOT NULL,
     from_stage     TEXT,
     at             INTEGER NOT NULL,
     skipped        INTEGER NOT NULL,
     rule           TEXT NOT NULL,
     event_id       TEXT NOT NULL,
     config_version TEXT NOT NULL,
     PRIMARY KEY (subject, to_stage)
   ) STRICT, WITHOUT ROWID;

   CREATE TABLE identity_links (
     anonymous_id TEXT PRIMARY KEY,
     lead_id      TEXT NOT NULL,
     event_id     TEXT NOT NULL
   ) STRICT, WITHOUT ROWID;
   CREATE INDEX identity_links_lead ON identity_links (lead_id);

   CREATE TABLE conversion_days (
     day           TEXT NOT NULL,
     business_unit TEXT NOT NULL,
     source        TEXT NOT NULL,
     from_stage    TEXT NOT NULL,
     to_stage      TEXT NOT NULL,
     leads         INTEGER NOT NULL,
     skipped       INTEGER NOT NULL,
     velocity_ms   INTEGER NOT NULL,
     PRIMARY KEY (day, business_unit, source, from_stage, to_stage)
   ) STRICT, WITHOUT ROWID;

   CREATE TABLE derived_changes (
     seq     INTEGER PRIMARY KEY AUTOINCREMENT,
     type    TEXT NOT NULL,
     subject TEXT NOT NULL,
     payload TEXT NOT NULL
   ) STRICT;`,
  // a file built before version 2: every subject counts as changed at the current checkpoint, under a new build
  `ALTER TABLE projection_state ADD COLUMN build TEXT NOT NULL DEFAULT '';
   UPDATE projection_state SET build = lower(hex(randomblob(16)));

   CREATE TABLE subject_changes (
     subject  TEXT PRIMARY KEY,
     position INTEGER NOT NULL
   ) STRICT, WITHOUT ROWID;
   CREATE INDEX subject_changes_position ON subject_changes (position, subject);
   INSERT INTO subject_changes (subject, position) SELECT subject, (SELECT position FROM projection_state WHERE id = 1) FROM leads;`,
  `CREATE TABLE parked_events (
     follower  TEXT NOT NULL,
     position  INTEGER NOT NULL,
     event_id  TEXT NOT NULL,
     type      TEXT NOT NULL,
     reason    TEXT NOT NULL,
     parked_at TEXT NOT NULL,
     PRIMARY KEY (follower, position)
   ) STRICT, WITHOUT ROWID;`,
  // a file built before version 4: every day counts as changed at the current checkpoint
  `CREATE TABLE conversion_day_changes (
     day      TEXT PRIMARY KEY,
     position INTEGER NOT NULL
   ) STRICT, WITHOUT ROWID;
   CREATE INDEX conversion_day_changes_position ON conversion_day_changes (position, day);
   INSERT INTO conversion_day_changes (day, position) SELECT DISTINCT day, (SELECT position FROM projection_state WHERE id = 1) FROM conversion_days;`,
];

/**
 * Indexes that serve listing only, not the projector. A rebuild drops them
 * and creates them again at the end (one sort instead of an index update per
 * row); opening a store creates any that are missing, e.g. after a rebuild
 * that was killed.
 */
export const LISTING_INDEXES: readonly { readonly name: string; readonly sql: string }[] = [
  { name: 'leads_recent', sql: 'CREATE INDEX IF NOT EXISTS leads_recent ON leads (kind, last_touch_at DESC, subject)' },
  { name: 'leads_owner', sql: 'CREATE INDEX IF NOT EXISTS leads_owner ON leads (owner) WHERE owner IS NOT NULL' },
];

/** The read-model tables, in the order `contentHash` and `clear` visit them, with their key columns. */
export const READ_MODEL_TABLES = [
  { name: 'leads', key: 'subject' },
  { name: 'stage_transitions', key: 'subject, to_stage' },
  { name: 'identity_links', key: 'anonymous_id' },
  { name: 'conversion_days', key: 'day, business_unit, source, from_stage, to_stage' },
] as const;

/** Brings the file to SCHEMA_VERSION (IMMEDIATE: two processes opening at once take turns). */
export function migrate(db: BetterSqlite3.Database): void {
  db.transaction(() => {
    const current = db.pragma('user_version', { simple: true }) as number;
    if (current > SCHEMA_VERSION) {
      throw new Error(`projections schema version ${current} is newer than this build understands (${SCHEMA_VERSION}); upgrade Sluice`);
    }
    for (let version = current; version < SCHEMA_VERSION; version++) db.exec(MIGRATIONS[version]!);
    if (current !== SCHEMA_VERSION) db.pragma(`user_version = ${SCHEMA_VERSION}`);
    for (const index of LISTING_INDEXES) db.exec(index.sql);
  }).immediate();
}
