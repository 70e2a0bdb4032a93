import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import type { FollowerFailure } from '@sluice/follower';
import { FileCursor, connectKafka, publishLeadChanges, sluiceTopics, topicNames } from '@sluice/kafka';
import type { KafkaClient } from '@sluice/kafka';
import { changeFeedSource, lastChangeSeq, openProjectionStore, readChanges, startProjector } from '@sluice/projector';
import type { ChangeFeedItem } from '@sluice/projector';
import { resolveKafka, restartKafka } from '@sluice/testkit';
import { appendAll, demoRules, eventsFor, isoAt, openEventStore, tempDir } from '../../packages/projector/src/test-support.js';
import { eventually, readTopic } from '../../services/kafka-bridge/src/test-support.js';

/*
 * The lead-changes publisher across a broker restart, on a real local broker
 * of this file's own (the run's shared one has other users): it waits the
 * broker out instead of stopping, its cursor stays at what Kafka acknowledged
 * meanwhile, and once the broker is back everything due is on the topic.
 */

const kafkaService = await resolveKafka({ exclusive: true });
const skip = 'skip' in kafkaService ? `lead-changes broker restart tests skipped: ${kafkaService.skip}` : undefined;
if (skip) console.warn(skip);
afterAll(async () => {
  if ('brokers' in kafkaService) await kafkaService.stop?.();
});

const restartBroker = (whileDown: () => Promise<void>) => restartKafka(kafkaService as Parameters<typeof restartKafka>[0], whileDown);

/** Each lead's first visit: one change (null -> visitor) per lead, in this order. */
const firstVisits = (leads: readonly string[]) => leads.map((lead) => eventsFor({ leadId: lead }, lead)('visit', isoAt(0)));

/** A projector over fresh stores (its feed keeping `changeRetention` changes) and a publisher to a new 3-partition topic, retrying quickly. */
async function openRig(changeRetention: number, sendDeadlineMs?: number) {
  const tmp = tempDir('sluice-lead-changes-restart-');
  const store = await openEventStore(tmp.path('events.sqlite'));
  const projections = openProjectionStore(tmp.path('projections.sqlite'));
  const projector = startProjector({ store, projections, config: demoRules(), changeRetention });
  const kafka = connectKafka({ brokers: 'brokers' in kafkaService ? kafkaService.brokers : [], clientId: 'lead-changes-restart-test' });
  const prefix = `test-${randomUUID()}`;
  const topic = topicNames(prefix).leadChanges;
  await kafka.ensureTopics(sluiceTopics({ topicPrefix: prefix, partitions: 3, replicationFactor: 1 }));
  const producer = await kafka.producer();
  const cursor = new FileCursor(tmp.path('lead-changes.cursor'));
  const retries: FollowerFailure[] = [];
  const publisher = publishLeadChanges({
    feed: changeFeedSource(projections, () => projector.changes()),
    producer,
    topic,
    cursor,
    retry: { initialMs: 100, maxMs: 1000 },
    onRetry: (failure) => retries.push(failure),
    onChangesLost: () => undefined,
    ...(sendDeadlineMs === undefined ? {} : { sendDeadlineMs }),
  });
  return {
    projections,
    kafka,
    topic,
    cursor,
    publisher,
    retries,
    /** appends the events and waits until the projector has recorded their changes */
    async project(events: ReturnType<typeof firstVisits>) {
      await appendAll(store, events);
      await projector.caughtUp();
    },
    async close() {
      await publisher.stop();
      await projector.stop();
      await producer.disconnect();
      projections.close();
      await store.close();
      tmp.remove();
    },
  };
}

/** At least `count` messages of the topic, each with its partition, key and change. */
const readTopicChanges = async (kafka: KafkaClient, topic: string, count: number) =>
  (await readTopic(kafka, topic, count)).map((m) => ({ partition: m.partition, key: m.key?.toString() ?? null, value: JSON.parse(m.value!.toString()) as ChangeFeedItem }));

/** The topic's messages, read until `wanted` distinct changes are among them (a retried send may have put some on it twice). */
async function readChangesOnTopic(kafka: KafkaClient, topic: string, wanted: number) {
  for (let count = wanted; ; ) {
    const messages = await readTopicChanges(kafka, topic, count);
    if (new Set(messages.map((m) => m.value.seq)).size >= wanted) return messages;
    count = messages.length + 1;
  }
}

describe.skipIf(skip)('lead changes to Kafka across a broker restart', () => {
  it('given the broker stopped while changes are due, then each send is retried past its deadline (the publisher says retrying), the cursor stays at what Kafka acknowledged, and with the broker back every change is on the topic', async () => {
    const rig = await openRig(10_000, 1000);
    try {
      await rig.project(firstVisits(['A1', 'A2', 'A3']));
      await rig.publisher.caughtUp();
      expect(rig.cursor.read()).toBe(3);

      await restartBroker(async () => {
        await rig.project(firstVisits(['L1', 'L2', 'L3', 'L4', 'L5']));
        expect(lastChangeSeq(rig.projections)).toBe(8);
        await eventually(async () => (rig.publisher.status().state === 'retrying' ? true : undefined));
        expect(rig.publisher.status().failure?.reason).toMatch(/did not acknowledge within 1000 ms/);
        expect(rig.cursor.read()).toBe(3);
      });

      await rig.publisher.caughtUp();
      expect(rig.cursor.read()).toBe(8);
      expect(rig.publisher.status()).toMatchObject({ position: 8, head: 8, parkedSinceStart: 0 });
      const published = await readChangesOnTopic(rig.kafka, rig.topic, 8);
      // at least once: a send past its deadline may still have been written before its retry was
      const once = [...new Map(published.map((m) => [m.value.seq, m])).values()].sort((a, b) => a.value.seq - b.value.seq);
      expect(once.map((m) => m.value)).toEqual(readChanges(rig.projections, 0));
      expect(once.every((m) => m.key === (m.value as { leadId: string }).leadId)).toBe(true);
    } finally {
      await rig.close();
    }
  });

  it('given the broker stopped while changes are due and some are trimmed from the feed meanwhile, then the publisher retries instead of stopping, and with the broker back the changes_lost marker is on every partition and the changes the feed kept follow', async () => {
    // the feed keeps 5 changes: the 8 made while the broker is down leave a gap, and announcing it asks the cluster for the partitions
    const rig = await openRig(5);
    try {
      await rig.project(firstVisits(['A1', 'A2', 'A3']));
      await rig.publisher.caughtUp();
      expect(rig.cursor.read()).toBe(3);

      await restartBroker(async () => {
        // changes 4..11, of which the feed keeps 7..11
        await rig.project(firstVisits(['L1', 'L2', 'L3', 'L4', 'L5', 'L6', 'L7', 'L8']));
        expect(lastChangeSeq(rig.projections)).toBe(11);
        await eventually(async () => (rig.publisher.status().state === 'retrying' ? true : undefined));
        expect(rig.cursor.read()).toBe(3);
      });

      await rig.publisher.caughtUp();
      expect(rig.cursor.read()).toBe(11);
      expect(rig.publisher.status()).toMatchObject({ position: 11, head: 11, parkedSinceStart: 0 });
      expect(rig.retries.length).toBeGreaterThan(0);

      // nothing was sent while the broker was away (the marker's partition count failed first): 3 changes, the marker on each of 3 partitions, the 5 changes kept
      const published = await readTopicChanges(rig.kafka, rig.topic, 11);
      expect(published).toHaveLength(11);
      const marker = { seq: 6, type: 'changes_lost', fromSeq: 4, toSeq: 6 };
      const markers = published.filter((m) => m.key === null);
      expect(markers.map((m) => m.partition).sort()).toEqual([0, 1, 2]);
      expect(markers.map((m) => m.value)).toEqual([marker, marker, marker]);
      const changes = published.filter((m) => m.key !== null).sort((a, b) => a.value.seq - b.value.seq);
      expect(changes.map((m) => [m.value.seq, m.key])).toEqual([1, 2, 3, 7, 8, 9, 10, 11].map((seq) => [seq, seq <= 3 ? `A${seq}` : `L${seq - 3}`]));
      expect(changes.slice(3).map((m) => m.value)).toEqual(readChanges(rig.projections, 3));
    } finally {
      await rig.close();
    }
  });
});
