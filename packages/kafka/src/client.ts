// The one module of Sluice that imports kafkajs (it has sought maintainers
// since 2023): producers, topic creation and the batch consumer are offered
// here in Sluice's own terms, so the client could be swapped in one place.
import { Kafka, logLevel } from 'kafkajs';
import type { Consumer, IHeaders, KafkaMessage, Producer } from 'kafkajs';

export interface KafkaConnectOptions {
  brokers: readonly string[];
  clientId: string;
}

export interface TopicSpec {
  topic: string;
  partitions: number;
  replicationFactor: number;
}

export interface OutgoingMessage {
  /** the partitioning key: one key's messages stay in order on one partition */
  key: string | Buffer | null;
  value: string | Buffer | null;
  headers?: Record<string, string>;
  /** this partition instead of the key's: a message every consumer must see goes to each (see partitionCount) */
  partition?: number;
}

export interface ConsumedMessage {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  /** header values as UTF-8 text (Sluice writes text headers only) */
  headers: Record<string, string>;
}

/** One fetched batch of one partition, handed to a consumer's handler. */
export interface ConsumedBatch {
  topic: string;
  partition: number;
  messages: readonly ConsumedMessage[];
  /** messages on the partition after this batch when it was fetched */
  lag: number;
  /** false once the consumer is stopping or the partition was revoked: stop taking sub-batches */
  isActive(): boolean;
  heartbeat(): Promise<void>;
  /** Commits the group's offset past `offset` (call only once everything up to it is durable). */
  commitThrough(offset: string): Promise<void>;
  /** Stops fetching this partition until the returned function is called. */
  pause(): () => void;
}

export interface SendOptions {
  /**
   * How long the caller waits for the acknowledgement; past it the send
   * rejects with a ProduceDeadlineError. kafkajs itself never gives up on an
   * unreachable broker (the idempotent producer retries without end).
   */
  deadlineMs?: number;
}

/**
 * The broker did not acknowledge within the caller's deadline. Messages still
 * waiting for their turn were dropped; if they were already in the request
 * being retried (`inFlight`), they may still be written once the broker
 * answers: the caller must not count them as accepted, and a resend can
 * write them a second time to the topic.
 */
export class ProduceDeadlineError extends Error {
  constructor(
    readonly deadlineMs: number,
    readonly inFlight: boolean,
  ) {
    super(`Kafka did not acknowledge within ${deadlineMs} ms${inFlight ? ' (the request is still being retried and may yet be written)' : ' (nothing was sent)'}`);
    this.name = 'ProduceDeadlineError';
  }
}

export interface KafkaProducer {
  /** Resolves once every in-sync replica has the messages (acks = all; the producer is idempotent). */
  send(topic: string, messages: readonly OutgoingMessage[], options?: SendOptions): Promise<void>;
  /**
   * False while the request in flight has outlived a caller's deadline: the
   * broker is not answering and kafkajs is still retrying. That retry is
   * itself the probe: this turns true again as soon as it gets through (or
   * fails for another reason), without waiting for new traffic.
   */
  reachable(): boolean;
  /** how many partitions the topic has now, as the cluster says (asked each time: it is rare, and partitions can be added) */
  partitionCount(topic: string): Promise<number>;
  disconnect(): Promise<void>;
}

export interface BatchConsumer {
  /** Leaves the group; a batch being handled finishes first, and its offsets are committed only if it completed. */
  stop(): Promise<void>;
}

export interface BatchConsumerOptions {
  groupId: string;
  topic: string;
  /** partitions handled at once (each partition's batches stay in order) */
  concurrentPartitions: number;
  /** how long the group waits for a silent member before reassigning its partitions (kafkajs default 30 s) */
  sessionTimeoutMs?: number;
  /** a new group starts at the beginning of the topic, so nothing produced before the first consumer is skipped */
  handle(batch: ConsumedBatch): Promise<void>;
  /** the consumer gave up (kafkajs retries a failing batch, and restarts itself, before this) */
  onCrash?: (err: unknown) => void;
}

export interface KafkaClient {
  ensureTopics(topics: readonly TopicSpec[]): Promise<void>;
  producer(): Promise<KafkaProducer>;
  consume(options: BatchConsumerOptions): Promise<BatchConsumer>;
}

export function connectKafka(options: KafkaConnectOptions): KafkaClient {
  // kafkajs logs every retriable error (a restarting broker, a rebalance) at
  // ERROR; calls that finally fail reject, and the caller reports those.
  const kafka = new Kafka({ clientId: options.clientId, brokers: [...options.brokers], logLevel: logLevel.NOTHING });
  return {
    ensureTopics: async (topics) => {
      const admin = kafka.admin();
      await admin.connect();
      try {
        const existing = new Set(await admin.listTopics());
        const missing = topics.filter((t) => !existing.has(t.topic));
        if (missing.length === 0) return;
        // resolves false, not an error, when another process created them first
        await admin.createTopics({
          topics: missing.map((t) => ({ topic: t.topic, numPartitions: t.partitions, replicationFactor: t.replicationFactor })),
          // kafkajs's own wait for leaders rejects outside the returned promise
          // (an unhandled UNKNOWN_TOPIC_OR_PARTITION while a new topic propagates
          // kills the process), so the wait is done below
          waitForLeaders: false,
        });
        await waitForLeaders(() => admin.fetchTopicMetadata({ topics: missing.map((t) => t.topic) }));
      } finally {
        await admin.disconnect();
      }
    },
    producer: async () => openProducer(kafka),
    consume: async (options) => startConsumer(kafka, options),
  };
}

type TopicMetadata = { topics: Array<{ partitions: Array<{ leader: number }> }> };

/** Until every partition of the topics has a leader; retriable errors (the topic still propagating) mean "not yet". */
async function waitForLeaders(fetchMetadata: () => Promise<TopicMetadata>): Promise<void> {
  for (;;) {
    try {
      const { topics } = await fetchMetadata();
      if (topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) return;
    } catch (err) {
      if (!(err as { retriable?: boolean }).retriable) throw err;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

interface PendingSend {
  topic: string;
  messages: readonly OutgoingMessage[];
  resolve(): void;
  reject(err: unknown): void;
}

async function openProducer(kafka: Kafka): Promise<KafkaProducer> {
  // Idempotent: a retried send after a lost acknowledgement is not written
  // twice. kafkajs keeps ordering under idempotence only with one request in
  // flight per broker.
  const producer: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  // With one request in flight, concurrent sends (one per HTTP request) would
  // each wait a round trip in turn. Instead, sends that arrive while one is in
  // flight go out together in the next request (Kafka's linger, driven by
  // load), each caller still answered only once its own messages are
  // acknowledged, in the order the calls were made.
  let queued: PendingSend[] = [];
  let overdue = false;
  let flushing: Promise<void> | undefined;
  const flush = async () => {
    while (queued.length > 0) {
      const group = queued;
      queued = [];
      const byTopic = new Map<string, OutgoingMessage[]>();
      for (const send of group) {
        const list = byTopic.get(send.topic) ?? [];
        list.push(...send.messages);
        byTopic.set(send.topic, list);
      }
      try {
        await producer.sendBatch({
          acks: -1,
          topicMessages: [...byTopic].map(([topic, messages]) => ({
            topic,
            messages: messages.map((m) => ({ key: m.key, value: m.value, ...(m.headers ? { headers: m.headers } : {}), ...(m.partition !== undefined ? { partition: m.partition } : {}) })),
          })),
        });
        // a caller whose deadline passed was already rejected: settling again is a no-op
        for (const send of group) send.resolve();
      } catch (err) {
        for (const send of group) send.reject(err);
      } finally {
        overdue = false;
      }
    }
    flushing = undefined;
  };
  const enqueue = (send: PendingSend, deadlineMs: number | undefined) => {
    if (deadlineMs !== undefined) {
      const { resolve, reject } = send;
      const timer = setTimeout(() => {
        // Still waiting for its turn: withdrawn, never sent. Already in the
        // request kafkajs is retrying: that cannot be withdrawn, so the caller
        // is told now and the request may still complete later (see ProduceDeadlineError).
        const waiting = queued.indexOf(send);
        if (waiting >= 0) queued.splice(waiting, 1);
        else overdue = true;
        reject(new ProduceDeadlineError(deadlineMs, waiting < 0));
      }, deadlineMs);
      send.resolve = () => {
        clearTimeout(timer);
        resolve();
      };
      send.reject = (err) => {
        clearTimeout(timer);
        reject(err);
      };
    }
    queued.push(send);
    flushing ??= flush();
  };
  return {
    send: (topic, messages, options = {}) => {
      if (messages.length === 0) return Promise.resolve();
      return new Promise<void>((resolve, reject) => enqueue({ topic, messages, resolve, reject }, options.deadlineMs));
    },
    reachable: () => !overdue,
    partitionCount: async (topic) => {
      const admin = kafka.admin();
      await admin.connect();
      try {
        const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
        return topics[0]!.partitions.length;
      } finally {
        await admin.disconnect();
      }
    },
    disconnect: async () => {
      await flushing;
      await producer.disconnect();
    },
  };
}

function consumed(message: KafkaMessage): ConsumedMessage {
  return { offset: message.offset, key: message.key, value: message.value, headers: textHeaders(message.headers) };
}

function textHeaders(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    // a repeated header arrives as an array: its last value wins, as in most HTTP-like readers
    const last = Array.isArray(value) ? value.at(-1) : value;
    if (last !== undefined) out[name] = last.toString();
  }
  return out;
}

async function startConsumer(kafka: Kafka, options: BatchConsumerOptions): Promise<BatchConsumer> {
  const session = options.sessionTimeoutMs === undefined ? {} : { sessionTimeout: options.sessionTimeoutMs, heartbeatInterval: Math.floor(options.sessionTimeoutMs / 3) };
  const consumer: Consumer = kafka.consumer({ groupId: options.groupId, ...session });
  if (options.onCrash) {
    const onCrash = options.onCrash;
    consumer.on(consumer.events.CRASH, (event) => {
      if (!event.payload.restart) onCrash(event.payload.error);
    });
  }
  await consumer.connect();
  await consumer.subscribe({ topic: options.topic, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: options.concurrentPartitions,
    eachBatch: async ({ batch, heartbeat, isRunning, isStale, resolveOffset, commitOffsetsIfNecessary, pause }) => {
      await options.handle({
        topic: batch.topic,
        partition: batch.partition,
        messages: batch.messages.map(consumed),
        lag: Number(batch.offsetLag()),
        isActive: () => isRunning() && !isStale(),
        heartbeat,
        commitThrough: async (offset) => {
          resolveOffset(offset);
          await commitOffsetsIfNecessary({ topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: (BigInt(offset) + 1n).toString() }] }] });
        },
        pause,
      });
    },
  });
  return { stop: () => consumer.disconnect() };
}
