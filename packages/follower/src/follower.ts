import { ItemFailed, isTransient, messageOf } from './failures.js';

/**
 * The one engine behind everything that follows an ordered source (the log,
 * the read models, the change feed) into a target (read models, ClickHouse,
 * Kafka): reading in batches, the checkpoint, caught-up signals, stopping,
 * status, and the error policy, so no follower writes its own loop.
 *
 * The error policy: no item, however it got into the source, stops a
 * follower.
 * - An item the target cannot apply is **parked**: the target keeps it with
 *   its reason beside its own state (target.park), and the checkpoint moves
 *   past it. A rebuild after a rule or code fix applies it again.
 * - A transient failure (disk full, a server away: failures.ts) is retried
 *   with backoff, from the last durable position, until it clears; the
 *   follower reports `retrying` with the reason meanwhile.
 * - Many items parked in a row look like a broken target, not bad items:
 *   past `maxParkedInARow` the engine stops parking and retries instead.
 */

export interface FollowerSource<Item> {
  /** the source's head: the position caughtUp() waits for */
  head(): Promise<number>;
  /** up to `max` items after `after`, in position order */
  read(after: number, max: number): Promise<readonly Item[]>;
  positionOf(item: Item): number;
  /** calls `wake` when the source may have grown (in-process appends); without it, or besides it, the engine polls */
  listen?(wake: () => void): () => void;
}

export interface FollowerTarget<Item> {
  /** the durable position to start after */
  checkpoint(): Promise<number>;
  /**
   * Applies items in order and returns the position whose effect is durable
   * now (it may lag what was applied: a write-behind target flushes when it
   * chooses, and at the latest in flush()). Throws ItemFailed(index) when the
   * item at `index` could not be applied and those before it were.
   */
  apply(items: readonly Item[]): Promise<number>;
  /** makes all that was applied durable (the engine calls it when it reaches the head and when it stops); the durable position */
  flush?(): Promise<number>;
  /**
   * After a failure that was not an item's: drops whatever was applied but
   * not durable and returns the durable position to resume after.
   */
  reset?(): Promise<number>;
  /**
   * Keeps the item and why it could not be applied in the target's own store,
   * and passes it: the next checkpoint the target writes covers it. Returns the
   * durable position (the item's, when parking moved the checkpoint).
   */
  park(item: Item, reason: string): Promise<number>;
  /**
   * How to find the item at fault when apply throws something other than
   * ItemFailed: 'isolate' retries the batch by halves down to the item (for targets whose
   * apply is idempotent, such as keyed inserts); 'reported' treats it as
   * transient (for targets that report their item failures themselves).
   */
  unattributed: 'isolate' | 'reported';
}

export type FollowerState = 'starting' | 'catching_up' | 'live' | 'retrying' | 'stopped';

export interface FollowerFailure {
  readonly reason: string;
  /** ISO instant of the first failure of this run of failures */
  readonly since: string;
  readonly attempts: number;
}

export interface FollowerStatus {
  readonly name: string;
  readonly state: FollowerState;
  /** the position whose effect is durable */
  readonly position: number;
  /** the source's head when the follower last looked */
  readonly head: number;
  /** items parked since this process started (the target's store keeps them all) */
  readonly parkedSinceStart: number;
  /** set while retrying */
  readonly failure?: FollowerFailure;
}

/** A parked item as its follower's store keeps it: every store lists them alike, so `sluice parked` shows them together. */
export interface ParkedRecord {
  follower: string;
  position: number;
  /** the event id, or the subject for the stage tables */
  itemId: string;
  /** the event type, or 'subject' */
  itemType: string;
  reason: string;
  /** when it was first parked */
  parkedAt: string;
}

export interface ParkedItem<Item> {
  readonly item: Item;
  readonly position: number;
  readonly reason: string;
}

export interface FollowerOptions<Item> {
  name: string;
  source: FollowerSource<Item>;
  target: FollowerTarget<Item>;
  /** items per read (default 1,000) */
  batchSize?: number;
  /** how long to sleep at the head before looking again (default 250 ms) */
  pollIntervalMs?: number;
  /** backoff of retries: the first wait and the longest (defaults 200 ms, 10 s) */
  retry?: { initialMs: number; maxMs: number };
  /** parked items in a row after which the target is taken to be at fault and retried instead (default 20) */
  maxParkedInARow?: number;
  isTransient?: (err: unknown) => boolean;
  onParked?: (parked: ParkedItem<Item>) => void;
  /** after every durable step, and on every change of state */
  onProgress?: (status: FollowerStatus) => void;
  /** each failure that will be retried */
  onRetry?: (failure: FollowerFailure) => void;
}

export interface Follower {
  readonly name: string;
  /** the position whose effect is durable */
  readonly position: number;
  status(): FollowerStatus;
  /**
   * Resolves once everything in the source at the time of the call (or up to
   * `target`) is durable. Waits through retries; rejects only when the
   * follower stops first.
   */
  caughtUp(target?: number): Promise<void>;
  /** finishes the batch under way, makes what was applied durable, and stops */
  stop(): Promise<void>;
}

interface Waiter {
  target: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

const DEFAULTS = { batchSize: 1000, pollIntervalMs: 250, retry: { initialMs: 200, maxMs: 10_000 }, maxParkedInARow: 20 };

export function startFollower<Item>(options: FollowerOptions<Item>): Follower {
  const { name, source, target } = options;
  const batchSize = options.batchSize ?? DEFAULTS.batchSize;
  const pollIntervalMs = options.pollIntervalMs ?? DEFAULTS.pollIntervalMs;
  const retry = options.retry ?? DEFAULTS.retry;
  const maxParkedInARow = options.maxParkedInARow ?? DEFAULTS.maxParkedInARow;
  const transient = options.isTransient ?? isTransient;

  let state: FollowerState = 'starting';
  let durable = 0;
  /** the last position handed to the target (applied or parked) */
  let handed = 0;
  let head = 0;
  let parkedSinceStart = 0;
  let parkedInARow = 0;
  let failure: FollowerFailure | undefined;
  let stopping = false;
  let waiters: Waiter[] = [];
  let woken = false;
  let endSleep: (() => void) | undefined;
  let endPause: (() => void) | undefined;

  const status = (): FollowerStatus => ({ name, state, position: durable, head, parkedSinceStart, ...(failure ? { failure } : {}) });
  const wake = () => {
    woken = true;
    endSleep?.();
  };
  const sleep = (ms: number) =>
    woken
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          const timer = setTimeout(() => endSleep?.(), ms);
          endSleep = () => {
            clearTimeout(timer);
            endSleep = undefined;
            resolve();
          };
        });
  /** a backoff: only stop() cuts it short (callers waiting for freshness must not turn it into a busy retry) */
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => endPause?.(), ms);
      endPause = () => {
        clearTimeout(timer);
        endPause = undefined;
        resolve();
      };
    });
  const settle = () => {
    if (waiters.length === 0) return;
    waiters = waiters.filter((w) => {
      if (durable < w.target) return true;
      w.resolve();
      return false;
    });
  };
  const moveTo = (position: number, next: FollowerState = state) => {
    const changed = position !== durable || next !== state;
    durable = Math.max(durable, position);
    state = next;
    settle();
    if (changed) options.onProgress?.(status());
  };

  /** A failure to wait out: resume from what is durable, after a growing pause. */
  const backOff = async (err: unknown) => {
    failure = { reason: messageOf(err), since: failure?.since ?? new Date().toISOString(), attempts: (failure?.attempts ?? 0) + 1 };
    state = 'retrying';
    options.onRetry?.(failure);
    options.onProgress?.(status());
    try {
      if (target.reset) durable = Math.max(durable, await target.reset());
    } catch {
      // still failing: the next attempt resets again
    }
    handed = durable;
    if (!stopping) await pause(Math.min(retry.maxMs, retry.initialMs * 2 ** Math.min(failure.attempts - 1, 20)));
  };

  /** Parks the item; false when parking itself failed (the target's store is away or full), which is waited out like any transient failure. */
  const park = async (item: Item, err: unknown): Promise<boolean> => {
    const position = source.positionOf(item);
    const reason = messageOf(err);
    let durableNow: number;
    try {
      durableNow = await target.park(item, reason);
    } catch (parkErr) {
      await backOff(parkErr);
      return false;
    }
    handed = position;
    parkedSinceStart += 1;
    parkedInARow += 1;
    options.onParked?.({ item, position, reason });
    moveTo(durableNow);
    return true;
  };

  const tooManyParked = (last: unknown) =>
    new Error(`${parkedInARow} items in a row could not be applied: the target, not the items, looks at fault (last: ${messageOf(last)})`);

  /** Applies a batch; on an item's failure parks it and goes on with the rest. Returns once the batch is handed over or a retry is due. */
  const applyBatch = async (items: readonly Item[]): Promise<void> => {
    let rest = items;
    while (rest.length > 0 && !stopping) {
      try {
        const position = await target.apply(rest);
        handed = source.positionOf(rest[rest.length - 1]!);
        parkedInARow = 0;
        failure = undefined;
        moveTo(position, state === 'retrying' ? 'catching_up' : state);
        return;
      } catch (err) {
        const cause = err instanceof ItemFailed ? err.cause : err;
        if (transient(cause)) return backOff(cause);
        if (err instanceof ItemFailed) {
          if (err.index > 0) handed = source.positionOf(rest[err.index - 1]!);
          if (parkedInARow >= maxParkedInARow) return backOff(tooManyParked(cause));
          if (!(await park(rest[err.index]!, cause))) return;
          rest = rest.slice(err.index + 1);
          continue;
        }
        if (target.unattributed === 'reported') return backOff(err);
        if (rest.length === 1) {
          if (parkedInARow >= maxParkedInARow) return backOff(tooManyParked(err));
          await park(rest[0]!, err);
          return;
        }
        // which item? halves, down to the one, so a bad item costs the log of the batch in applies and large batches stay affordable
        // (the target's apply is idempotent, so what already went in may go in again)
        const half = Math.ceil(rest.length / 2);
        for (const part of [rest.slice(0, half), rest.slice(half)]) {
          if (stopping) return;
          await applyBatch(part);
          if (state === 'retrying') return;
        }
        return;
      }
    }
  };

  const loop = async () => {
    for (;;) {
      try {
        durable = handed = await target.checkpoint();
        break;
      } catch (err) {
        if (stopping) return;
        await backOff(err);
      }
    }
    state = 'catching_up';
    options.onProgress?.(status());
    const unlisten = source.listen?.(wake);
    try {
      while (!stopping) {
        woken = false;
        let items: readonly Item[];
        try {
          head = await source.head();
          items = await source.read(handed, batchSize);
        } catch (err) {
          await backOff(err);
          continue;
        }
        if (items.length > 0) {
          await applyBatch(items);
          continue;
        }
        // at the head: what was applied becomes durable before the follower calls itself live
        if (target.flush && handed > durable) {
          try {
            moveTo(await target.flush());
          } catch (err) {
            await backOff(err);
            continue;
          }
        }
        failure = undefined;
        moveTo(durable, 'live');
        if (!stopping) await sleep(pollIntervalMs);
      }
    } finally {
      unlisten?.();
    }
    if (target.flush && handed > durable) {
      // the last flush on the way out; if it fails the next start replays from the checkpoint
      await target.flush().then(moveTo, () => undefined);
    }
  };

  const done = loop().finally(() => {
    state = 'stopped';
    const reason = new Error(`follower ${name} stopped at position ${durable}`);
    for (const w of waiters) w.reject(reason);
    waiters = [];
    options.onProgress?.(status());
  });

  return {
    name,
    get position() {
      return durable;
    },
    status,
    async caughtUp(at?: number) {
      const wanted = at ?? (await source.head());
      if (durable >= wanted) return;
      if (state === 'stopped') throw new Error(`follower ${name} stopped at position ${durable} before reaching ${wanted}`);
      const reached = new Promise<void>((resolve, reject) => waiters.push({ target: wanted, resolve, reject }));
      wake();
      return reached;
    },
    async stop() {
      stopping = true;
      wake();
      endPause?.();
      await done;
    },
  };
}

/** What a process tells its operator about a follower: each parked item, and a retry when it starts and every tenth attempt after. */
export function reportToConsole<Item>(label: string): Pick<FollowerOptions<Item>, 'onParked' | 'onRetry'> {
  return {
    onParked: (parked) => console.warn(`sluice: ${label} parked position ${parked.position} (sluice parked lists it): ${parked.reason}`),
    onRetry: (failure) => {
      if (failure.attempts === 1 || failure.attempts % 10 === 0) console.warn(`sluice: ${label} is retrying (attempt ${failure.attempts}, failing since ${failure.since}): ${failure.reason}`);
    },
  };
}
