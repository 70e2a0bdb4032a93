import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { describeEventStoreContract } from '../contract/event-store-contract.js';
import { SCHEMA_VERSION } from './schema.js';
import { openSqliteEventStore } from './sqlite-event-store.js';

async function withTempDir<T>(use: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-event-store-'));
  try {
    return await use(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describeEventStoreContract('sqlite (file)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-event-store-'));
  const store = await openSqliteEventStore({ path: join(dir, 'events.db') });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

describeEventStoreContract('sqlite (:memory:)', async () => {
  const store = await openSqliteEventStore({ path: ':memory:' });
  return { store, cleanup: () => store.close() };
});

describe('sqlite event store file', () => {
  it('when opened, then the file is in WAL mode with full sync and the current schema version', () =>
    withTempDir(async (dir) => {
      const path = join(dir, 'events.db');
      const store = await openSqliteEventStore({ path });
      await store.close();

      const db = new Database(path, { readonly: true });
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      db.close();
    }));

  it('when reopened, then the events are still there and positions continue', () =>
    withTempDir(async (dir) => {
      const path = join(dir, 'events.db');
      const first = await openSqliteEventStore({ path });
      const before = await first.append({ streamId: 'lead-1', events: [{ id: 'a', type: 'visit', data: {} }] });
      await first.close();

      const second = await openSqliteEventStore({ path });
      const after = await second.append({ streamId: 'lead-1', events: [{ id: 'b', type: 'visit', data: {} }] });
      expect(after.nextExpectedRevision).toBe(1);
      expect(after.positions[0]).toBeGreaterThan(before.positions[0]!);
      expect((await second.readStream('lead-1')).map((e) => e.id)).toEqual(['a', 'b']);
      await second.close();
    }));

  it('given a file from a newer schema version, then opening fails instead of guessing', () =>
    withTempDir(async (dir) => {
      const path = join(dir, 'events.db');
      const db = new Database(path);
      db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
      db.close();

      await expect(openSqliteEventStore({ path })).rejects.toThrow(/newer than this build/);
    }));

  it('when a second instance (as another process would) appends, then a live subscription of the first sees it by polling', () =>
    withTempDir(async (dir) => {
      const path = join(dir, 'events.db');
      const server = await openSqliteEventStore({ path, pollIntervalMs: 20 });
      const importer = await openSqliteEventStore({ path });
      const seen: string[] = [];
      let sawBoth!: () => void;
      const bothSeen = new Promise<void>((resolve) => (sawBoth = resolve));
      const subscription = server.subscribe({
        after: 0,
        onBatch: (events) => {
          seen.push(...events.map((e) => e.id));
          if (seen.length >= 2) sawBoth();
        },
      });
      await subscription.caughtUp();

      await importer.appendMany([
        { streamId: 'lead-1', events: [{ id: 'imported-1', type: 'visit', data: {} }] },
        { streamId: 'lead-2', events: [{ id: 'imported-2', type: 'visit', data: {} }] },
      ]);
      // No caughtUp() here: it would wake the loop itself; only the poll can notice another instance's append.
      await bothSeen;

      expect(seen).toEqual(['imported-1', 'imported-2']);
      await importer.close();
      await server.close();
    }));

  it('when concurrent appends share one group commit, then a conflicting call fails alone and the others are durable', () =>
    withTempDir(async (dir) => {
      const path = join(dir, 'events.db');
      const store = await openSqliteEventStore({ path });
      await store.append({ streamId: 'lead-1', events: [{ id: 'seed', type: 'visit', data: {} }] });
      const event = (id: string) => ({ id, type: 'visit', data: { id } });

      // issued in the same turn of the event loop: they commit together
      const outcomes = await Promise.allSettled([
        store.append({ streamId: 'lead-1', events: [event('a')], expectedRevision: 0 }),
        store.append({ streamId: 'lead-1', events: [event('b')], expectedRevision: 0 }), // stale after 'a'
        store.append({ streamId: 'lead-2', events: [event('c')], expectedRevision: 'no_stream' }),
      ]);

      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect((outcomes[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'WRONG_EXPECTED_REVISION', actual: 1 });
      await store.close();
      const reopened = await openSqliteEventStore({ path });
      expect((await reopened.readAll()).map((e) => e.id)).toEqual(['seed', 'a', 'c']);
      await reopened.close();
    }));

  it('when the store closes with appends pending, then they are committed first', () =>
    withTempDir(async (dir) => {
      const path = join(dir, 'events.db');
      const store = await openSqliteEventStore({ path });
      const pending = store.append({ streamId: 'lead-1', events: [{ id: 'late', type: 'visit', data: {} }] });
      await store.close();
      await expect(pending).resolves.toMatchObject({ positions: [1] });
      const reopened = await openSqliteEventStore({ path });
      expect(await reopened.headPosition()).toBe(1);
      await reopened.close();
    }));
});
