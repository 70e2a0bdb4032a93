import type { AppendNotifier } from './append-notifier.js';
import type { EventStore, SubscribeOptions, Subscription } from './port.js';
import { CaughtUpWaiters, WakeSignal, checkedBatchSize, reportSubscriptionFailure } from './subscription-support.js';

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
  readonly #signal = new WakeSignal();
  readonly #waiters = new CaughtUpWaiters();
  readonly #batchSize: number;
  readonly #stopListening: () => void;
  readonly #done: Promise<void>;

  constructor(
    private readonly source: Pick<EventStore, 'readAll' | 'headPosition'>,
    notifier: AppendNotifier,
    private readonly options: SubscribeOptions,
    private readonly pollIntervalMs: number,
  ) {
    this.#batchSize = checkedBatchSize(options);
    this.#position = options.after;
    this.#stopListening = notifier.listen(() => this.#signal.wake());
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
    this.#signal.wake();
    await this.#done;
  }

  async caughtUp(): Promise<void> {
    const target = await this.source.headPosition();
    if (this.#position >= target) return;
    if (this.#failure) throw this.#failure.err;
    if (this.#stopping) throw new Error(`subscription stopped at position ${this.#position} before reaching ${target}`);
    const reached = this.#waiters.wait(target);
    // The head may have moved because of another process: read now, not at the next poll.
    this.#signal.wake();
    await reached;
  }

  async #run(): Promise<void> {
    try {
      while (!this.#stopping) {
        this.#signal.clear();
        const batch = await this.source.readAll({ after: this.#position, maxCount: this.#batchSize });
        if (this.#stopping) break;
        const last = batch.at(-1);
        if (last === undefined) {
          this.#waiters.settle(this.#position);
          if (!this.#stopping) await this.#signal.sleep(this.pollIntervalMs);
          continue;
        }
        await this.options.onBatch(batch);
        this.#position = last.position;
        this.#waiters.settle(this.#position);
      }
    } catch (err) {
      // Stop where we are rather than skip the batch: the caller decides what to do.
      this.#failure = { err };
      this.#stopping = true;
      reportSubscriptionFailure(this.options, this.#position, err);
    } finally {
      this.#stopListening();
      this.#waiters.rejectAll(
        this.#failure ? this.#failure.err : new Error(`subscription stopped at position ${this.#position} before catching up`),
      );
    }
  }
}
