import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { FileCursor, connectKafka, publishLeadChanges, sluiceTopics, topicNames } from '@sluice/kafka';
import { lastChangeSeq, openProjectionStore, readChanges, startProjector } from '@sluice/projector';
import type { DerivedChange } from '@sluice/projector';
import { resolveKafka } from '@sluice/testkit';
import { appendAll, demoEvents, demoRules, openEventStore, tempDir } from '../../packages/projector/src/test-support.js';
import { eventually, readTopic } from '../../services/kafka-bridge/src/test-support.js';

/*
 * The projector's derived changes published to the lead-changes topic with a
 * durable cursor: everything once, keyed by lead, and a publisher started
 * again from the cursor sends only what came after it.
 */

const kafkaService = await resolveKafka();
const skip = 'skip' in kafkaService ? `lead-changes publishing tests skipped: ${kafkaService.skip}` : undefined;
if (skip) console.warn(skip);
afterAll(async () => {
  if ('brokers' in kafkaService) await kafkaService.stop?.();
});

describe.skipIf(skip)('lead changes to Kafka', () => {
  it('given a projector with changes, when published, stopped, and started again after more events, then each change is on the topic once, keyed by its lead', async () => {
    const tmp = tempDir('sluice-lead-changes-');
    const events = demoEvents(3000, 5);
    const store = await openEventStore(tmp.path('events.sqlite'));
    const projections = openProjectionStore(tmp.path('projections.sqlite'));
    const projector = startProjector({ store, projections, config: demoRules() });
    const kafka = connectKafka({ brokers: 'brokers' in kafkaService ? kafkaService.brokers : [], clientId: 'lead-changes-test' });
    const prefix = `test-${randomUUID()}`;
    const topic = topicNames(prefix).leadChanges;
    await kafka.ensureTopics(sluiceTopics({ topicPrefix: prefix, partitions: 3, replicationFactor: 1 }));
    const producer = await kafka.producer();
    const cursor = new FileCursor(tmp.path('lead-changes.cursor'));
    // the live projector records a change per flush, so feed it in small steps as live traffic would
    const feed = async (slice: typeof events) => {
      for (let i = 0; i < slice.length; i += 100) {
        await appendAll(store, slice.slice(i, i + 100));
        await projector.caughtUp();
      }
    };
    const publish = () => publishLeadChanges({ changes: (after) => projector.changes(after), producer, topic, cursor, maxBatch: 3 });
    try {
      await feed(events.slice(0, 2000));
      const firstHead = lastChangeSeq(projections);
      expect(firstHead).toBeGreaterThan(3);

      const first = publish();
      await eventually(async () => (cursor.read() === firstHead ? true : undefined));
      await first.stop();

      await feed(events.slice(2000));
      const head = lastChangeSeq(projections);
      expect(head).toBeGreaterThan(firstHead);
      const second = publish();
      await eventually(async () => (cursor.read() === head ? true : undefined));
      await second.stop();

      const published = (await readTopic(kafka, topic, head)).map((m) => ({ key: m.key?.toString(), change: JSON.parse(m.value!.toString()) as DerivedChange }));
      const stored = readChanges(projections, 0, head + 1);
      expect(published.map((p) => p.change).sort((a, b) => a.seq - b.seq)).toEqual(stored);
      expect(published.every((p) => p.key === p.change.leadId)).toBe(true);
    } finally {
      await projector.stop();
      await producer.disconnect();
      projections.close();
      await store.close();
      tmp.remove();
    }
  });
});
