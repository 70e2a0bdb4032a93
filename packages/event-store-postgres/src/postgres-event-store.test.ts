import { dropSchema, resolvePostgres, uniqueSchemaName } from '@sluice/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEventStoreContract } from '@sluice/event-store/contract';
import type { AppendResult, RecordedEvent } from '@sluice/event-store';
import { appendInTransaction } from './append.js';
import { listenerApplicationName } from './listener.js';
import { openPostgresEventStore } from './postgres-event-store.js';
import type { PostgresEventStoreOptions } from './postgres-event-store.js';
import { SCHEMA_VERSION, storeObjects } from './schema.js';

const postgres = await resolvePostgres();
const skipReason = 'skip' in postgres ? postgres.skip : undefined;
if (skipReason) console.warn(`postgres event store tests skipped: ${skipReason}`);
const url = 'url' in postgres ? postgres.url : '';
// a container resolvePostgres started for this file goes with it
afterAll(async () => {
  if ('stop' in postgres) await postgres.stop();
});

/** Every store a test opens gets its own schema, dropped afterwards. */
async function openIsolated(label: string, options: Partial<PostgresEventStoreOptions> = {}) {
  const schema = uniqueSchemaName(label);
  const store = await openPostgresEventStore({ connectionString: url, schema, ...options });
  return {
    schema,
    store,
    cleanup: async () => {
      await store.close();
      await dropSchema(url, schema);
    },
  };
}

function visit(id: string) {
  return { id, type: 'visit', data: { id } };
}

/** Resolves once `seen` holds `count` events. */
function collect(seen: RecordedEvent[], count: number) {
  let reached!: () => void;
  const done = new Promise<void>((resolve) => (reached = resolve));
  return {
    done,
    onBatch: (events: RecordedEvent[]) => {
      seen.push(...events);
      if (seen.length >= count) reached();
    },
  };
}

/** Waits until the store's LISTEN session has run LISTEN (polls pg_stat_activity; no timing assumption). */
async function waitUntilListening(schema: string): Promise<void> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    for (;;) {
      const { rows } = await admin.query(
        `SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND state = 'idle' AND query LIKE 'LISTEN %'`,
        [listenerApplicationName(schema)],
      );
      if (rows.length > 0) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  } finally {
    await admin.end();
  }
}

describe.skipIf(skipReason)('postgres event store', () => {
  describeEventStoreContract('postgres', () => openIsolated('es_contract'));

  describe('ordering under concurrent transactions', () => {
    let admin: pg.Client;
    beforeAll(async () => {
      admin = new pg.Client({ connectionString: url });
      await admin.connect();
    });
    afterAll(async () => {
      await admin.end();
    });

    /** Waits until `count` sessions wait for this store's append lock (polls pg_locks; no timing assumption). */
    async function waitForAppendLockWaiters(schema: string, count: number): Promise<void> {
      for (;;) {
        const { rows } = await admin.query<{ waiting: number }>(
          `SELECT count(*)::int AS waiting
             FROM pg_locks l, (SELECT hashtextextended($1, 0) AS key) k
            WHERE l.locktype = 'advisory' AND NOT l.granted AND l.objsubid = 1
              AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
              AND l.classid::bigint = (k.key >> 32) & 4294967295 AND l.objid::bigint = k.key & 4294967295`,
          [storeObjects(schema).appendLock],
        );
        if (rows[0]!.waiting >= count) return;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }

    it('given an append transaction still open, when a second append commits meanwhile, then it took later positions and a subscriber delivers both in position order', async () => {
      const { schema, store, cleanup } = await openIsolated('es_order');
      const early = new pg.Client({ connectionString: url });
      await early.connect();
      try {
        const seen: RecordedEvent[] = [];
        const { done, onBatch } = collect(seen, 2);
        const subscription = store.subscribe({ after: 0, onBatch });
        await subscription.caughtUp();

        // The first transaction appends through the real append path and stays open.
        await early.query('BEGIN');
        const first = await appendInTransaction(early, storeObjects(schema), [
          { streamId: 'lead-1', events: [visit('first')] },
        ]);
        // A second append starts while the first is uncommitted: it must wait before taking a position.
        const second = store.append({ streamId: 'lead-2', events: [visit('second')] });
        await waitForAppendLockWaiters(schema, 1);
        await subscription.caughtUp();
        expect(seen).toEqual([]);

        await early.query('COMMIT');
        const secondResult = await second;
        await done;

        expect(secondResult.positions[0]).toBeGreaterThan(first.results[0]!.positions[0]!);
        expect(seen.map((e) => [e.id, e.position])).toEqual([
          ['first', first.results[0]!.positions[0]],
          ['second', secondResult.positions[0]],
        ]);
        await subscription.stop();
      } finally {
        await early.end();
        await cleanup();
      }
    });

    it('given an append transaction that rolls back, when a waiting append then commits, then the subscriber skips nothing and sees only the committed event', async () => {
      const { schema, store, cleanup } = await openIsolated('es_rollback');
      const doomed = new pg.Client({ connectionString: url });
      await doomed.connect();
      try {
        const seen: RecordedEvent[] = [];
        const { done, onBatch } = collect(seen, 1);
        const subscription = store.subscribe({ after: 0, onBatch });

        await doomed.query('BEGIN');
        const rolledBack = await appendInTransaction(doomed, storeObjects(schema), [
          { streamId: 'lead-1', events: [visit('rolled-back')] },
        ]);
        const kept = store.append({ streamId: 'lead-1', events: [visit('kept')], expectedRevision: 'no_stream' });
        await waitForAppendLockWaiters(schema, 1);
        await doomed.query('ROLLBACK');
        const keptResult = await kept;
        await done;

        // The rolled-back position is a hole, never reused and never delivered.
        expect(keptResult.positions[0]).toBeGreaterThan(rolledBack.results[0]!.positions[0]!);
        expect(seen.map((e) => [e.id, e.revision])).toEqual([['kept', 0]]);
        await subscription.caughtUp();
        await subscription.stop();
      } finally {
        await doomed.end();
        await cleanup();
      }
    });

    it('when several instances append concurrently while another tails the log, then it delivers every event once, in position order', async () => {
      const { schema, store: reader, cleanup } = await openIsolated('es_writers');
      const writers = await Promise.all(
        Array.from({ length: 3 }, () => openPostgresEventStore({ connectionString: url, schema })),
      );
      try {
        const seen: RecordedEvent[] = [];
        const subscription = reader.subscribe({ after: 0, batchSize: 17, onBatch: (events) => void seen.push(...events) });

        await Promise.all(
          writers.map(async (writer, w) => {
            for (let i = 0; i < 20; i++) {
              await writer.appendMany([
                { streamId: `lead-${w}`, events: [visit(`w${w}-${i}-a`), visit(`w${w}-${i}-b`)] },
                { streamId: `shared-${i % 3}`, events: [visit(`w${w}-${i}-shared`)] },
              ]);
            }
          }),
        );
        await subscription.caughtUp();
        await subscription.stop();

        const log = await reader.readAll();
        expect(log).toHaveLength(3 * 20 * 3);
        expect(seen.map((e) => e.position)).toEqual(log.map((e) => e.position));
        // Shared streams written by every instance still have revisions 0..n-1 in log order.
        for (let s = 0; s < 3; s++) {
          const revisions = log.filter((e) => e.streamId === `shared-${s}`).map((e) => e.revision);
          expect(revisions).toEqual(revisions.map((_, i) => i));
        }
      } finally {
        await Promise.all(writers.map((writer) => writer.close()));
        await cleanup();
      }
    });
  });

  describe('adapter specifics', () => {
    it('when another instance appends, then a subscriber is woken by NOTIFY, not by its poll', async () => {
      // An hour-long poll: if NOTIFY did not wake the subscription, this test would time out.
      const { schema, store: server, cleanup } = await openIsolated('es_notify', { pollIntervalMs: 3_600_000 });
      const importer = await openPostgresEventStore({ connectionString: url, schema });
      try {
        const seen: RecordedEvent[] = [];
        const { done, onBatch } = collect(seen, 2);
        server.subscribe({ after: 0, onBatch });
        // Append only once LISTEN is in effect, so the wake-up on connecting cannot be what delivers.
        await waitUntilListening(schema);

        await importer.appendMany([
          { streamId: 'lead-1', events: [visit('imported-1')] },
          { streamId: 'lead-2', events: [visit('imported-2')] },
        ]);
        // No caughtUp() here: it would wake the loop itself.
        await done;

        expect(seen.map((e) => e.id)).toEqual(['imported-1', 'imported-2']);
      } finally {
        await importer.close();
        await cleanup();
      }
    });

    it('when concurrent appends share one group commit, then a conflicting call fails alone and the others are written', async () => {
      const { store, cleanup } = await openIsolated('es_group');
      try {
        await store.append({ streamId: 'lead-1', events: [visit('seed')] });

        // issued in the same turn of the event loop: they commit together
        const outcomes = await Promise.allSettled([
          store.append({ streamId: 'lead-1', events: [visit('a')], expectedRevision: 0 }),
          store.appendMany([
            { streamId: 'lead-3', events: [visit('lost')] },
            { streamId: 'lead-1', events: [visit('b')], expectedRevision: 0 }, // stale after 'a'
          ]),
          store.append({ streamId: 'lead-2', events: [visit('c'), visit('a')], expectedRevision: 'no_stream' }),
        ]);

        expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
        expect((outcomes[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'WRONG_EXPECTED_REVISION', actual: 1 });
        const [a, , c] = outcomes as PromiseFulfilledResult<AppendResult>[];
        // 'a' in the third call is a duplicate of the first call's event, with its position
        expect(c!.value).toMatchObject({ duplicate: [false, true], positions: [c!.value.positions[0], a!.value.positions[0]] });
        expect((await store.readAll()).map((e) => [e.id, e.streamId, e.revision])).toEqual([
          ['seed', 'lead-1', 0],
          ['a', 'lead-1', 1],
          ['c', 'lead-2', 0],
        ]);
      } finally {
        await cleanup();
      }
    });

    it('when one call of a group cannot be stored (NUL in an id), then it fails alone and its neighbours are written', async () => {
      const { store, cleanup } = await openIsolated('es_group_bad');
      try {
        const outcomes = await Promise.allSettled([
          store.append({ streamId: 'lead-1', events: [visit('before')] }),
          store.append({ streamId: 'lead-1', events: [visit('bad\u0000id')] }),
          store.append({ streamId: 'lead-2', events: [visit('after')] }),
        ]);

        expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
        expect((await store.readAll()).map((e) => e.id)).toEqual(['before', 'after']);
      } finally {
        await cleanup();
      }
    });

    it('when data has key order, unicode and a NUL character, then it reads back exactly as written', async () => {
      const { store, cleanup } = await openIsolated('es_json');
      try {
        const data = { z: 1, a: { y: [true, null, 1.5e300], b: 'naïve 🚀' }, nul: 'a\u0000b', big: 2 ** 53 - 1 };
        await store.append({ streamId: 'lead-1', events: [{ id: 'e', type: 'visit', data, metadata: { m: 'x' } }] });

        const [event] = await store.readAll();
        expect(JSON.stringify(event!.data)).toBe(JSON.stringify(data));
        expect(event!.metadata).toEqual({ m: 'x' });
      } finally {
        await cleanup();
      }
    });

    it('when two instances open the same new schema at once, then it is created once and both work', async () => {
      const schema = uniqueSchemaName('es_open_race');
      const stores = await Promise.all(
        Array.from({ length: 4 }, () => openPostgresEventStore({ connectionString: url, schema })),
      );
      try {
        await stores[0]!.append({ streamId: 'lead-1', events: [visit('a')] });
        expect((await stores[3]!.readAll()).map((e) => e.id)).toEqual(['a']);
      } finally {
        await Promise.all(stores.map((store) => store.close()));
        await dropSchema(url, schema);
      }
    });

    it('given a schema from a newer version, then opening fails instead of guessing', async () => {
      const { schema, store, cleanup } = await openIsolated('es_newer');
      await store.close();
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      try {
        await admin.query(`UPDATE ${storeObjects(schema).version} SET version = $1`, [SCHEMA_VERSION + 1]);
        await expect(openPostgresEventStore({ connectionString: url, schema })).rejects.toThrow(/newer than this build/);
      } finally {
        await admin.end();
        await cleanup();
      }
    });

    it('when the store is closed with an append in flight, then the append settles first', async () => {
      const { store, cleanup } = await openIsolated('es_close');
      try {
        const pending = store.append({ streamId: 'lead-1', events: [visit('late')] });
        await store.close();
        await expect(pending).resolves.toMatchObject({ duplicates: 0 });
        await expect(store.append({ streamId: 'lead-1', events: [visit('after')] })).rejects.toThrow(/closed/);
      } finally {
        await cleanup();
      }
    });
  });
});
