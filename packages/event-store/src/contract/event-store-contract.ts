import { setImmediate as nextMacrotask } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConcurrencyError, EventIdConflictError } from '../port.js';
import type { EventIdConflict, EventStore, ExpectedRevision, NewEvent, RecordedEvent } from '../port.js';

export interface OpenedEventStore {
  store: EventStore;
  /** Closes the store and removes whatever open() created. */
  cleanup: () => Promise<void>;
}

/**
 * The behaviour every EventStore adapter must show (see port.ts for the rules).
 * `open` is called before each test and must return an EMPTY store that no
 * other test shares (a fresh file, database or schema, or a truncated one).
 */
export function describeEventStoreContract(adapterName: string, open: () => Promise<OpenedEventStore>): void {
  describe(`EventStore contract: ${adapterName}`, () => {
    let store: EventStore;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ store, cleanup } = await open());
    });
    afterEach(async () => {
      await cleanup();
    });

    describe('append and read back', () => {
      it('given an empty store, then the head is 0 and every read is empty', async () => {
        expect(await store.headPosition()).toBe(0);
        expect(await store.readAll()).toEqual([]);
        expect(await store.readStream('lead-1')).toEqual([]);
      });

      it('when events are appended, then they read back as written, with revisions from 0 and increasing positions', async () => {
        const data = { url: '/pricing', nested: { list: [1, 'two', null], flag: true } };
        const result = await store.append({
          streamId: 'lead-1',
          events: [
            { id: 'e1', type: 'visit', data, metadata: { source: 'tracker' } },
            { id: 'e2', type: 'form_submitted', data: null },
          ],
        });

        expect(result.streamId).toBe('lead-1');
        expect(result.nextExpectedRevision).toBe(1);
        expect(result.duplicates).toBe(0);
        expectStrictlyIncreasing(result.positions);
        expect(result.positions[0]).toBeGreaterThanOrEqual(1);

        const stream = await store.readStream('lead-1');
        expect(stream.map(({ recordedAt: _recordedAt, ...rest }) => rest)).toEqual([
          { position: result.positions[0], streamId: 'lead-1', revision: 0, id: 'e1', type: 'visit', data, metadata: { source: 'tracker' } },
          { position: result.positions[1], streamId: 'lead-1', revision: 1, id: 'e2', type: 'form_submitted', data: null },
        ]);
        expect(stream[1]!.metadata).toBeUndefined();
        for (const event of stream) expect(new Date(event.recordedAt).toISOString()).toBe(event.recordedAt);
        expect(await store.readAll()).toEqual(stream);
        expect(await store.headPosition()).toBe(result.positions[1]);
      });

      it('when a stream is appended to again, then revisions continue and positions keep increasing across streams', async () => {
        const first = await store.append({ streamId: 'lead-1', events: [event('a1'), event('a2')] });
        const other = await store.append({ streamId: 'lead-2', events: [event('b1')] });
        const second = await store.append({ streamId: 'lead-1', events: [event('a3')] });

        expect([first.nextExpectedRevision, other.nextExpectedRevision, second.nextExpectedRevision]).toEqual([1, 0, 2]);
        expectStrictlyIncreasing([...first.positions, ...other.positions, ...second.positions]);
        expect((await store.readStream('lead-1')).map((e) => [e.id, e.revision])).toEqual([
          ['a1', 0],
          ['a2', 1],
          ['a3', 2],
        ]);
        expect((await store.readStream('lead-2')).map((e) => [e.id, e.revision])).toEqual([['b1', 0]]);
      });
    });

    describe('expected revision', () => {
      it("given no stream, then 'no_stream' and 'any' succeed and 'stream_exists' fails with actual 'no_stream'", async () => {
        await expectConcurrencyError(
          store.append({ streamId: 'lead-1', events: [event('x')], expectedRevision: 'stream_exists' }),
          { streamId: 'lead-1', expected: 'stream_exists', actual: 'no_stream' },
        );
        expect(await store.headPosition()).toBe(0);

        const created = await store.append({ streamId: 'lead-1', events: [event('a')], expectedRevision: 'no_stream' });
        expect(created.nextExpectedRevision).toBe(0);
        const viaAny = await store.append({ streamId: 'lead-2', events: [event('b')], expectedRevision: 'any' });
        expect(viaAny.nextExpectedRevision).toBe(0);
      });

      it("given a stream at revision 1, then 'no_stream' fails with the actual revision and 'stream_exists' succeeds", async () => {
        await store.append({ streamId: 'lead-1', events: [event('a'), event('b')] });
        const head = await store.headPosition();

        await expectConcurrencyError(
          store.append({ streamId: 'lead-1', events: [event('c')], expectedRevision: 'no_stream' }),
          { streamId: 'lead-1', expected: 'no_stream', actual: 1 },
        );
        expect(await store.headPosition()).toBe(head);

        const result = await store.append({ streamId: 'lead-1', events: [event('c')], expectedRevision: 'stream_exists' });
        expect(result.nextExpectedRevision).toBe(2);
      });

      it('given a stream at revision 1, then expecting 1 succeeds and a stale number fails and writes nothing', async () => {
        await store.append({ streamId: 'lead-1', events: [event('a'), event('b')] });

        const result = await store.append({ streamId: 'lead-1', events: [event('c')], expectedRevision: 1 });
        expect(result.nextExpectedRevision).toBe(2);

        const head = await store.headPosition();
        await expectConcurrencyError(
          store.append({ streamId: 'lead-1', events: [event('d'), event('e')], expectedRevision: 1 }),
          { streamId: 'lead-1', expected: 1, actual: 2 },
        );
        expect(await store.headPosition()).toBe(head);
        expect((await store.readStream('lead-1')).map((e) => e.id)).toEqual(['a', 'b', 'c']);
      });

      it('given no stream, then a numeric expectation fails with actual no_stream', async () => {
        await expectConcurrencyError(store.append({ streamId: 'lead-1', events: [event('a')], expectedRevision: 0 }), {
          streamId: 'lead-1',
          expected: 0,
          actual: 'no_stream',
        });
      });

      it("when no expectation is given, then it behaves as 'any'", async () => {
        await store.append({ streamId: 'lead-1', events: [event('a')] });
        const result = await store.append({ streamId: 'lead-1', events: [event('b')] });
        expect(result.nextExpectedRevision).toBe(1);
      });
    });

    describe('idempotency by event id', () => {
      it('when an append is retried, then it returns the original positions, writes nothing and ignores the now-stale expectation', async () => {
        const request = { streamId: 'lead-1', events: [event('a'), event('b')], expectedRevision: 'no_stream' as const };
        const original = await store.append(request);
        await store.append({ streamId: 'lead-1', events: [event('c')] });
        const head = await store.headPosition();

        const retry = await store.append(request);

        expect(retry).toEqual({
          streamId: 'lead-1',
          nextExpectedRevision: original.nextExpectedRevision,
          positions: original.positions,
          duplicates: 2,
          duplicate: [true, true],
        });
        expect(await store.headPosition()).toBe(head);
        expect((await store.readStream('lead-1')).map((e) => e.id)).toEqual(['a', 'b', 'c']);
      });

      it('when an event id already stored in another stream is appended, then it is a duplicate with its original position', async () => {
        const original = await store.append({ streamId: 'lead-1', events: [event('a')] });

        const result = await store.append({ streamId: 'lead-2', events: [event('a')], expectedRevision: 'no_stream' });

        expect(result.positions).toEqual(original.positions);
        expect(result.duplicates).toBe(1);
        expect(await store.readStream('lead-2')).toEqual([]);
        expect((await store.readAll()).map((e) => e.id)).toEqual(['a']);
      });

      it('when one request repeats an id, then it is stored once and both slots carry its position', async () => {
        const result = await store.append({ streamId: 'lead-1', events: [event('a'), event('b'), event('a')] });

        expect(result.duplicates).toBe(1);
        expect(result.duplicate).toEqual([false, false, true]);
        expect(result.positions[2]).toBe(result.positions[0]);
        expect(result.nextExpectedRevision).toBe(1);
        expect((await store.readStream('lead-1')).map((e) => [e.id, e.revision])).toEqual([
          ['a', 0],
          ['b', 1],
        ]);
      });

      it('when a request mixes stored and new events, then the expectation is checked for the new ones', async () => {
        const original = await store.append({ streamId: 'lead-1', events: [event('a')] });
        const head = await store.headPosition();

        await expectConcurrencyError(
          store.append({ streamId: 'lead-1', events: [event('a'), event('b')], expectedRevision: 'no_stream' }),
          { streamId: 'lead-1', expected: 'no_stream', actual: 0 },
        );
        expect(await store.headPosition()).toBe(head);

        const result = await store.append({ streamId: 'lead-1', events: [event('a'), event('b')], expectedRevision: 0 });
        expect(result.duplicates).toBe(1);
        expect(result.duplicate).toEqual([true, false]);
        expect(result.positions[0]).toBe(original.positions[0]);
        expect(result.nextExpectedRevision).toBe(1);
        expect((await store.readStream('lead-1')).map((e) => [e.id, e.revision])).toEqual([
          ['a', 0],
          ['b', 1],
        ]);
      });
    });

    describe('same id, different content', () => {
      it('when a retry carries the same type and data with keys in another order and other metadata, then it is a duplicate with the original position', async () => {
        const original = await store.append({
          streamId: 'lead-1',
          events: [{ id: 'pay-1', type: 'payment', data: { amount: 100, currency: 'EUR', lines: [{ sku: 'a', qty: 1 }] }, metadata: { try: 1 } }],
        });

        const retry = await store.append({
          streamId: 'lead-1',
          events: [{ id: 'pay-1', type: 'payment', data: { lines: [{ qty: 1, sku: 'a' }], currency: 'EUR', amount: 100 }, metadata: { try: 2 } }],
        });

        expect(retry.duplicate).toEqual([true]);
        expect(retry.positions).toEqual(original.positions);
        expect((await store.readAll()).map((e) => [e.id, e.data, e.metadata])).toEqual([
          ['pay-1', { amount: 100, currency: 'EUR', lines: [{ sku: 'a', qty: 1 }] }, { try: 1 }],
        ]);
      });

      it('when a stored id comes again with other data, then the append fails with EventIdConflictError naming it, and nothing of the request is written', async () => {
        await store.append({ streamId: 'lead-1', events: [{ id: 'pay-1', type: 'payment', data: { amount: 100 } }] });
        const head = await store.headPosition();

        const err = await failureOf(
          store.append({ streamId: 'lead-1', events: [event('new-1'), { id: 'pay-1', type: 'payment', data: { amount: 120 } }, event('new-2')] }),
        );

        expectConflicts(err, [{ id: 'pay-1', requestIndex: 0, eventIndex: 1 }]);
        expect(await store.headPosition()).toBe(head);
        expect((await store.readAll()).map((e) => [e.id, e.data])).toEqual([['pay-1', { amount: 100 }]]);
      });

      it('when a stored id comes again with another type, or in another stream with other data, then each is a conflict', async () => {
        await store.append({ streamId: 'lead-1', events: [event('a'), event('b')] });
        const head = await store.headPosition();

        const err = await failureOf(
          store.append({ streamId: 'lead-2', events: [{ ...event('a'), type: 'form_submitted' }, { ...event('b'), data: { id: 'b', more: true } }] }),
        );

        expectConflicts(err, [
          { id: 'a', requestIndex: 0, eventIndex: 0 },
          { id: 'b', requestIndex: 0, eventIndex: 1 },
        ]);
        expect(await store.headPosition()).toBe(head);
        expect(await store.readStream('lead-2')).toEqual([]);
      });

      it('when one request repeats an id with other data, then it is a conflict with the first occurrence and nothing is written', async () => {
        const err = await failureOf(
          store.append({ streamId: 'lead-1', events: [event('a'), { ...event('b'), data: { v: 1 } }, { ...event('b'), data: { v: 2 } }] }),
        );

        expectConflicts(err, [{ id: 'b', requestIndex: 0, eventIndex: 2, earlier: { requestIndex: 0, eventIndex: 1 } }]);
        expect(await store.headPosition()).toBe(0);
      });

      it('when two requests of one appendMany carry an id with different data, then the call fails before writing any request', async () => {
        await store.append({ streamId: 'lead-9', events: [event('seed')] });
        const head = await store.headPosition();

        const err = await failureOf(
          store.appendMany([
            { streamId: 'lead-1', events: [event('a1'), { ...event('x'), data: { v: 1 } }] },
            { streamId: 'lead-2', events: [{ ...event('x'), data: { v: 2 } }, event('b1')] },
          ]),
        );

        expectConflicts(err, [{ id: 'x', requestIndex: 1, eventIndex: 0, earlier: { requestIndex: 0, eventIndex: 1 } }]);
        expect(await store.headPosition()).toBe(head);
        expect(await store.readStream('lead-1')).toEqual([]);
      });

      it('when one request repeats an id with the same data in another key order, then it is stored once', async () => {
        const result = await store.append({
          streamId: 'lead-1',
          events: [
            { id: 'a', type: 'visit', data: { url: '/x', ref: 'g' } },
            { id: 'a', type: 'visit', data: { ref: 'g', url: '/x' } },
          ],
        });

        expect(result.duplicate).toEqual([false, true]);
        expect(result.positions[1]).toBe(result.positions[0]);
        expect((await store.readAll()).map((e) => e.id)).toEqual(['a']);
      });

      it('when a call both conflicts and fails its expected revision, then the conflict is what it reports', async () => {
        await store.append({ streamId: 'lead-1', events: [event('a')] });

        const err = await failureOf(
          store.append({ streamId: 'lead-1', events: [event('b'), { ...event('a'), data: 'changed' }], expectedRevision: 'no_stream' }),
        );

        expectConflicts(err, [{ id: 'a', requestIndex: 0, eventIndex: 1 }]);
      });

      it('when concurrent calls include a conflicting one, then it fails alone and the others are written', async () => {
        await store.append({ streamId: 'lead-1', events: [event('a')] });

        const [before, conflicting, after] = await Promise.allSettled([
          store.append({ streamId: 'lead-2', events: [event('b')] }),
          store.append({ streamId: 'lead-3', events: [event('c'), { ...event('a'), data: 'changed' }] }),
          store.append({ streamId: 'lead-4', events: [event('d'), event('a')] }),
        ]);

        expect([before.status, after.status]).toEqual(['fulfilled', 'fulfilled']);
        expectConflicts(conflicting.status === 'rejected' ? conflicting.reason : undefined, [{ id: 'a', requestIndex: 0, eventIndex: 1 }]);
        expect((await store.readAll()).map((e) => e.id).sort()).toEqual(['a', 'b', 'd']);
      });
    });

    describe('appendMany', () => {
      it('when several streams are appended at once, then each result matches its request in order', async () => {
        const results = await store.appendMany([
          { streamId: 'lead-1', events: [event('a1'), event('a2')], expectedRevision: 'no_stream' },
          { streamId: 'lead-2', events: [event('b1')] },
          // the same stream again sees the first request's events
          { streamId: 'lead-1', events: [event('a3')], expectedRevision: 1 },
        ]);

        expect(results.map((r) => [r.streamId, r.nextExpectedRevision, r.positions.length, r.duplicates])).toEqual([
          ['lead-1', 1, 2, 0],
          ['lead-2', 0, 1, 0],
          ['lead-1', 2, 1, 0],
        ]);
        expectStrictlyIncreasing(results.flatMap((r) => r.positions));
        expect((await store.readAll()).map((e) => e.id)).toEqual(['a1', 'a2', 'b1', 'a3']);
      });

      it('when the whole batch is retried, then every event is a duplicate and nothing is written', async () => {
        const batch = [
          { streamId: 'lead-1', events: [event('a1')], expectedRevision: 'no_stream' as const },
          { streamId: 'lead-2', events: [event('b1'), event('b2')], expectedRevision: 'no_stream' as const },
        ];
        const original = await store.appendMany(batch);
        const head = await store.headPosition();

        const retry = await store.appendMany(batch);

        expect(original.flatMap((r) => r.duplicate)).toEqual([false, false, false]);
        expect(retry).toEqual(original.map((r) => ({ ...r, duplicates: r.positions.length, duplicate: r.positions.map(() => true) })));
        expect(await store.headPosition()).toBe(head);
      });

      it('when one request fails its expectation, then no request of the batch is written (atomic adapters)', async (context) => {
        if (!store.capabilities.atomicMultiStreamAppend) {
          const reason = `${adapterName} does not claim atomicMultiStreamAppend`;
          console.warn(`skipped: ${reason}`);
          context.skip(reason);
        }
        await store.append({ streamId: 'lead-2', events: [event('b1')] });
        const head = await store.headPosition();

        await expectConcurrencyError(
          store.appendMany([
            { streamId: 'lead-1', events: [event('a1')] },
            { streamId: 'lead-2', events: [event('b2')], expectedRevision: 'no_stream' },
            { streamId: 'lead-3', events: [event('c1')] },
          ]),
          { streamId: 'lead-2', expected: 'no_stream', actual: 0 },
        );

        expect(await store.headPosition()).toBe(head);
        expect(await store.readStream('lead-1')).toEqual([]);
        expect(await store.readStream('lead-3')).toEqual([]);
      });
    });

    describe('readAll', () => {
      it('when paged with after and maxCount, then the pages cover the log once, in position order', async () => {
        await seed(store, 3, 7);
        const all = await store.readAll();
        expect(all).toHaveLength(21);
        expectStrictlyIncreasing(all.map((e) => e.position));

        const paged: RecordedEvent[] = [];
        for (let after = 0; ; ) {
          const page = await store.readAll({ after, maxCount: 4 });
          if (page.length === 0) break;
          expect(page.length).toBeLessThanOrEqual(4);
          paged.push(...page);
          after = page.at(-1)!.position;
        }
        expect(paged).toEqual(all);
      });

      it('then after is exclusive and maxCount 0 reads nothing', async () => {
        await seed(store, 1, 3);
        const [first, second] = await store.readAll();
        expect((await store.readAll({ after: first!.position, maxCount: 1 })).map((e) => e.id)).toEqual([second!.id]);
        expect(await store.readAll({ after: await store.headPosition() })).toEqual([]);
        expect(await store.readAll({ maxCount: 0 })).toEqual([]);
      });
    });

    describe('readStream', () => {
      it('when read with fromRevision and maxCount, then it returns that window of the stream', async () => {
        await seed(store, 2, 6);
        const window = await store.readStream('lead-1', { fromRevision: 2, maxCount: 3 });
        expect(window.map((e) => e.revision)).toEqual([2, 3, 4]);
        expect(window.every((e) => e.streamId === 'lead-1')).toBe(true);
        expect((await store.readStream('lead-1', { fromRevision: 4 })).map((e) => e.revision)).toEqual([4, 5]);
        expect(await store.readStream('lead-1', { fromRevision: 6 })).toEqual([]);
      });
    });

    describe('subscribe', () => {
      it('given an empty store, then caughtUp resolves and position stays at after', async () => {
        const subscription = store.subscribe({ after: 0, onBatch: () => {} });
        await subscription.caughtUp();
        expect(subscription.position).toBe(0);
        await subscription.stop();
      });

      it('when started after a position, then it delivers exactly the events after it and then the live tail', async () => {
        await seed(store, 2, 5);
        const existing = await store.readAll();
        const start = existing[3]!.position;
        const seen: RecordedEvent[] = [];
        const subscription = store.subscribe({ after: start, onBatch: (events) => void seen.push(...events) });
        expect(subscription.position).toBe(start);

        await subscription.caughtUp();
        expect(seen).toEqual(existing.slice(4));

        await store.append({ streamId: 'lead-9', events: [event('live-1')] });
        await subscription.caughtUp();
        expect(seen.at(-1)!.id).toBe('live-1');
        expect(subscription.position).toBe(await store.headPosition());
        await subscription.stop();
      });

      it('when many appends race the catch-up, then every event arrives once, in order, in batches within batchSize', async () => {
        await seed(store, 3, 10);
        const seen: RecordedEvent[] = [];
        let inFlight = 0;
        let maxInFlight = 0;
        let largestBatch = 0;
        const subscription = store.subscribe({
          after: 0,
          batchSize: 7,
          onBatch: async (events) => {
            inFlight++;
            maxInFlight = Math.max(maxInFlight, inFlight);
            largestBatch = Math.max(largestBatch, events.length);
            await nextMacrotask();
            seen.push(...events);
            inFlight--;
          },
        });

        const writers = Array.from({ length: 4 }, async (_, writer) => {
          for (let i = 0; i < 25; i++) {
            await store.append({ streamId: `lead-${writer}`, events: [event(`w${writer}-${i}-a`), event(`w${writer}-${i}-b`)] });
            await nextMacrotask();
          }
        });
        await Promise.all(writers);
        await subscription.caughtUp();
        await subscription.stop();

        const all = await store.readAll();
        expect(all).toHaveLength(30 + 4 * 25 * 2);
        expect(seen.map((e) => e.position)).toEqual(all.map((e) => e.position));
        expect(maxInFlight).toBe(1);
        expect(largestBatch).toBeLessThanOrEqual(7);
      });

      it('when stopped during onBatch, then stop waits for it and nothing is delivered afterwards', async () => {
        await store.append({ streamId: 'lead-1', events: [event('a')] });
        const delivered: string[] = [];
        let entered!: () => void;
        const onBatchEntered = new Promise<void>((resolve) => (entered = resolve));
        let release!: () => void;
        const gate = new Promise<void>((resolve) => (release = resolve));
        const subscription = store.subscribe({
          after: 0,
          onBatch: async (events) => {
            entered();
            await gate;
            delivered.push(...events.map((e) => e.id));
          },
        });
        await onBatchEntered;

        let stopped = false;
        const stopping = subscription.stop().then(() => (stopped = true));
        await store.append({ streamId: 'lead-1', events: [event('b')] });
        await nextMacrotask();
        expect(stopped).toBe(false);
        release();
        await stopping;

        // A second subscription that has seen the later appends bounds what the stopped one could have seen.
        await store.append({ streamId: 'lead-1', events: [event('c')] });
        const probe = store.subscribe({ after: 0, onBatch: () => {} });
        await probe.caughtUp();
        await probe.stop();

        expect(delivered).toEqual(['a']);
        expect(subscription.position).toBe((await store.readStream('lead-1'))[0]!.position);
        await expect(subscription.caughtUp()).rejects.toThrow();
      });

      it('when onBatch throws, then it stops at the last handled position and reports the error', async () => {
        await store.append({ streamId: 'lead-1', events: [event('a'), event('b'), event('c')] });
        const [a] = await store.readAll();
        const failure = new Error('projection failed');
        const errors: unknown[] = [];
        const delivered: string[] = [];
        const subscription = store.subscribe({
          after: 0,
          batchSize: 1,
          onBatch: (events) => {
            if (events[0]!.id === 'b') throw failure;
            delivered.push(...events.map((e) => e.id));
          },
          onError: (err) => errors.push(err),
        });

        await expect(subscription.caughtUp()).rejects.toBe(failure);
        await subscription.stop();

        expect(errors).toEqual([failure]);
        expect(delivered).toEqual(['a']);
        expect(subscription.position).toBe(a!.position);
      });
    });
  });
}

function event(id: string): NewEvent {
  return { id, type: 'visit', data: { id } };
}

/** `streams` streams of `perStream` events each, appended round-robin so streams interleave in the log. */
async function seed(store: EventStore, streams: number, perStream: number): Promise<void> {
  for (let i = 0; i < perStream; i++) {
    for (let s = 1; s <= streams; s++) {
      await store.append({ streamId: `lead-${s}`, events: [event(`seed-${s}-${i}`)] });
    }
  }
}

function expectStrictlyIncreasing(values: readonly number[]): void {
  for (let i = 1; i < values.length; i++) expect(values[i]!).toBeGreaterThan(values[i - 1]!);
}

async function failureOf(attempt: Promise<unknown>): Promise<unknown> {
  return attempt.then(
    () => undefined,
    (e: unknown) => e,
  );
}

function expectConflicts(err: unknown, conflicts: EventIdConflict[]): void {
  expect(err).toBeInstanceOf(EventIdConflictError);
  const { code, conflicts: actual } = err as EventIdConflictError;
  expect({ code, conflicts: actual }).toEqual({ code: 'EVENT_ID_CONFLICT', conflicts });
}

async function expectConcurrencyError(
  attempt: Promise<unknown>,
  expected: { streamId: string; expected: ExpectedRevision; actual: number | 'no_stream' },
): Promise<void> {
  const err = await failureOf(attempt);
  expect(err).toBeInstanceOf(ConcurrencyError);
  const { code, streamId, expected: expectedRevision, actual } = err as ConcurrencyError;
  expect({ code, streamId, expected: expectedRevision, actual }).toEqual({ code: 'WRONG_EXPECTED_REVISION', ...expected });
}
