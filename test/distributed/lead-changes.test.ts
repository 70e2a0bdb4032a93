import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { FileCursor, connectKafka, publishLeadChanges, sluiceTopics, topicNames } from '@sluice/kafka';
import type { LeadChange, LostChanges } from '@sluice/kafka';
import { changeFeedSource, lastChangeSeq, openProjectionStore, readChanges, startProjector } from '@sluice/projector';
import type { ChangeFeedItem, DerivedChange } from '@sluice/projector';
import { resolveKafka } from '@sluice/testkit';
import { appendAll, demoEvents, demoRules, eventsFor, isoAt, openEventStore, tempDir } from '../../packages/projector/src/test-support.js';
import { eventually, readTopic } from '../../services/kafka-bridge/src/test-support.js';

/*
 * The projector's derived changes published to the lead-changes topic with a
 * durable cursor: everything once, keyed by lead, and a publisher started
 * again from the cursor sends only what came after it; changes the feed
 * trimmed before they were published are announced on every partition.
 */

const kafkaService = await resolveKafka();
const skip = 'skip' in kafkaService ? `lead-changes publishing tests skipped: ${kafkaService.skip}` : undefined;
if (skip) console.warn(skip);
afterAll(async () => {
  if ('brokers' in kafkaService) await kafkaService.stop?.();
});

/** A projector (keeping `changeRetention` changes) over fresh stores, and a lead-changes topic of 3 partitions with its cursor file. */
async function openRig(changeRetention?: number) {
  const tmp = tempDir('sluice-lead-changes-');
  const store = await openEventStore(tmp.path('events.sqlite'));
  const projections = openProjectionStore(tmp.path('projections.sqlite'));
  const projector = startProjector({ store, projections, config: demoRules(), ...(changeRetention !== undefined ? { changeRetention } : {}) });
  const kafka = connectKafka({ brokers: 'brokers' in kafkaService ? kafkaService.brokers : [], clientId: 'lead-changes-test' });
  const prefix = `test-${randomUUID()}`;
  const topic = topicNames(prefix).leadChanges;
  await kafka.ensureTopics(sluiceTopics({ topicPrefix: prefix, partitions: 3, replicationFactor: 1 }));
  const producer = await kafka.producer();
  const cursor = new FileCursor(tmp.path('lead-changes.cursor'));
  return {
    store,
    projections,
    projector,
    kafka,
    topic,
    producer,
    cursor,
    async close() {
      await projector.stop();
      await producer.disconnect();
      projections.close();
      await store.close();
      tmp.remove();
    },
  };
}

describe.skipIf(skip)('lead changes to Kafka', () => {
  it('given a projector with changes, when published, stopped, and started again after more events, then each change is on the topic once, keyed by its lead', async () => {
    const { store, projections, projector, kafka, topic, producer, cursor, close } = await openRig();
    const events = demoEvents(3000, 5);
    // the live projector records a change per flush, so feed it in small steps as live traffic would
    const feed = async (slice: typeof events) => {
      for (let i = 0; i < slice.length; i += 100) {
        await appendAll(store, slice.slice(i, i + 100));
        await projector.caughtUp();
      }
    };
    const publish = () => publishLeadChanges({ feed: changeFeedSource(projections, () => projector.changes()), producer, topic, cursor, maxBatch: 3 });
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
      await close();
    }
  });

  it('given a feed that kept only changes 4..8 of 1..8 (retention 5) before the publisher first ran, when it publishes, then a changes_lost marker for 1..3 is first on each of the 3 partitions, the 5 changes follow, the cursor moves past all, and the loss is reported', async () => {
    const { store, projections, projector, kafka, topic, producer, cursor, close } = await openRig(5);
    const reported: LostChanges[] = [];
    try {
      // each lead's first visit is one change (null -> visitor): L1..L8 are changes 1..8
      const leads = ['L1', 'L2', 'L3', 'L4', 'L5', 'L6', 'L7', 'L8'];
      await appendAll(store, leads.map((lead) => eventsFor({ leadId: lead }, lead)('visit', isoAt(0))));
      await projector.caughtUp();
      const publisher = publishLeadChanges({ feed: changeFeedSource(projections, () => projector.changes()), producer, topic, cursor, onChangesLost: (lost) => reported.push(lost) });
      await eventually(async () => (cursor.read() === 8 ? true : undefined));
      await publisher.stop();

      const marker = { seq: 3, type: 'changes_lost', fromSeq: 1, toSeq: 3 };
      expect(reported).toEqual([marker]);
      // 3 markers (one per partition) + 5 changes
      const published = (await readTopic(kafka, topic, 8)).map((m) => ({ partition: m.partition, key: m.key?.toString() ?? null, value: JSON.parse(m.value!.toString()) as ChangeFeedItem }));
      expect(published).toHaveLength(8);
      const markers = published.filter((m) => m.key === null);
      expect(markers.map((m) => m.partition).sort()).toEqual([0, 1, 2]);
      expect(markers.map((m) => m.value)).toEqual([marker, marker, marker]);
      for (const partition of [0, 1, 2]) expect(published.find((m) => m.partition === partition)?.value).toEqual(marker);
      const changes = published.filter((m) => m.key !== null).sort((a, b) => a.value.seq - b.value.seq);
      expect(changes.map((m) => [m.value.seq, m.key])).toEqual(leads.slice(3).map((lead, i) => [4 + i, lead]));
    } finally {
      await close();
    }
  });

  it('given a change that cannot be serialized, then it alone is parked beside the cursor with the reason, and the changes around it are published', async () => {
    const { kafka, topic, producer, cursor, close } = await openRig();
    // no projector change holds a BigInt (they are read back from JSON): this feed is written for the test
    const changes: Array<LeadChange & { score?: bigint }> = [{ seq: 1, leadId: 'L1' }, { seq: 2, leadId: 'L2', score: 1n }, { seq: 3, leadId: 'L3' }];
    const feed = { head: () => 3, read: (afterSeq: number, max: number) => changes.filter((c) => c.seq > afterSeq).slice(0, max) };
    const publisher = publishLeadChanges({ feed, producer, topic, cursor });
    try {
      await publisher.caughtUp();
      expect(cursor.read()).toBe(3);
      expect(publisher.status().parkedSinceStart).toBe(1);
      const parked = readFileSync(`${cursor.path}.parked`, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { seq: number; leadId: string; reason: string });
      expect(parked).toEqual([{ seq: 2, leadId: 'L2', reason: expect.stringMatching(/BigInt/), parkedAt: expect.any(String) }]);
      const published = (await readTopic(kafka, topic, 2)).map((m) => JSON.parse(m.value!.toString()) as LeadChange);
      expect(published.map((c) => c.seq).sort()).toEqual([1, 3]);
    } finally {
      await publisher.stop();
      await close();
    }
  });
});
