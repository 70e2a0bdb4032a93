// The Kafka a test gets speaks what kafkajs speaks, keeps what it acknowledged
// and the offsets a group committed, across a broker restart.
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveKafka, restartKafka, type KafkaResolution, type KafkaService } from './kafka.js';

const runKafka = await resolveKafka();
const ownKafka = await resolveKafka({ exclusive: true });

afterAll(async () => {
  for (const resolution of [runKafka, ownKafka]) if ('brokers' in resolution) await resolution.stop?.();
});

function available(resolution: KafkaResolution, suite: string): KafkaService | undefined {
  if ('skip' in resolution) {
    console.warn(`${suite}: skipped: ${resolution.skip}`);
    return undefined;
  }
  return resolution;
}

function client(kafka: Pick<KafkaService, 'brokers'>): Kafka {
  // kafkajs logs the retriable errors of a broker that is still loading its
  // coordinators; a real failure surfaces as a rejected call instead.
  return new Kafka({ clientId: 'testkit-kafka-test', brokers: kafka.brokers, logLevel: logLevel.NOTHING });
}

async function createTopic(kafka: Kafka, partitions: number): Promise<string> {
  const topic = `testkit-${randomUUID()}`;
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
  return topic;
}

/** The way Sluice produces: idempotent, acknowledged by all in-sync replicas. */
async function produce(kafka: Kafka, topic: string, values: string[]): Promise<void> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    await producer.send({
      topic,
      acks: -1,
      messages: values.map((value) => ({ key: value.split(':')[0] ?? value, value })),
    });
  } finally {
    await producer.disconnect();
  }
}

/** Consume `count` records in a group, committing each one's offset after taking it, then leave the group. */
async function consumeCommitting(kafka: Kafka, groupId: string, topic: string, count: number): Promise<string[]> {
  const consumer = kafka.consumer({ groupId });
  const taken: string[] = [];
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          autoCommit: false,
          eachMessage: async ({ partition, message }) => {
            taken.push(message.value?.toString() ?? '');
            await consumer.commitOffsets([{ topic, partition, offset: (BigInt(message.offset) + 1n).toString() }]);
            if (taken.length === count) resolve();
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return taken;
}

/** Per partition: the group's committed offset and the partition's end. */
async function committedAndEnd(kafka: Kafka, groupId: string, topic: string) {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const ends = await admin.fetchTopicOffsets(topic);
    const byPartition = (rows: { partition: number; offset: string }[]) =>
      Object.fromEntries(rows.map(({ partition, offset }) => [partition, offset]));
    return { committed: byPartition(committed?.partitions ?? []), end: byPartition(ends) };
  } finally {
    await admin.disconnect();
  }
}

const touchpoints = (from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => `lead-${(from + i) % 7}:touchpoint-${from + i}`);

const runBroker = available(runKafka, 'Kafka round trip on the test run\'s broker');
describe.skipIf(runBroker === undefined)('given the test run\'s Kafka', () => {
  it('when an idempotent producer writes with acks=-1 and a group consumes and commits, then every record arrives once and the offsets are committed at the end', async () => {
    const kafka = client(runBroker ?? { brokers: [] });
    const topic = await createTopic(kafka, 3);
    const sent = touchpoints(0, 60);

    await produce(kafka, topic, sent);
    const received = await consumeCommitting(kafka, 'round-trip', topic, sent.length);

    expect([...received].sort()).toEqual([...sent].sort());
    const { committed, end } = await committedAndEnd(kafka, 'round-trip', topic);
    expect(committed).toEqual(end);
    expect(Object.values(end).reduce((sum, offset) => sum + Number(offset), 0)).toBe(sent.length);
  });
});

const ownBroker = available(ownKafka, 'Kafka broker restart');
describe.skipIf(ownBroker === undefined)('given a local broker of the test\'s own', () => {
  it('when the broker restarts between two batches, then the group resumes after its committed offsets and no record is lost', { timeout: 300_000 }, async () => {
    const broker = ownBroker ?? { brokers: [] };
    const kafka = client(broker);
    const topic = await createTopic(kafka, 3);
    const before = touchpoints(0, 40);
    const after = touchpoints(40, 60);

    await produce(kafka, topic, before);
    expect((await consumeCommitting(kafka, 'resume', topic, before.length)).sort()).toEqual([...before].sort());

    await restartKafka(broker);

    await produce(kafka, topic, after);
    // the group's committed offsets survived: it reads only what came after them
    expect((await consumeCommitting(kafka, 'resume', topic, after.length)).sort()).toEqual([...after].sort());
    // the records survived: a new group reads all of them
    expect((await consumeCommitting(kafka, 'fresh', topic, 60)).sort()).toEqual([...before, ...after].sort());
    const { committed, end } = await committedAndEnd(kafka, 'resume', topic);
    expect(committed).toEqual(end);
  });
});
