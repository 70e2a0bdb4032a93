import type { EventStore } from '@sluice/event-store';
import type { BatchConsumer, ConsumedBatch, ConsumedMessage, KafkaClient, OutgoingMessage } from '../client.js';
import { DEAD_LETTER_HEADERS } from '../topics.js';
import type { SluiceTopics } from '../topics.js';
import type { SluiceEvent } from '@sluice/schemas';
import { TouchpointConflictError, appendTouchpoints } from '@sluice/touchpoint-log';
import { InFlightLimit } from './in-flight.js';
import type { BridgeMetrics } from './metrics.js';
import { createBridgeMetrics } from './metrics.js';
import { decodeTouchpoint } from './steps.js';

export interface BridgeOptions {
  kafka: KafkaClient;
  store: EventStore;
  groupId: string;
  topics: SluiceTopics;
  /** most messages appended in one store transaction */
  maxBatchEvents: number;
  /** most events being appended at once across partitions */
  maxInFlightEvents: number;
  /** how long the group waits for a silent member (a killed bridge) before reassigning its partitions */
  sessionTimeoutMs?: number;
  /** partitions handled at once; default 4 */
  concurrentPartitions?: number;
  metrics?: BridgeMetrics;
  /** the consumer gave up for good (the process should exit and be restarted) */
  onCrash?: (err: unknown) => void;
}

export interface Bridge {
  readonly metrics: BridgeMetrics;
  /** Leaves the consumer group after the sub-batch in hand is durable and committed. */
  stop(): Promise<void>;
}

/**
 * The kafka-bridge: a consumer group on the touchpoints topic appending to the
 * event store through touchpoint-log. Offsets are committed only after the
 * append (and any dead-letter send) is acknowledged, so a crash redelivers
 * at most what was not yet committed, and the event ids (idempotency keys)
 * make that redelivery write nothing twice. A message whose id the store
 * holds with other content (or an earlier message of its chunk carries with
 * other content) is dead-lettered as a conflict rather than retried for ever:
 * no retry can make it fit, and the partition would stop behind it.
 */
export async function startBridge(options: BridgeOptions): Promise<Bridge> {
  const metrics = options.metrics ?? createBridgeMetrics();
  const limit = new InFlightLimit(options.maxInFlightEvents);
  const deadLetters = await options.kafka.producer();

  const appendChunk = async (batch: ConsumedBatch, chunk: readonly ConsumedMessage[]) => {
    const decodedEvents: DecodedEvent[] = [];
    const refused: OutgoingMessage[] = [];
    for (const message of chunk) {
      const decoded = decodeTouchpoint(message);
      if (decoded.ok) decodedEvents.push({ event: decoded.event, message });
      else {
        metrics.deadLettered.inc({ step: decoded.step });
        refused.push(deadLetter(batch, message, decoded.step, decoded.reason));
      }
    }
    // All must be acknowledged before the offset moves. A failing dead-letter
    // send is retried with the batch (kafkajs redelivers it) instead of being
    // skipped: skipping would lose the message, and the retried append is a no-op.
    const [{ result, conflicting }] = await Promise.all([appendAllButConflicts(decodedEvents), deadLetters.send(options.topics.touchpointsDeadLetter, refused)]);
    metrics.appended.inc(result.accepted);
    metrics.duplicates.inc(result.duplicates);
    if (conflicting.length === 0) return;
    metrics.deadLettered.inc({ step: 'conflict' }, conflicting.length);
    await deadLetters.send(options.topics.touchpointsDeadLetter, conflicting.map(({ message, reason }) => deadLetter(batch, message, 'conflict', reason)));
  };

  /**
   * Appends the events, leaving out each one the store refuses as a conflict
   * and trying the rest again (a retry can meet a new conflict: another
   * partition may have stored one of the ids meanwhile; each round leaves at
   * least one event out, so it ends). The events that go in are appended
   * exactly once either way, and a redelivered chunk meets the same conflicts.
   */
  const appendAllButConflicts = async (decoded: readonly DecodedEvent[]) => {
    let pending = decoded;
    const conflicting: Array<{ message: ConsumedMessage; reason: string }> = [];
    for (;;) {
      try {
        const result = await appendTouchpoints(options.store, pending.map(({ event }) => event));
        return { result, conflicting };
      } catch (err) {
        if (!(err instanceof TouchpointConflictError)) throw err;
        for (const { index, id, earlierIndex } of err.conflicts) {
          const reason =
            earlierIndex === undefined
              ? `event id conflict: ${JSON.stringify(id)} is already stored with a different type or data`
              : `event id conflict: ${JSON.stringify(id)} is also the id of offset ${pending[earlierIndex]!.message.offset}, appended before it, with a different type or data`;
          conflicting.push({ message: pending[index]!.message, reason });
        }
        const left = new Set(err.conflicts.map(({ index }) => index));
        pending = pending.filter((_, i) => !left.has(i));
      }
    }
  };

  const handle = async (batch: ConsumedBatch) => {
    metrics.lag.set({ partition: String(batch.partition) }, batch.lag);
    for (let start = 0; start < batch.messages.length; start += options.maxBatchEvents) {
      // revoked or stopping: what is not committed goes to the partition's next owner
      if (!batch.isActive()) return;
      const chunk = batch.messages.slice(start, start + options.maxBatchEvents);
      metrics.consumed.inc(chunk.length);
      metrics.batchSize.observe(chunk.length);
      const release = await limit.acquire(chunk.length, () => {
        metrics.backpressureWaits.inc();
        return batch.pause();
      });
      metrics.inFlight.set(limit.current);
      try {
        await appendChunk(batch, chunk);
      } finally {
        release();
        metrics.inFlight.set(limit.current);
      }
      await batch.commitThrough(chunk.at(-1)!.offset);
      await batch.heartbeat();
    }
  };

  let consumer: BatchConsumer;
  try {
    consumer = await options.kafka.consume({
      groupId: options.groupId,
      topic: options.topics.touchpoints,
      concurrentPartitions: options.concurrentPartitions ?? 4,
      ...(options.sessionTimeoutMs === undefined ? {} : { sessionTimeoutMs: options.sessionTimeoutMs }),
      handle,
      ...(options.onCrash ? { onCrash: options.onCrash } : {}),
    });
  } catch (err) {
    await deadLetters.disconnect();
    throw err;
  }
  return {
    metrics,
    stop: async () => {
      await consumer.stop();
      await deadLetters.disconnect();
    },
  };
}

interface DecodedEvent {
  event: SluiceEvent;
  message: ConsumedMessage;
}

/** The original key and bytes, and where they came from and why they were refused in headers. */
function deadLetter(batch: ConsumedBatch, message: ConsumedMessage, step: string, reason: string): OutgoingMessage {
  return {
    key: message.key,
    value: message.value,
    headers: {
      [DEAD_LETTER_HEADERS.reason]: reason,
      [DEAD_LETTER_HEADERS.step]: step,
      [DEAD_LETTER_HEADERS.topic]: batch.topic,
      [DEAD_LETTER_HEADERS.partition]: String(batch.partition),
      [DEAD_LETTER_HEADERS.offset]: message.offset,
    },
  };
}
