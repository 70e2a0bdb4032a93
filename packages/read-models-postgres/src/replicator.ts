import { inTransaction } from '@sluice/event-store-postgres';
import { ItemFailed, TransientFailure, isTransient, messageOf, startFollower } from '@sluice/follower';
import type { Follower, FollowerOptions } from '@sluice/follower';
import { LEAD_COLUMNS, readReadModelDelta } from '@sluice/projector';
import type { ProjectionStore, ReadModelDelta, ReplicaMark } from '@sluice/projector';
import type { PoolClient } from 'pg';
import { migrate, openPool, readModelObjects } from './schema.js';
import type { ReadModelObjects } from './schema.js';

/**
 * The read-model replicator: a follower (@sluice/follower) of the projector's
 * SQLite read models that keeps a PostgreSQL copy of them, so API replicas
 * read what only `sluice project` writes. See README.md for why a copy and
 * how it stays exact.
 *
 * As the engine sees it: an item is one delta (everything that changed in
 * the projector's file after the copy's mark, read from one snapshot), at the
 * projector's checkpoint; applying it writes its rows and moves the copy's
 * mark compare-and-set, in ONE PostgreSQL transaction. A transient failure
 * (server away, disk full) is retried by the engine. A delta PostgreSQL
 * refuses for its rows is parked: written again subject by subject, the
 * subjects refused kept in `replica_parked` with the reason, the rest and the
 * mark committed together.
 */

export const REPLICATOR_NAME = 'read_models_replica';

export interface ReadModelReplicatorOptions extends Pick<FollowerOptions<ReadModelDelta>, 'onParked' | 'onProgress' | 'onRetry' | 'retry' | 'pollIntervalMs'> {
  /** the projector's read models (its SQLite store), read-only here */
  projections: ProjectionStore;
  connectionString: string;
  /** the PostgreSQL schema of the copy (default 'sluice_read'), created when missing */
  schema?: string;
  /** the projector's partition (`--partitions i/N`): a copy is of all the leads, so N > 1 is refused */
  partition?: { readonly index: number; readonly count: number };
}

/** Partitioned projectors each hold some of the leads: their copies would collide in one schema, so PostgreSQL read models refuse them. */
export class ReadModelsPartitionError extends Error {
  constructor(partition: { index: number; count: number }) {
    super(
      `PostgreSQL read models (server.readModels / SLUICE_READ_MODELS_URL) are copied from one projector holding every lead; ` +
        `--partitions ${partition.index}/${partition.count} projects a share of them: run sluice project without --partitions, or keep the read models in SQLite`,
    );
    this.name = 'ReadModelsPartitionError';
  }
}

/** The copy's mark moved under this replicator: another one writes the same schema. Waited out: the engine re-reads the mark and goes on from there. */
class MarkMovedError extends TransientFailure {}

const EMPTY_MARK: ReplicaMark = { build: '', position: 0, changeSeq: 0, fingerprint: undefined };
/** rows per INSERT (the parameters are arrays, so this bounds a statement's size, not its parameter count) */
const CHUNK = 5000;

/**
 * Starts copying the projector's read models into PostgreSQL; `caughtUp()`
 * resolves once the copy holds the projector's checkpoint as of the call, and
 * `stop()` also closes the pool.
 */
export function startReadModelReplicator(options: ReadModelReplicatorOptions): Follower {
  if (options.partition !== undefined && options.partition.count > 1) throw new ReadModelsPartitionError(options.partition);
  const { projections } = options;
  const objects = readModelObjects(options.schema ?? 'sluice_read');
  const pool = openPool(options.connectionString, 'sluice-read-models-replicator');
  // a pooled connection that breaks while idle reports here; the next query gets a new one
  pool.on('error', () => undefined);
  let migrated = false;
  /** what the copy holds, as last read or written */
  let copied = EMPTY_MARK;
  // the engine counts from 0 until it has the target's checkpoint: caughtUp waits for the copy's mark first
  let markLoaded!: () => void;
  const firstMark = new Promise<void>((resolve) => (markLoaded = resolve));
  let stopped!: () => void;
  const stopping = new Promise<void>((resolve) => (stopped = resolve));

  /**
   * The copy's mark, and the engine's position for it: -1 for a copy of
   * another build (or none), which is behind even the projector's position 0.
   */
  const loadMark = async (): Promise<number> => {
    if (!migrated) {
      await inTransaction(pool, (client) => migrate(client, objects));
      migrated = true;
    }
    const client = await pool.connect();
    try {
      copied = await readMark(client, objects);
    } finally {
      client.release();
    }
    markLoaded();
    return copied.build === projections.state().build ? copied.position : -1;
  };

  const write = (delta: ReadModelDelta, isolate: boolean) =>
    inTransaction(pool, async (client) => {
      await writeDelta(client, objects, delta, isolate);
      await moveMark(client, objects, delta);
    });

  const follower = startFollower<ReadModelDelta>({
    name: REPLICATOR_NAME,
    ...pickFollowerOptions(options),
    batchSize: 1,
    source: {
      head: async () => projections.state().position,
      read: async () => {
        const delta = readReadModelDelta(projections, copied);
        return delta === undefined ? [] : [delta];
      },
      positionOf: (delta) => delta.to.position,
    },
    target: {
      checkpoint: loadMark,
      reset: loadMark,
      async apply(deltas) {
        const delta = deltas[0]!;
        try {
          await write(delta, false);
        } catch (err) {
          if (isTransient(err)) throw err;
          throw new ItemFailed(0, err);
        }
        copied = delta.to;
        return delta.to.position;
      },
      async park(delta) {
        await write(delta, true);
        copied = delta.to;
        return delta.to.position;
      },
      unattributed: 'reported',
    },
  });
  return {
    name: follower.name,
    get position() {
      return follower.position;
    },
    status: () => follower.status(),
    async caughtUp(at) {
      await Promise.race([firstMark, stopping]);
      return follower.caughtUp(at);
    },
    async stop() {
      stopped();
      try {
        await follower.stop();
      } finally {
        await pool.end();
      }
    },
  };
}

function pickFollowerOptions(options: ReadModelReplicatorOptions): Pick<FollowerOptions<ReadModelDelta>, 'onParked' | 'onProgress' | 'onRetry' | 'retry' | 'pollIntervalMs'> {
  const { onParked, onProgress, onRetry, retry, pollIntervalMs } = options;
  return {
    ...(onParked === undefined ? {} : { onParked }),
    ...(onProgress === undefined ? {} : { onProgress }),
    ...(onRetry === undefined ? {} : { onRetry }),
    ...(retry === undefined ? {} : { retry }),
    ...(pollIntervalMs === undefined ? {} : { pollIntervalMs }),
  };
}

async function readMark(client: PoolClient, o: ReadModelObjects): Promise<ReplicaMark> {
  const { rows } = await client.query<{ build: string; position: number; change_seq: number; config_fingerprint: string | null }>(
    `SELECT build, position, change_seq, config_fingerprint FROM ${o.state} WHERE id = 1`,
  );
  const row = rows[0];
  return row === undefined ? EMPTY_MARK : { build: row.build, position: row.position, changeSeq: row.change_seq, fingerprint: row.config_fingerprint ?? undefined };
}

/** Moves the copy's mark from the delta's `from` to its `to`, compare-and-set. */
async function moveMark(client: PoolClient, o: ReadModelObjects, delta: ReadModelDelta): Promise<void> {
  const { from, to, config } = delta;
  const moved = await client.query(
    `UPDATE ${o.state} SET build = $1, position = $2, change_seq = $3, config_version = $4, config_fingerprint = $5, time_zone = $6, stages = $7
     WHERE id = 1 AND build = $8 AND position = $9 AND change_seq = $10`,
    [to.build, to.position, to.changeSeq, config?.version ?? null, config?.fingerprint ?? null, config?.timeZone ?? null, config === undefined ? null : JSON.stringify(config.stages), from.build, from.position, from.changeSeq],
  );
  if (moved.rowCount !== 1) throw new MarkMovedError(`the read-model copy in schema ${o.schema} is no longer at ${from.build}@${from.position}: another replicator writes to it`);
}

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

/** The columns of `rows` as one array each, for `unnest($1::type[], ...)`: a statement whatever the number of rows. */
const columnsOf = <R>(rows: readonly R[], names: readonly (keyof R)[]) => names.map((name) => rows.map((r) => r[name] ?? null));

/**
 * Writes a delta's rows (not the mark). With `isolate`, each subject goes in
 * under its own savepoint and one PostgreSQL refuses is recorded in
 * `replica_parked` instead.
 */
async function writeDelta(client: PoolClient, o: ReadModelObjects, delta: ReadModelDelta, isolate: boolean): Promise<void> {
  if (delta.replace) {
    // DELETE, not TRUNCATE: readers keep their snapshot of the old copy until this one commits
    for (const table of [o.leads, o.transitions, o.links, o.counters, o.changes, o.parked, o.replicaParked]) await client.query(`DELETE FROM ${table}`);
  }
  const subjectBatches = isolate ? delta.subjects.map((s) => [s]) : chunks(delta.subjects);
  for (const batch of subjectBatches) {
    if (isolate) await client.query('SAVEPOINT subject');
    try {
      await writeSubjects(client, o, batch);
      if (isolate) await client.query('RELEASE SAVEPOINT subject');
    } catch (err) {
      if (!isolate || isTransient(err)) throw err;
      await client.query('ROLLBACK TO SAVEPOINT subject');
      const { row, changedAt } = batch[0]!;
      await client.query(`INSERT INTO ${o.replicaParked} (position, subject, reason, parked_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, [
        changedAt,
        // the subject is what PostgreSQL refused: keep a printable name of it
        String(row.subject).replaceAll('\u0000', '\\u0000'),
        messageOf(err),
        new Date().toISOString(),
      ]);
    }
  }
  for (const links of chunks(delta.links)) {
    await client.query(
      `INSERT INTO ${o.links} (anonymous_id, lead_id, event_id) SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) ON CONFLICT (anonymous_id) DO NOTHING`,
      columnsOf(links, ['anonymous_id', 'lead_id', 'event_id']),
    );
  }
  if (!delta.replace && delta.days.length > 0) await client.query(`DELETE FROM ${o.counters} WHERE day = ANY($1::text[])`, [delta.days]);
  for (const counters of chunks(delta.counters)) {
    await client.query(
      `INSERT INTO ${o.counters} (day, business_unit, source, from_stage, to_stage, leads, skipped, velocity_ms)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int8[], $7::int8[], $8::int8[])`,
      columnsOf(counters, ['day', 'business_unit', 'source', 'from_stage', 'to_stage', 'leads', 'skipped', 'velocity_ms']),
    );
  }
  for (const parked of chunks(delta.parked)) {
    await client.query(
      `INSERT INTO ${o.parked} (follower, position, event_id, type, reason, parked_at)
       SELECT * FROM unnest($1::text[], $2::int8[], $3::text[], $4::text[], $5::text[], $6::text[]) ON CONFLICT DO NOTHING`,
      columnsOf(parked, ['follower', 'position', 'event_id', 'type', 'reason', 'parked_at']),
    );
  }
  for (const changes of chunks(delta.changes)) {
    await client.query(
      `INSERT INTO ${o.changes} (seq, type, subject, payload) SELECT * FROM unnest($1::int8[], $2::text[], $3::text[], $4::text[]) ON CONFLICT (seq) DO NOTHING`,
      columnsOf(changes, ['seq', 'type', 'subject', 'payload']),
    );
  }
  // the feed's trim, as the projector's file did it
  await client.query(`DELETE FROM ${o.changes} WHERE seq < $1`, [delta.oldestHeldSeq]);
}

/** Each subject's row replaced whole (its columns typed by the table itself), with all its transitions. */
async function writeSubjects(client: PoolClient, o: ReadModelObjects, subjects: ReadModelDelta['subjects']): Promise<void> {
  if (subjects.length === 0) return;
  const rows = subjects.map((s) => ({ ...s.row, changed_at: s.changedAt }));
  await client.query(
    `INSERT INTO ${o.leads} SELECT * FROM json_populate_recordset(NULL::${o.leads}, $1::json)
     ON CONFLICT (subject) DO UPDATE SET ${[...LEAD_COLUMNS.slice(1), 'changed_at'].map((c) => `${c} = EXCLUDED.${c}`).join(', ')}`,
    [JSON.stringify(rows)],
  );
  const names = subjects.map((s) => s.row.subject as string);
  await client.query(`DELETE FROM ${o.transitions} WHERE subject = ANY($1::text[])`, [names]);
  const transitions = subjects.flatMap((s) => s.transitions.map((t) => ({ subject: s.row.subject as string, ...t })));
  if (transitions.length === 0) return;
  await client.query(
    `INSERT INTO ${o.transitions} (subject, to_stage, from_stage, at, skipped, rule, event_id, config_version)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int8[], $5::int8[], $6::text[], $7::text[], $8::text[])`,
    columnsOf(transitions, ['subject', 'to_stage', 'from_stage', 'at', 'skipped', 'rule', 'event_id', 'config_version']),
  );
}
