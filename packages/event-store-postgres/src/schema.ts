import { escapeIdentifier } from 'pg';
import type { ClientBase } from 'pg';

/** Bump together with a new entry in MIGRATIONS; stored in the store's `event_store_schema` table. */
export const SCHEMA_VERSION = 1;

/**
 * The quoted, schema-qualified names of one store's objects, and the keys of
 * its advisory locks. Every statement takes its names from here, so a schema
 * name reaches SQL only through escapeIdentifier.
 */
export interface StoreObjects {
  schema: string;
  events: string;
  positions: string;
  version: string;
  /** Text hashed into the advisory lock every append holds until it commits. */
  appendLock: string;
  migrateLock: string;
}

export function storeObjects(schema: string): StoreObjects {
  if (schema.length === 0) throw new RangeError('schema must not be empty');
  const qualified = (name: string) => `${escapeIdentifier(schema)}.${name}`;
  return {
    schema,
    events: qualified('events'),
    positions: qualified('event_positions'),
    version: qualified('event_store_schema'),
    appendLock: `sluice.event-store.append:${schema}`,
    migrateLock: `sluice.event-store.migrate:${schema}`,
  };
}

/**
 * MIGRATIONS[v] takes a store from version v to v + 1.
 *
 * v1, the log (the same shape as the SQLite adapter's):
 * - `position` has no default: positions come only from the append path, which
 *   draws them from `event_positions` while holding the append lock (see
 *   append.ts for why that lock makes commit order equal position order). A
 *   sequence never hands out a value twice, even after a rollback or after the
 *   newest rows were deleted by hand, so a checkpointed consumer never meets
 *   a reused position.
 * - UNIQUE(event_id) is the durable idempotency key; UNIQUE(stream_id, revision)
 *   makes a lost revision race impossible to commit, and its index answers
 *   "last revision of this stream" with one backward seek.
 * - Ids, stream ids and types are opaque keys compared byte by byte (COLLATE
 *   "C"): no locale-aware comparison on every index probe, and indexes that an
 *   OS upgrade changing glibc's collation rules cannot silently corrupt.
 * - `data` and `metadata` are `json`, not `jsonb`: json keeps the text as
 *   written (key order, and strings holding \u0000, which jsonb rejects), so
 *   events read back exactly as from the SQLite adapter, and it is still
 *   validated and queryable.
 */
const MIGRATIONS: readonly ((objects: StoreObjects) => string)[] = [
  ({ events, positions }) => `
    CREATE SEQUENCE ${positions} AS bigint;
    CREATE TABLE ${events} (
      position    bigint      PRIMARY KEY,
      stream_id   text        COLLATE "C" NOT NULL,
      revision    bigint      NOT NULL CHECK (revision >= 0),
      event_id    text        COLLATE "C" NOT NULL UNIQUE,
      type        text        COLLATE "C" NOT NULL,
      data        json        NOT NULL,
      metadata    json,
      recorded_at timestamptz NOT NULL,
      UNIQUE (stream_id, revision)
    );
    ALTER SEQUENCE ${positions} OWNED BY ${events}.position;`,
];

/**
 * Creates the schema and brings it to SCHEMA_VERSION. Runs inside the caller's
 * transaction, under an advisory lock, so several processes opening the same
 * store at once apply each migration exactly once. Objects are created only
 * when missing: a role allowed to read and append, but not to create, can open
 * a current store.
 */
export async function migrate(client: ClientBase, objects: StoreObjects): Promise<void> {
  await migrateSchema(client, {
    schema: objects.schema,
    versionTable: objects.version,
    lock: objects.migrateLock,
    what: 'event store schema',
    migrations: MIGRATIONS.map((m) => m(objects)),
  });
}

/** A PostgreSQL schema whose objects one package creates and migrates by version (the event store; the read models' copy). */
export interface VersionedSchema {
  readonly schema: string;
  /** the quoted, qualified name of its one-row version table */
  readonly versionTable: string;
  /** text hashed into the advisory lock held while migrating */
  readonly lock: string;
  /** what it is, for the error about a newer version */
  readonly what: string;
  /** migrations[v] takes it from version v to v + 1 */
  readonly migrations: readonly string[];
}

/**
 * Creates the schema when missing and applies the migrations it lacks, inside
 * the caller's transaction under an advisory lock (processes opening at once
 * apply each migration exactly once); creates nothing that exists, so a role
 * without CREATE can open a current schema. A schema newer than `migrations`
 * is refused.
 */
export async function migrateSchema(client: ClientBase, target: VersionedSchema): Promise<void> {
  await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [target.lock]);
  const schemaExists = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [target.schema]);
  if (schemaExists.rowCount === 0) await client.query(`CREATE SCHEMA ${escapeIdentifier(target.schema)}`);

  const versionTable = await client.query<{ present: boolean }>('SELECT to_regclass($1) IS NOT NULL AS present', [target.versionTable]);
  let current = 0;
  if (versionTable.rows[0]?.present) {
    const row = await client.query<{ version: number }>(`SELECT version FROM ${target.versionTable}`);
    current = row.rows[0]?.version ?? 0;
  } else {
    await client.query(`CREATE TABLE ${target.versionTable} (version integer NOT NULL)`);
    await client.query(`INSERT INTO ${target.versionTable} (version) VALUES (0)`);
  }
  const latest = target.migrations.length;
  if (current > latest) {
    throw new Error(`${target.what} ${target.schema} is at version ${current}, newer than this build understands (${latest}); upgrade Sluice`);
  }
  for (let version = current; version < latest; version++) await client.query(target.migrations[version]!);
  if (current !== latest) await client.query(`UPDATE ${target.versionTable} SET version = $1`, [latest]);
}
