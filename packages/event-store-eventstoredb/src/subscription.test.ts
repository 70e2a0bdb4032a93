// The subscription's resume logic against a scripted stand-in for the
// client's $all subscription (a Readable, as the client's is), because no
// EventStoreDB runs here and drops cannot be provoked on a real one at will.
// The same code runs against a real server in the contract suite
// (eventstoredb-event-store.test.ts) where one is reachable.
import { PassThrough } from 'node:stream';
import { CancelledError, UnavailableError } from '@eventstore/db-client';
import type { AllStreamRecordedEvent, AllStreamResolvedEvent, AllStreamSubscription, Position } from '@eventstore/db-client';
import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '@sluice/event-store';
import { EventStoreDbSubscription } from './subscription.js';
import type { LiveSource } from './subscription.js';

interface ScriptedConnection {
  from: Position | 'start';
  stream: PassThrough & AllStreamSubscription;
  checkpoint: (position: Position) => void;
  unsubscribed: boolean;
}

/** Hands out one scripted connection per open(); the test writes into it what the server would send. */
class ScriptedSource implements LiveSource {
  readonly connections: ScriptedConnection[] = [];
  head = 0;
  #waiting: { count: number; resolve: (connection: ScriptedConnection) => void }[] = [];

  open(from: Position | 'start', highWaterMark: number, onCheckpoint: (s: AllStreamSubscription, p: Position) => void) {
    const stream = new PassThrough({ objectMode: true, highWaterMark }) as PassThrough & AllStreamSubscription;
    const connection: ScriptedConnection = { from, stream, checkpoint: (position) => onCheckpoint(stream, position), unsubscribed: false };
    stream.unsubscribe = async () => {
      connection.unsubscribed = true;
      stream.destroy();
    };
    this.connections.push(connection);
    this.#waiting = this.#waiting.filter((waiter) => {
      if (this.connections.length < waiter.count) return true;
      waiter.resolve(this.connections[waiter.count - 1]!);
      return false;
    });
    return stream;
  }

  /** Resolves with the n-th connection (1-based) once it is opened. */
  connection(n: number): Promise<ScriptedConnection> {
    const opened = this.connections[n - 1];
    if (opened) return Promise.resolve(opened);
    return new Promise((resolve) => this.#waiting.push({ count: n, resolve }));
  }

  toPortEvent(event: AllStreamRecordedEvent): RecordedEvent | undefined {
    if (event.streamId.startsWith('$')) return undefined;
    return {
      position: Number(event.position.commit),
      streamId: event.streamId,
      revision: Number(event.revision),
      id: event.id,
      type: event.type,
      data: event.data,
      recordedAt: event.created.toISOString(),
    };
  }

  headPosition = async () => this.head;
}

function at(commit: number): Position {
  return { commit: BigInt(commit), prepare: BigInt(commit) };
}

/** What the server sends for an event at `commit`. */
function sent(commit: number, streamId = 'lead-1'): AllStreamResolvedEvent {
  return {
    event: {
      streamId,
      id: `e${commit}`,
      revision: 0n,
      type: 'visit',
      data: {},
      metadata: undefined,
      isJson: true,
      created: new Date(0),
      position: at(commit),
    } as AllStreamRecordedEvent,
  };
}

const immediately = { initialDelayMs: 0, maxDelayMs: 0 };

/** An onBatch that records ids and, while `hold` is set, waits for release(). */
function gatedHandler() {
  const delivered: string[][] = [];
  let release: (() => void) | undefined;
  let entered: (() => void) | undefined;
  const handler = {
    delivered,
    /** Resolves when the next onBatch starts; that batch then waits for release(). */
    holdNext(): Promise<void> {
      const gate = new Promise<void>((resolve) => (release = resolve));
      const started = new Promise<void>((resolve) => (entered = resolve));
      handler.gate = gate;
      return started;
    },
    release: () => release?.(),
    gate: undefined as Promise<void> | undefined,
    onBatch: async (events: RecordedEvent[]) => {
      const gate = handler.gate;
      handler.gate = undefined;
      if (gate) {
        entered?.();
        await gate;
      }
      delivered.push(events.map((event) => event.id));
    },
  };
  return handler;
}

describe('EventStoreDB subscription', () => {
  it('given buffered events, when they are delivered, then batches stay within batchSize and position follows the last handled event', async () => {
    const source = new ScriptedSource();
    const handler = gatedHandler();
    const subscription = new EventStoreDbSubscription(source, { after: 0, batchSize: 2, onBatch: handler.onBatch }, immediately);
    const first = await source.connection(1);
    expect(first.from).toBe('start');

    for (const commit of [10, 20, 30]) first.stream.write(sent(commit));
    first.stream.write(sent(35, '$stats-node'));
    first.stream.write(sent(40));
    source.head = 40;
    await subscription.caughtUp();

    expect(handler.delivered.flat()).toEqual(['e10', 'e20', 'e30', 'e40']);
    expect(handler.delivered.every((batch) => batch.length <= 2)).toBe(true);
    expect(subscription.position).toBe(40);
    await subscription.stop();
    expect(first.unsubscribed).toBe(true);
  });

  it('when the connection drops, then it resubscribes after the last handled position and nothing is skipped or delivered twice', async () => {
    const source = new ScriptedSource();
    const handler = gatedHandler();
    const subscription = new EventStoreDbSubscription(source, { after: 10, onBatch: handler.onBatch }, immediately);
    const first = await source.connection(1);
    expect(first.from).toEqual(at(10));

    first.stream.write(sent(20));
    source.head = 20;
    await subscription.caughtUp();
    first.stream.destroy(new UnavailableError());

    const second = await source.connection(2);
    expect(second.from).toEqual(at(20));
    second.stream.write(sent(30));
    source.head = 30;
    await subscription.caughtUp();

    expect(handler.delivered.flat()).toEqual(['e20', 'e30']);
    await subscription.stop();
  });

  it('given a checkpoint that arrived behind events still unhandled, when the connection drops with them lost, then it resumes after the last handled event, not the checkpoint', async () => {
    const source = new ScriptedSource();
    const handler = gatedHandler();
    const subscription = new EventStoreDbSubscription(source, { after: 0, batchSize: 1, onBatch: handler.onBatch }, immediately);
    const first = await source.connection(1);

    const firstBatchStarted = handler.holdNext();
    first.stream.write(sent(10));
    first.stream.write(sent(20));
    await firstBatchStarted;
    // e20 is still buffered when the server's checkpoint at 30 arrives; then the connection dies and its
    // buffer with it (Node keeps a destroyed stream's buffer readable, a client need not: drop it here).
    first.checkpoint(at(30));
    first.stream.destroy(new UnavailableError());
    first.stream.read = () => null;
    handler.release();

    const second = await source.connection(2);
    expect(second.from).toEqual(at(10));
    second.stream.write(sent(20));
    source.head = 20;
    await subscription.caughtUp();
    expect(handler.delivered.flat()).toEqual(['e10', 'e20']);
    await subscription.stop();
  });

  it('given a checkpoint after everything received was handled, when the server ends the call, then it resumes from the checkpoint', async () => {
    const source = new ScriptedSource();
    const subscription = new EventStoreDbSubscription(source, { after: 0, onBatch: () => {} }, immediately);
    const first = await source.connection(1);

    first.stream.write(sent(10));
    source.head = 10;
    await subscription.caughtUp();
    first.checkpoint(at(500));
    // A checkpoint lagging behind what was handled never moves the resume point back.
    first.checkpoint(at(5));
    first.stream.end();

    expect((await source.connection(2)).from).toEqual(at(500));
    expect(subscription.position).toBe(10);
    await subscription.stop();
  });

  it('when the server cannot be reached, so unsubscribing the failed call rejects too, then it still resubscribes', async () => {
    const source = new ScriptedSource();
    const subscription = new EventStoreDbSubscription(source, { after: 0, onBatch: () => {} }, immediately);
    const first = await source.connection(1);
    const unreachable = new UnavailableError();
    first.stream.unsubscribe = () => Promise.reject(unreachable);
    first.stream.destroy(unreachable);

    expect((await source.connection(2)).from).toBe('start');
    await subscription.stop();
  });

  it('when the server cancels the call, then that is a drop too and it resubscribes', async () => {
    const source = new ScriptedSource();
    const subscription = new EventStoreDbSubscription(source, { after: 0, onBatch: () => {} }, immediately);
    (await source.connection(1)).stream.destroy(new CancelledError());

    expect((await source.connection(2)).from).toBe('start');
    await subscription.stop();
  });

  it('when the connection fails with an error that is not a drop, then it stops at the last handled position and reports it', async () => {
    const source = new ScriptedSource();
    const errors: unknown[] = [];
    const subscription = new EventStoreDbSubscription(
      source,
      { after: 0, onBatch: () => {}, onError: (err) => errors.push(err) },
      immediately,
    );
    const first = await source.connection(1);
    first.stream.write(sent(10));
    source.head = 10;
    await subscription.caughtUp();

    const denied = new Error('access denied');
    first.stream.destroy(denied);
    await subscription.ended;

    expect(errors).toEqual([denied]);
    expect(subscription.position).toBe(10);
    expect(source.connections).toHaveLength(1);
    source.head = 20;
    await expect(subscription.caughtUp()).rejects.toBe(denied);
  });

  it('when onBatch throws, then it stops without resubscribing and the position stays before the failed batch', async () => {
    const source = new ScriptedSource();
    const failure = new Error('projection failed');
    const errors: unknown[] = [];
    const subscription = new EventStoreDbSubscription(
      source,
      {
        after: 0,
        batchSize: 1,
        onBatch: (events) => {
          if (events[0]!.id === 'e20') throw failure;
        },
        onError: (err) => errors.push(err),
      },
      immediately,
    );
    const first = await source.connection(1);
    first.stream.write(sent(10));
    first.stream.write(sent(20));
    await subscription.ended;

    expect(errors).toEqual([failure]);
    expect(subscription.position).toBe(10);
    expect(first.unsubscribed).toBe(true);
    expect(source.connections).toHaveLength(1);
  });
});
