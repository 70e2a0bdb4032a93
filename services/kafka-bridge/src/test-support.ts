import { randomUUID } from 'node:crypto';
import type { ConsumedMessage, KafkaClient } from '@sluice/kafka';

/**
 * Test support for Kafka suites (imported by *.test.ts only): waiting for an
 * effect another process or consumer produces, and reading a topic back.
 */

/**
 * Resolves once `check` returns a value other than undefined. It polls rather
 * than sleeping a fixed time: the suite's timeout is the only bound, so a slow
 * machine takes longer instead of failing.
 */
export async function eventually<T>(check: () => Promise<T | undefined>): Promise<T> {
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The first `count` messages of a topic (every partition, each message with its own), read by a throwaway consumer group. */
export async function readTopic(kafka: KafkaClient, topic: string, count: number): Promise<Array<ConsumedMessage & { partition: number }>> {
  const taken: Array<ConsumedMessage & { partition: number }> = [];
  let enough: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (enough = resolve));
  const consumer = await kafka.consume({
    groupId: `test-reader-${randomUUID()}`,
    topic,
    concurrentPartitions: 1,
    handle: async (batch) => {
      taken.push(...batch.messages.map((m) => ({ ...m, partition: batch.partition })));
      if (taken.length >= count) enough();
    },
  });
  try {
    await done;
  } finally {
    await consumer.stop();
  }
  return taken;
}
