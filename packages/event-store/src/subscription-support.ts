import type { SubscribeOptions } from './port.js';

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

/** Hands a stopped subscription's error to onError, or prints it when there is no handler. */
export function reportSubscriptionFailure(options: SubscribeOptions, position: number, err: unknown): void {
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
