import type { ClientBase } from 'pg';
import { AppendPlanner } from '@sluice/event-store/support';
import type { AppendRequest, AppendResult } from '@sluice/event-store';
import type { StoreObjects } from './schema.js';
import { toSafeNumber } from './rows.js';

/** Channel every store notifies after an append; the payload is the store's schema. */
export const APPEND_CHANNEL = 'sluice_event_store';

export interface AppendWork {
  results: AppendResult[];
  /** Events actually inserted; subscribers are woken only when > 0. */
  written: number;
}

/** One appendMany call's outcome within a group: its own results, or its own error. */
export type CallOutcome = ({ ok: true } & AppendWork) | { ok: false; error: unknown };

/**
 * Appends several appendMany calls inside the caller's transaction (which must
 * not have written anything yet; the caller commits). Each call succeeds or
 * fails on its own: a call failing its expected revision, or reusing an id
 * with other content, is left out and the others are written. Statements are per group, not per call: one lock, one
 * lookup of ids and stream heads, one position draw, one INSERT.
 *
 * Why every append holds one lock until it commits
 * ------------------------------------------------
 * A reader of the global log remembers the last position it delivered and
 * asks for "position > checkpoint". That is only safe if a position can never
 * become visible after a higher one did. With a plain sequence it can:
 * transaction A takes position 7, transaction B takes 8 and commits first; a
 * reader delivers 8 and checkpoints it, and 7 is skipped forever when A commits.
 *
 * So the first statement of every append takes a transaction-scoped advisory
 * lock for this store (`pg_advisory_xact_lock`), and positions are drawn from
 * the sequence only while it is held. PostgreSQL releases transaction locks
 * after the commit is visible to new snapshots, so the next appender draws its
 * positions only after every lower position is committed (or rolled back,
 * which leaves a hole, never a late arrival). Commit order is position order;
 * readers need no filter and read their own writes.
 *
 * Other approaches we considered:
 * - Emmett's xid filter (store `pg_current_xact_id()` per row, read only rows
 *   below `pg_snapshot_xmin(pg_current_snapshot())`) is exact only when the
 *   log is ordered and checkpointed by (transaction id, position). With plain
 *   position checkpoints it still skips when xid order and position order
 *   disagree: A gets its xid first (an earlier write in its transaction), B
 *   takes position 1, A takes 2 and commits; 2 passes the filter, B's 1 arrives
 *   below the checkpoint. We reproduced that on PostgreSQL 15. Its horizon is
 *   also cluster-wide: any open transaction holding an xid, in any database,
 *   holds every subscriber back, and readAll would not show an append that
 *   has already returned.
 * - The cost of the lock: appends to one store are serialised from their
 *   first statement to their commit. Within a process the store batches
 *   waiting calls into one transaction (group commit), so many small appends
 *   share a lock turn and a commit; across processes writers queue for the
 *   lock instead of scaling. The lock is per store (schema), keyed by a hash:
 *   a collision with another key only adds waiting.
 *
 * Everything else follows from holding the lock: the stream heads and the
 * stored ids read below cannot change before we commit, so the expected
 * revision check and the idempotency check (duplicate or conflict, which
 * compares the stored type and data) need no retries.
 */
export async function appendGroup(
  client: ClientBase,
  objects: StoreObjects,
  calls: readonly (readonly AppendRequest[])[],
): Promise<CallOutcome[]> {
  await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [objects.appendLock]);

  const requests = calls.flat();
  const eventIds = [...new Set(requests.flatMap((request) => request.events.map((event) => event.id)))];
  const streamIds = [...new Set(requests.map((request) => request.streamId))];
  const stored = await client.query<{ event_id: string; position: string; stream_id: string; revision: string; type: string; data: unknown }>(
    `SELECT event_id, position, stream_id, revision, type, data FROM ${objects.events} WHERE event_id = ANY($1::text[])`,
    [eventIds],
  );
  // One backward index seek per stream, rather than max() over whole streams.
  const heads = await client.query<{ stream_id: string; revision: string | null }>(
    `SELECT s.stream_id,
            (SELECT e.revision FROM ${objects.events} e
              WHERE e.stream_id = s.stream_id ORDER BY e.revision DESC LIMIT 1) AS revision
       FROM unnest($1::text[]) AS s(stream_id)`,
    [streamIds],
  );

  const planner = new AppendPlanner(
    new Map(
      stored.rows.map((row) => [
        row.event_id,
        {
          streamId: row.stream_id,
          revision: toSafeNumber(row.revision),
          position: toSafeNumber(row.position),
          type: row.type,
          data: row.data,
        },
      ]),
    ),
    new Map(heads.rows.flatMap((row) => (row.revision === null ? [] : [[row.stream_id, toSafeNumber(row.revision)]]))),
  );
  const planned = calls.map((call) => {
    try {
      return { ok: true as const, plan: planner.plan(call) };
    } catch (error) {
      return { ok: false as const, error };
    }
  });

  const { rows } = planner;
  let positions: number[] = [];
  if (rows.length > 0) {
    // Drawn under the lock, so they are above every committed position; sorted
    // so the call order (and each stream's revision order) is position order.
    const drawn = await client.query<{ position: string }>(
      'SELECT nextval($1::regclass) AS position FROM generate_series(1, $2)',
      [objects.positions, rows.length],
    );
    positions = drawn.rows.map((row) => toSafeNumber(row.position)).sort((a, b) => a - b);
    await client.query(
      `INSERT INTO ${objects.events} (position, stream_id, revision, event_id, type, data, metadata, recorded_at)
       SELECT position, stream_id, revision, event_id, type, data, metadata, statement_timestamp()
         FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::json[], $7::json[])
           AS r(position, stream_id, revision, event_id, type, data, metadata)`,
      [
        positions,
        rows.map((row) => row.streamId),
        rows.map((row) => row.revision),
        rows.map((row) => row.id),
        rows.map((row) => row.type),
        rows.map((row) => row.data),
        rows.map((row) => row.metadata),
      ],
    );
    // Delivered at commit, and only if we commit: other processes' subscribers wake at once.
    await client.query('SELECT pg_notify($1, $2)', [APPEND_CHANNEL, objects.schema]);
  }
  return planned.map((call) =>
    call.ok ? { ok: true, results: call.plan.resolve(positions), written: call.plan.written } : call,
  );
}

/** One call's appendGroup, its error rethrown. */
export async function appendInTransaction(
  client: ClientBase,
  objects: StoreObjects,
  requests: readonly AppendRequest[],
): Promise<AppendWork> {
  const [outcome] = await appendGroup(client, objects, [requests]);
  if (!outcome!.ok) throw outcome!.error;
  return outcome!;
}
