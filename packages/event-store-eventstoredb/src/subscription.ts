import type { AllStreamRecordedEvent, AllStreamResolvedEvent, AllStreamSubscription, Position } from '@eventstore/db-client';
import type { RecordedEvent, SubscribeOptions } from '@sluice/event-store';
import { LoopingSubscription } from '@sluice/event-store/support';
import { comparePositions, fromPortPosition, isSubscriptionDrop } from './mapping.js';

/** What the subscription needs from the store: the client calls stay in the store. */
export interface LiveSource {
  /**
   * A $all subscription after `from` (exclusive), filtered on the server to
   * this store's streams, buffering at most `highWaterMark` events, reporting
   * the server's checkpoints to `onCheckpoint`.
   */
  open(
    from: Position | 'start',
    highWaterMark: number,
    onCheckpoint: (subscription: AllStreamSubscription, position: Position) => void,
  ): AllStreamSubscription;
  /** The port event, or undefined for an event of another store. */
  toPortEvent(event: AllStreamRecordedEvent): RecordedEvent | undefined;
  headPosition(): Promise<number>;
}

export interface ReconnectPolicy {
  /** Pause before the first resubscription after a drop; doubles per consecutive drop. */
  initialDelayMs: number;
  maxDelayMs: number;
}

/** One connection's state: what ended it and how far the server's checkpoints got. */
interface Connection {
  ended: boolean;
  error: { err: unknown } | undefined;
  /** Events read off this connection, and how many of them had their batch handled. */
  received: number;
  handled: number;
  /** A server checkpoint that becomes the resume point once the events received before it are handled. */
  checkpoint: { position: Position; afterReceived: number } | undefined;
}

/**
 * A port subscription on one filtered $all subscription (the server skips
 * system events and other stores' streams), pulled in batches: events are read
 * off the client's stream only while no onBatch runs, so a slow consumer stops
 * reading, the client's buffer fills, and the server eventually drops the
 * subscription. Resuming is ours to do: after a drop (an error the client
 * reports, or the server ending the call) it resubscribes after the last
 * handled $all position, exclusive, so nothing is skipped or delivered twice.
 *
 * That resume position also follows the server's filter checkpoints: when the
 * store is quiet while the server is busy, a resubscription need not rescan
 * what the filter already skipped. A checkpoint arrives in stream order after
 * the events before it, which may still sit unread in the client's buffer, so
 * it is applied only once those are handled.
 */
export class EventStoreDbSubscription extends LoopingSubscription {
  #resumeFrom: Position | 'start';
  #drops = 0;

  constructor(
    private readonly source: LiveSource,
    options: SubscribeOptions,
    private readonly reconnect: ReconnectPolicy,
  ) {
    super(options, () => source.headPosition());
    this.#resumeFrom = fromPortPosition(options.after);
    this.start();
  }

  protected async deliver(): Promise<void> {
    while (!this.stopping) {
      const connection: Connection = { ended: false, error: undefined, received: 0, handled: 0, checkpoint: undefined };
      const subscription = this.#connect(connection);
      try {
        await this.#consume(subscription, connection);
      } finally {
        // The client's unsubscribe awaits the call's creation, which rejects when the server could not be
        // reached; the call is over either way, and why is already in connection.error.
        await subscription.unsubscribe().catch(() => {});
      }
      if (this.stopping) break;
      const dropped = connection.error?.err;
      if (dropped !== undefined && !isSubscriptionDrop(dropped)) throw dropped;
      this.#drops++;
      const delayMs = Math.min(this.reconnect.initialDelayMs * 2 ** (this.#drops - 1), this.reconnect.maxDelayMs);
      console.warn(
        `event-store: EventStoreDB subscription dropped at position ${this.position} (${dropped === undefined ? 'the server ended it' : String(dropped)}); resubscribing in ${delayMs} ms`,
      );
      this.signal.clear();
      await this.signal.sleep(delayMs);
    }
  }

  #connect(connection: Connection): AllStreamSubscription {
    const subscription = this.source.open(this.#resumeFrom, this.batchSize, (subscription, position) => {
      connection.checkpoint = { position, afterReceived: connection.received + subscription.readableLength };
      this.#applyCheckpoint(connection);
    });
    // Listening for 'error' for the connection's whole life: an error emitted while onBatch runs would otherwise be thrown.
    return subscription
      .on('error', (err) => {
        connection.error ??= { err };
        this.signal.wake();
      })
      .on('end', () => {
        connection.ended = true;
        this.signal.wake();
      })
      .on('readable', () => this.signal.wake());
  }

  /** Delivers batches until the subscription is stopped or the connection ends or fails. */
  async #consume(subscription: AllStreamSubscription, connection: Connection): Promise<void> {
    while (!this.stopping) {
      this.signal.clear();
      const batch: RecordedEvent[] = [];
      let lastRead: Position | undefined;
      let item: AllStreamResolvedEvent | null;
      // Whatever is buffered is drained even after an error, so a drop loses nothing already received.
      while (batch.length < this.batchSize && (item = subscription.read() as AllStreamResolvedEvent | null) !== null) {
        connection.received++;
        if (item.event === undefined) continue;
        lastRead = item.event.position;
        const event = this.source.toPortEvent(item.event);
        if (event !== undefined) batch.push(event);
      }
      if (lastRead === undefined) {
        if (connection.error !== undefined || connection.ended) return;
        this.advance();
        await this.signal.sleep();
        continue;
      }
      if (batch.length > 0) {
        await this.options.onBatch(batch);
        this.#drops = 0;
      }
      connection.handled = connection.received;
      this.#advanceResume(lastRead);
      this.#applyCheckpoint(connection);
      this.advance(batch.at(-1)?.position);
    }
  }

  #applyCheckpoint(connection: Connection): void {
    const { checkpoint } = connection;
    if (checkpoint === undefined || connection.handled < checkpoint.afterReceived) return;
    connection.checkpoint = undefined;
    this.#advanceResume(checkpoint.position);
  }

  /** Checkpoints may lag behind events already handled: the resume point only moves forward. */
  #advanceResume(position: Position): void {
    if (this.#resumeFrom === 'start' || comparePositions(position, this.#resumeFrom) > 0) this.#resumeFrom = position;
  }
}
