import type { AppendNotifier } from './append-notifier.js';
import type { EventStore, SubscribeOptions, Subscription } from './port.js';

export const DEFAULT_SUBSCRIPTION_BATCH_SIZE = 1000;

interface CaughtUpWaiter {
  target: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * A subscription built only on `readAll` + `headPosition`: one loop reads the
 * global log after the last delivered position, awaits onBatch, and repeats.
 * Because there is exactly one loop and the position moves only after onBatch
 * returns, it cannot skip or redeliver. When the log is exhausted it sleeps
 * until the in-process notifier fires or the poll interval elapses (appends
 * made by other processes). Any adapter whose readAll is gap-free in position
 * order can use it.
 *
 * The loop keeps the process alive while it runs, like a server socket would:
 * a live tail is an explicit, ongoing consumer that ends with stop() or the
 * store's close().
 */
export class PollingSubscription implements Subscription {
  #position: number;
  #stopping = false;
  #failure: { err: unknown } | undefined;
  /** Set by every wake-up; cleared before each read so a wake during the read is not lost. */
  #woken = false;
  #endSleep: (() => void) | undefined;
  #waiters: CaughtUpWaiter[] = [];
  readonly #batchSize: number;
  readonly #stopListening: () => void;
  readonly #done: Promise<void>;

  constructor(
    private readonly source: Pick<EventStore, 'readAll' | 'headPosition'>,
    notifier: AppendNotifier,
    private readonly options: SubscribeOptions,
    private readonly pollIntervalMs: number,
  ) {
    if (!Number.isSafeInteger(options.after) || options.after < 0) {
      throw new RangeError(`subscribe: 'after' must be a non-negative integer, got ${options.after}`);
    }
    this.#position = options.after;
    this.#batchSize = options.batchSize ?? DEFAULT_SUBSCRIPTION_BATCH_SIZE;
    if (!Number.isSafeInteger(this.#batchSize) || this.#batchSize < 1) {
      throw new RangeError(`subscribe: 'batchSize' must be a positive integer, got ${this.#batchSize}`);
    }
    this.#stopListening = notifier.listen(() => this.#wake());
    this.#done = this.#run();
  }

  /** Settles (never rejects) once the loop has ended, for owners that track live subscriptions. */
  get ended(): Promise<void> {
    return this.#done;
  }

  get position(): number {
    return this.#position;
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    this.#wake();
    await this.#done;
  }

  async caughtUp(): Promise<void> {
    const target = await this.source.headPosition();
    if (this.#position >= target) return;
    if (this.#failure) throw this.#failure.err;
    if (this.#stopping) throw new Error(`subscription stopped at position ${this.#position} before reaching ${target}`);
    await new Promise<void>((resolve, reject) => {
      this.#waiters.push({ target, resolve, reject });
      // The head may have moved because of another process: read now, not at the next poll.
      this.#wake();
    });
  }

  async #run(): Promise<void> {
    try {
      while (!this.#stopping) {
        this.#woken = false;
        const batch = await this.source.readAll({ after: this.#position, maxCount: this.#batchSize });
        if (this.#stopping) break;
        const last = batch.at(-1);
        if (last === undefined) {
          this.#settleWaiters();
          await this.#sleep();
          continue;
        }
        await this.options.onBatch(batch);
        this.#position = last.position;
        this.#settleWaiters();
      }
    } catch (err) {
      // Stop where we are rather than skip the batch: the caller decides what to do.
      this.#failure = { err };
      this.#stopping = true;
      this.#report(err);
    } finally {
      this.#stopListening();
      this.#rejectWaiters();
    }
  }

  #wake(): void {
    this.#woken = true;
    this.#endSleep?.();
  }

  #sleep(): Promise<void> {
    if (this.#woken || this.#stopping) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.#endSleep?.(), this.pollIntervalMs);
      this.#endSleep = () => {
        clearTimeout(timer);
        this.#endSleep = undefined;
        resolve();
      };
    });
  }

  #settleWaiters(): void {
    if (this.#waiters.length === 0) return;
    const pending: CaughtUpWaiter[] = [];
    for (const waiter of this.#waiters) {
      if (this.#position >= waiter.target) waiter.resolve();
      else pending.push(waiter);
    }
    this.#waiters = pending;
  }

  #rejectWaiters(): void {
    const reason = this.#failure
      ? this.#failure.err
      : new Error(`subscription stopped at position ${this.#position} before catching up`);
    for (const waiter of this.#waiters) waiter.reject(reason);
    this.#waiters = [];
  }

  #report(err: unknown): void {
    if (this.options.onError) {
      try {
        this.options.onError(err);
      } catch (handlerErr) {
        console.error('event-store subscription onError handler threw:', handlerErr);
      }
      return;
    }
    // Without a handler the failure must still be visible: a silently stalled projector looks healthy.
    console.error(`event-store subscription stopped at position ${this.#position}:`, err);
  }
}
