import { describe, expect, it } from 'vitest';
import { ItemFailed } from './failures.js';
import { type FollowerStatus, type FollowerTarget, startFollower } from './follower.js';

/*
 * The engine on its own: an in-memory source of numbered items and in-memory
 * targets of the two kinds the real followers are (an idempotent keyed insert
 * like the ClickHouse sinks, and a write-behind target like the projector).
 * The real followers run it against SQLite, chDB and Kafka in their own tests.
 */

interface Item {
  position: number;
  value: string;
}

const itemsOf = (...values: string[]): Item[] => values.map((value, i) => ({ position: i + 1, value }));

function sourceOf(items: Item[]) {
  return {
    head: async () => items.at(-1)?.position ?? 0,
    read: async (after: number, max: number) => items.filter((i) => i.position > after).slice(0, max),
    positionOf: (item: Item) => item.position,
  };
}

/** A keyed insert with its checkpoint beside it; `fail` decides per item (and attempt) what the store says. */
function insertTarget(fail: (item: Item, attempt: number) => Error | undefined) {
  const stored = new Map<number, string>();
  const parked: Array<{ position: number; reason: string }> = [];
  const attempts = new Map<number, number>();
  let checkpoint = 0;
  const target: FollowerTarget<Item> = {
    unattributed: 'isolate',
    checkpoint: async () => checkpoint,
    apply: async (items) => {
      for (const item of items) {
        const attempt = (attempts.get(item.position) ?? 0) + 1;
        attempts.set(item.position, attempt);
        const err = fail(item, attempt);
        if (err) throw err;
      }
      for (const item of items) stored.set(item.position, item.value);
      checkpoint = items.at(-1)!.position;
      return checkpoint;
    },
    park: async (item, reason) => {
      parked.push({ position: item.position, reason });
      checkpoint = item.position;
      return checkpoint;
    },
  };
  return { target, stored, parked, attempts };
}

const quick = { pollIntervalMs: 5, retry: { initialMs: 1, maxMs: 5 } };

describe('the follower engine', () => {
  it('given a source of items, then every item is applied, caughtUp resolves at the head and the follower is live there', async () => {
    const { target, stored } = insertTarget(() => undefined);
    const follower = startFollower({ name: 't', source: sourceOf(itemsOf('a', 'b', 'c', 'd', 'e')), target, batchSize: 2, ...quick });
    await follower.caughtUp();
    expect([...stored.values()]).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(follower.position).toBe(5);
    await expect.poll(() => follower.status().state).toBe('live');
    await follower.stop();
    expect(follower.status().state).toBe('stopped');
  });

  it('given an item the target refuses whatever the retry, when it is in the middle of a batch, then it alone is parked with its reason and every other item is applied', async () => {
    const { target, stored, parked } = insertTarget((item) => (item.value === 'bad' ? new Error('Cannot parse input: lone surrogate') : undefined));
    const seen: number[] = [];
    const follower = startFollower({ name: 't', source: sourceOf(itemsOf('a', 'b', 'bad', 'c', 'd')), target, onParked: (p) => seen.push(p.position), ...quick });
    await follower.caughtUp();
    expect([...stored.keys()].sort()).toEqual([1, 2, 4, 5]);
    expect(parked).toEqual([{ position: 3, reason: 'Cannot parse input: lone surrogate' }]);
    expect(seen).toEqual([3]);
    expect(follower.status()).toMatchObject({ position: 5, parkedSinceStart: 1 });
    await follower.stop();
  });

  it('given one item the target refuses in a large batch, then the engine finds it by halving the batch, in a number of applies that grows with the log of the batch, not with its size', async () => {
    const { target, stored, parked, attempts } = insertTarget((item) => (item.value === 'bad' ? new Error('Cannot parse input: lone surrogate') : undefined));
    const values = Array.from({ length: 1024 }, (_, i) => (i === 700 ? 'bad' : `v${i}`));
    let applies = 0;
    const counted: FollowerTarget<Item> = { ...target, apply: (items) => (applies++, target.apply(items)) };
    const follower = startFollower({ name: 't', source: sourceOf(itemsOf(...values)), target: counted, batchSize: 1024, ...quick });
    await follower.caughtUp();
    expect(parked.map((p) => p.position)).toEqual([701]);
    expect(stored.size).toBe(1023);
    // the whole batch, then two halves at each of log2(1024) = 10 levels
    expect(applies).toBe(1 + 2 * 10);
    expect(attempts.get(701)).toBe(11);
    await follower.stop();
  });

  it('given a disk that is full for a while, then nothing is parked: the follower reports retrying with the reason, and applies everything once space returns', async () => {
    let full = true;
    const diskFull = Object.assign(new Error('SQLITE_FULL: database or disk is full'), { code: 'SQLITE_FULL' });
    const { target, stored, parked } = insertTarget(() => (full ? diskFull : undefined));
    const states: FollowerStatus[] = [];
    const follower = startFollower({ name: 't', source: sourceOf(itemsOf('a', 'b', 'c')), target, onProgress: (s) => states.push(s), ...quick });
    await expect.poll(() => follower.status().failure?.attempts ?? 0).toBeGreaterThan(2);
    expect(follower.status()).toMatchObject({ state: 'retrying', position: 0, failure: { reason: 'SQLITE_FULL: database or disk is full' } });
    full = false;
    await follower.caughtUp();
    expect([...stored.values()]).toEqual(['a', 'b', 'c']);
    expect(parked).toEqual([]);
    await expect.poll(() => follower.status().state).toBe('live');
    expect(follower.status().failure).toBeUndefined();
    expect(states.some((s) => s.state === 'retrying')).toBe(true);
    await follower.stop();
  });

  it('given a target that refuses every item, then it parks only a few in a row and then retries, taking the target to be at fault', async () => {
    let broken = true;
    const { target, parked, stored } = insertTarget(() => (broken ? new Error('Table sluice.touchpoints does not exist') : undefined));
    const items = itemsOf(...Array.from({ length: 40 }, (_, i) => `v${i}`));
    const follower = startFollower({ name: 't', source: sourceOf(items), target, maxParkedInARow: 3, ...quick });
    await expect.poll(() => follower.status().state).toBe('retrying');
    expect(parked.map((p) => p.position)).toEqual([1, 2, 3]);
    expect(follower.status().failure?.reason).toContain('3 items in a row could not be applied');
    broken = false;
    await follower.caughtUp();
    expect(stored.size).toBe(37);
    await follower.stop();
  });

  it('given a write-behind target that names the failing item, then the items before it stay applied, it is parked, and a transient failure drops what was not durable and replays it', async () => {
    // applies into memory, flushes to `durable` at the head; item 'bad' fails by index, the first flush fails with ENOSPC
    let memory: Item[] = [];
    const durable: string[] = [];
    let checkpoint = 0;
    let flushes = 0;
    const parked: number[] = [];
    const target: FollowerTarget<Item> = {
      unattributed: 'reported',
      checkpoint: async () => checkpoint,
      apply: async (items) => {
        for (const [index, item] of items.entries()) {
          if (item.value === 'bad') throw new ItemFailed(index, new Error('not an ISO 8601 instant: "2026-03-01T10:00:00+24:00"'));
          memory.push(item);
        }
        return checkpoint;
      },
      park: async (item) => {
        parked.push(item.position);
        memory.push({ ...item, value: '(parked)' });
        return checkpoint;
      },
      flush: async () => {
        flushes += 1;
        if (flushes === 1) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        durable.push(...memory.filter((i) => i.value !== '(parked)').map((i) => i.value));
        checkpoint = memory.at(-1)?.position ?? checkpoint;
        memory = [];
        return checkpoint;
      },
      reset: async () => {
        memory = [];
        return checkpoint;
      },
    };
    const follower = startFollower({ name: 'wb', source: sourceOf(itemsOf('a', 'bad', 'b')), target, ...quick });
    await follower.caughtUp();
    expect(durable).toEqual(['a', 'b']);
    // parked once per pass: the flush that failed dropped the first pass, the replay parked it again (the store keeps one)
    expect(new Set(parked)).toEqual(new Set([2]));
    expect(follower.position).toBe(3);
    await follower.stop();
  });

  it('given a bad item, when parking it fails because the target is full, then the follower retries instead of dying, and parks it once space returns', async () => {
    let full = true;
    const { target, parked, stored } = insertTarget((item) => (item.value === 'bad' ? new Error('Cannot parse input') : undefined));
    const park = target.park;
    target.park = async (item, reason) => {
      if (full) throw Object.assign(new Error('Code: 243. DB::Exception: Cannot reserve 1.00 MiB, not enough space'), { code: '243' });
      return park(item, reason);
    };
    const follower = startFollower({ name: 't', source: sourceOf(itemsOf('a', 'bad', 'b')), target, ...quick });
    await expect.poll(() => follower.status().failure?.reason ?? '').toContain('not enough space');
    expect(parked).toEqual([]);
    full = false;
    await follower.caughtUp();
    expect(parked.map((p) => p.position)).toEqual([2]);
    expect([...stored.values()]).toEqual(['a', 'b']);
    await follower.stop();
  });

  it('given a follower retrying, when it is stopped, then stop returns without waiting out the backoff and a caughtUp asked after rejects', async () => {
    const down = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8123'), { code: 'ECONNREFUSED' });
    const { target } = insertTarget(() => down);
    const follower = startFollower({ name: 't', source: sourceOf(itemsOf('a')), target, retry: { initialMs: 60_000, maxMs: 60_000 } });
    await expect.poll(() => follower.status().state).toBe('retrying');
    const waiting = follower.caughtUp();
    await follower.stop();
    await expect(waiting).rejects.toThrow(/stopped at position 0/);
    await expect(follower.caughtUp()).rejects.toThrow(/stopped/);
  });
});
