// The EventStoreDB adapter against a real server: EVENTSTORE_URL, else a
// container when a Docker engine answers, else skipped with the reason printed
// (our machines have neither). Every store a test opens gets its own namespace.
import { randomBytes } from 'node:crypto';
import { EventStoreDBClient, NO_STREAM, jsonEvent } from '@eventstore/db-client';
import { resolveEventStoreDb } from '@sluice/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEventStoreContract } from '@sluice/event-store/contract';
import type { RecordedEvent } from '@sluice/event-store';
import { openEventStoreDbEventStore } from './eventstoredb-event-store.js';
import { ID_CLAIM_TYPE, StreamNames } from './mapping.js';
import type { IdClaim } from './mapping.js';

const server = await resolveEventStoreDb();
const skipReason = 'skip' in server ? server.skip : undefined;
if (skipReason) console.warn(`EventStoreDB event store tests skipped: ${skipReason}`);
const connectionString = 'connectionString' in server ? server.connectionString : '';
// a container resolveEventStoreDb started for this file goes with it
afterAll(async () => {
  if ('stop' in server) await server.stop();
});

async function openIsolated(label: string) {
  const namespace = `${label}_${process.pid}_${randomBytes(4).toString('hex')}`;
  const store = await openEventStoreDbEventStore({ connectionString, namespace });
  return { namespace, store, cleanup: () => store.close() };
}

function visit(id: string) {
  return { id, type: 'visit', data: { id } };
}

describe.skipIf(skipReason)('EventStoreDB event store', () => {
  describeEventStoreContract('eventstoredb', () => openIsolated('contract'));

  describe('id claims', () => {
    let client: EventStoreDBClient;
    beforeAll(() => {
      client = EventStoreDBClient.connectionString(connectionString);
    });
    afterAll(async () => {
      await client.dispose();
    });

    /** What an append that died between claiming and writing leaves behind. */
    async function leaveClaim(namespace: string, claim: IdClaim): Promise<void> {
      await client.appendToStream(new StreamNames(namespace).idStream(claim.id), jsonEvent({ type: ID_CLAIM_TYPE, data: claim }), {
        expectedRevision: NO_STREAM,
      });
    }

    it('given a claim left by an append that died before writing, when the same append is retried, then it adopts the claim and writes the events once', async () => {
      const { namespace, store, cleanup } = await openIsolated('adopt');
      try {
        await leaveClaim(namespace, { id: 'a', streamId: 'lead-1', revision: 0 });

        const result = await store.append({ streamId: 'lead-1', events: [visit('a'), visit('b')], expectedRevision: 'no_stream' });

        expect(result.duplicate).toEqual([false, false]);
        expect((await store.readStream('lead-1')).map((e) => [e.id, e.revision])).toEqual([
          ['a', 0],
          ['b', 1],
        ]);
        const retry = await store.append({ streamId: 'lead-1', events: [visit('a'), visit('b')], expectedRevision: 'no_stream' });
        expect(retry).toMatchObject({ positions: result.positions, duplicate: [true, true], nextExpectedRevision: 1 });
      } finally {
        await cleanup();
      }
    });

    it('given such a claim, when the id is appended to another stream, then it is in flight until the claimed stream moves past the claimed revision', async () => {
      const { namespace, store, cleanup } = await openIsolated('in_flight');
      try {
        await leaveClaim(namespace, { id: 'a', streamId: 'lead-1', revision: 0 });

        await expect(store.append({ streamId: 'lead-2', events: [visit('a')] })).rejects.toMatchObject({
          code: 'EVENT_ID_IN_FLIGHT',
          eventId: 'a',
          claim: { streamId: 'lead-1', revision: 0 },
        });
        expect(await store.readAll()).toEqual([]);

        // Another event takes lead-1's revision 0: the dead append can never land, so its claim is void.
        await store.append({ streamId: 'lead-1', events: [visit('b')] });
        const result = await store.append({ streamId: 'lead-2', events: [visit('a')] });

        expect(result.duplicate).toEqual([false]);
        expect((await store.readAll()).map((e) => [e.id, e.streamId])).toEqual([
          ['b', 'lead-1'],
          ['a', 'lead-2'],
        ]);
      } finally {
        await cleanup();
      }
    });

    it('when the same request is appended concurrently, then its events are stored once and both calls report the same positions', async () => {
      const { store, cleanup } = await openIsolated('race');
      try {
        const request = { streamId: 'lead-1', events: [visit('a'), visit('b')] };
        const [first, second] = await Promise.all([store.append(request), store.append(request)]);

        expect(second.positions).toEqual(first.positions);
        expect((await store.readAll()).map((e) => [e.id, e.revision])).toEqual([
          ['a', 0],
          ['b', 1],
        ]);
      } finally {
        await cleanup();
      }
    });

    it('when two writers race the same id into different streams, then exactly one stream gets it and the other call reports it as a duplicate or in flight', async () => {
      const { store, cleanup } = await openIsolated('cross_race');
      try {
        const outcomes = await Promise.allSettled([
          store.append({ streamId: 'lead-1', events: [visit('a')] }),
          store.append({ streamId: 'lead-2', events: [visit('a')] }),
        ]);

        expect((await store.readAll()).map((e) => e.id)).toEqual(['a']);
        const written = outcomes.filter((o) => o.status === 'fulfilled' && !o.value.duplicate[0]);
        expect(written).toHaveLength(1);
        for (const outcome of outcomes) {
          if (outcome.status === 'rejected') expect(outcome.reason).toMatchObject({ code: 'EVENT_ID_IN_FLIGHT' });
        }
      } finally {
        await cleanup();
      }
    });
  });

  describe('lifecycle', () => {
    it('when the store is closed with an append in flight, then the append settles first and later ones are refused', async () => {
      const { store, cleanup } = await openIsolated('close');
      try {
        const pending = store.append({ streamId: 'lead-1', events: [visit('late')] });
        await store.close();
        await expect(pending).resolves.toMatchObject({ duplicates: 0 });
        await expect(store.append({ streamId: 'lead-1', events: [visit('after')] })).rejects.toThrow(/closed/);
      } finally {
        await cleanup();
      }
    });

    it('when the namespace could blur stream prefixes, then opening fails before connecting', async () => {
      await expect(openEventStoreDbEventStore({ connectionString, namespace: 'a:b' })).rejects.toThrow(RangeError);
    });
  });

  describe('namespaces', () => {
    it('when two stores share the server, then neither reads, counts nor receives the other one’s events', async () => {
      const one = await openIsolated('one');
      const other = await openIsolated('other');
      try {
        const seen: RecordedEvent[] = [];
        const subscription = one.store.subscribe({ after: 0, onBatch: (events) => void seen.push(...events) });
        await other.store.append({ streamId: 'lead-1', events: [visit('theirs')] });
        await one.store.append({ streamId: 'lead-1', events: [visit('ours')] });
        await subscription.caughtUp();
        await subscription.stop();

        expect(seen.map((e) => e.id)).toEqual(['ours']);
        expect((await one.store.readAll()).map((e) => e.id)).toEqual(['ours']);
        expect(await one.store.headPosition()).toBe(seen[0]!.position);
        // The same id is a separate event in another store.
        expect((await other.store.append({ streamId: 'lead-2', events: [visit('ours')] })).duplicate).toEqual([false]);
      } finally {
        await one.cleanup();
        await other.cleanup();
      }
    });
  });
});
