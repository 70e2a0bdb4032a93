import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveKafka } from '@sluice/testkit';
import { connectKafka } from './client.js';
import type { ConsumedMessage } from './client.js';

const kafkaService = await resolveKafka();
const skip = 'skip' in kafkaService ? `Kafka client tests skipped: ${kafkaService.skip}` : undefined;
if (skip) console.warn(skip);
afterAll(async () => {
  if ('brokers' in kafkaService) await kafkaService.stop?.();
});

describe.skipIf(skip)('the Kafka client', () => {
  it('given many concurrent sends (coalesced into shared requests), then each resolves and one key keeps the order the calls were made in', async () => {
    const kafka = connectKafka({ brokers: 'brokers' in kafkaService ? kafkaService.brokers : [], clientId: 'client-test' });
    const topic = `test-${randomUUID()}`;
    // twice: the second call finds the topic and creates nothing
    for (let i = 0; i < 2; i++) await kafka.ensureTopics([{ topic, partitions: 3, replicationFactor: 1 }]);
    const producer = await kafka.producer();
    const calls = Array.from({ length: 20 }, (_, call) => Array.from({ length: 50 }, (_, i) => ({ key: `k${i % 2}`, value: `${call}:${i}` })));
    await Promise.all(calls.map((messages) => producer.send(topic, messages)));
    await producer.disconnect();

    const taken: ConsumedMessage[] = [];
    let all: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (all = resolve));
    const consumer = await kafka.consume({
      groupId: `test-${randomUUID()}`,
      topic,
      concurrentPartitions: 3,
      handle: async (batch) => {
        taken.push(...batch.messages);
        await batch.commitThrough(batch.messages.at(-1)!.offset);
        if (taken.length >= 1000) all();
      },
    });
    await done;
    await consumer.stop();
    for (const key of ['k0', 'k1']) {
      const values = taken.filter((m) => m.key?.toString() === key).map((m) => m.value!.toString());
      expect(values).toEqual(calls.flat().filter((m) => m.key === key).map((m) => m.value));
    }
  });
});
