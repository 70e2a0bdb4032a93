import type { AppendNotifier } from './append-notifier.js';
import type { EventStore, SubscribeOptions } from './port.js';
import { LoopingSubscription } from './subscription-support.js';

/**
 * A subscription built only on `readAll` + `headPosition`: one loop reads the
 * global log after the last delivered position, awaits onBatch, and repeats.
 * Because there is exactly one loop and the position moves only after onBatch
 * returns, it cannot skip or redeliver. When the log is exhausted it sleeps
 * until the in-process notifier fires or the poll interval elapses (appends
 * made by other processes). Any adapter whose readAll is gap-free in position
 * order can use it.
 */
export class PollingSubscription extends LoopingSubscription {
  readonly #stopListening: () => void;

  constructor(
    private readonly source: Pick<EventStore, 'readAll' | 'headPosition'>,
    notifier: AppendNotifier,
    options: SubscribeOptions,
    private readonly pollIntervalMs: number,
  ) {
    super(options, () => source.headPosition());
    this.#stopListening = notifier.listen(() => this.signal.wake());
    this.start();
  }

  protected async deliver(): Promise<void> {
    while (!this.stopping) {
      this.signal.clear();
      const batch = await this.source.readAll({ after: this.position, maxCount: this.batchSize });
      if (this.stopping) break;
      const last = batch.at(-1);
      if (last === undefined) {
        this.advance();
        if (!this.stopping) await this.signal.sleep(this.pollIntervalMs);
        continue;
      }
      await this.options.onBatch(batch);
      this.advance(last.position);
    }
  }

  protected override onEnded(): void {
    this.#stopListening();
  }
}
