import type { SubscribeOptions, Subscription } from './port.js';

export const DEFAULT_SUBSCRIPTION_BATCH_SIZE = 1000;

/** The batch size a subscription uses, after checking `after` and `batchSize` (shared so every adapter refuses the same input). */
export function checkedBatchSize(options: SubscribeOptions): number {
  if (!Number.isSafeInteger(options.after) || options.after < 0) {
    throw new RangeError(`subscribe: 'after' must be a non-negative integer, got ${options.after}`);
  }
  const batchSize = options.batchSize ?? DEFAULT_SUBSCRIPTION_BATCH_SIZE;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`subscribe: 'batchSize' must be a positive integer, got ${batchSize}`);
  }
  return batchSize;
}

interface CaughtUpWaiter {
  target: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** The callers of Subscription.caughtUp() still waiting for the subscription to reach their target position. */
export class CaughtUpWaiters {
  #waiters: CaughtUpWaiter[] = [];

  wait(target: number): Promise<void> {
    return new Promise<void>((resolve, reject) => this.#waiters.push({ target, resolve, reject }));
  }

  /** Resolves every waiter whose target `position` has reached. */
  settle(position: number): void {
    if (this.#waiters.length === 0) return;
    const pending: CaughtUpWaiter[] = [];
    for (const waiter of this.#waiters) {
      if (position >= waiter.target) waiter.resolve();
      else pending.push(waiter);
    }
    this.#waiters = pending;
  }

  rejectAll(reason: unknown): void {
    for (const waiter of this.#waiters) waiter.reject(reason);
    this.#waiters = [];
  }
}

/**
 * A wake-up flag plus an interruptible sleep: the flag is set by every wake,
 * and a loop clears it before each read, so a wake that arrives during the
 * read is not lost.
 */
export class WakeSignal {
  #woken = false;
  #endSleep: (() => void) | undefined;

  clear(): void {
    this.#woken = false;
  }

  wake(): void {
    this.#woken = true;
    this.#endSleep?.();
  }

  /** Resolves at the next wake, or after `timeoutMs` when given; at once if woken since the last clear(). */
  sleep(timeoutMs?: number): Promise<void> {
    if (this.#woken) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = timeoutMs === undefined ? undefined : setTimeout(() => this.#endSleep?.(), timeoutMs);
      this.#endSleep = () => {
        clearTimeout(timer);
        this.#endSleep = undefined;
        resolve();
      };
    });
  }
}

/**
 * What every adapter's subscription shares: one loop (the subclass's
 * `deliver`) that moves the position only after onBatch returned, stop() that
 * waits for it, caughtUp() against the store's head, and the rule that an
 * error stops the loop where it is (it never skips) and is reported.
 *
 * The loop keeps the process alive while it runs, like a server socket would:
 * a live tail is an explicit, ongoing consumer that ends with stop() or the
 * store's close().
 */
export abstract class LoopingSubscription implements Subscription {
  #position: number;
  #stopping = false;
  #failure: { err: unknown } | undefined;
  #done: Promise<void> | undefined;
  readonly #waiters = new CaughtUpWaiters();
  /** Woken by stop(), caughtUp() and whatever the subclass listens to. */
  protected readonly signal = new WakeSignal();
  protected readonly batchSize: number;

  constructor(
    protected readonly options: SubscribeOptions,
    private readonly headPosition: () => Promise<number>,
  ) {
    this.batchSize = checkedBatchSize(options);
    this.#position = options.after;
  }

  /** Starts the loop: subclasses call it last in their constructor, once their own fields are set. */
  protected start(): void {
    this.#done = this.#run();
  }

  /** The loop: deliver batches while `stopping` is false; return or throw to end it. */
  protected abstract deliver(): Promise<void>;

  /** Runs once the loop has ended, however it ended. */
  protected onEnded(): void {}

  /** Settles (never rejects) once the loop has ended, for owners that track live subscriptions. */
  get ended(): Promise<void> {
    return this.#done ?? Promise.resolve();
  }

  get position(): number {
    return this.#position;
  }

  protected get stopping(): boolean {
    return this.#stopping;
  }

  /** After onBatch returned for events up to `position`, or (unchanged) when there is nothing to deliver. */
  protected advance(position: number = this.#position): void {
    this.#position = position;
    this.#waiters.settle(position);
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    this.signal.wake();
    await this.ended;
  }

  async caughtUp(): Promise<void> {
    const target = await this.headPosition();
    if (this.#position >= target) return;
    if (this.#failure) throw this.#failure.err;
    if (this.#stopping) throw new Error(`subscription stopped at position ${this.#position} before reaching ${target}`);
    const reached = this.#waiters.wait(target);
    // The head may have moved because of another process: look now, not at the next poll.
    this.signal.wake();
    await reached;
  }

  async #run(): Promise<void> {
    try {
      await this.deliver();
    } catch (err) {
      // Stop where we are rather than skip the batch: the caller decides what to do.
      this.#failure = { err };
      this.#stopping = true;
      reportSubscriptionFailure(this.options, this.#position, err);
    } finally {
      this.onEnded();
      this.#waiters.rejectAll(
        this.#failure ? this.#failure.err : new Error(`subscription stopped at position ${this.#position} before catching up`),
      );
    }
  }
}

/** A store's live subscriptions, so close() can stop them all. */
export class LiveSubscriptions<S extends LoopingSubscription> {
  readonly #live = new Set<S>();

  track(subscription: S): S {
    this.#live.add(subscription);
    void subscription.ended.then(() => this.#live.delete(subscription));
    return subscription;
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.#live].map((subscription) => subscription.stop()));
    this.#live.clear();
  }
}

/** Hands a stopped subscription's error to onError, or prints it when there is no handler. */
function reportSubscriptionFailure(options: SubscribeOptions, position: number, err: unknown): void {
  if (options.onError) {
    try {
      options.onError(err);
    } catch (handlerErr) {
      console.error('event-store subscription onError handler threw:', handlerErr);
    }
    return;
  }
  // Without a handler the failure must still be visible: a silently stalled projector looks healthy.
  console.error(`event-store subscription stopped at position ${position}:`, err);
}
