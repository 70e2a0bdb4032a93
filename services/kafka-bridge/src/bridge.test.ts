import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, afterEach, describe, expect, it } from 'vitest';
import { buildApp, DEFAULT_LIMITS } from '@sluice/api';
import { openSqliteEventStore } from '@sluice/event-store';
import type { EventStore } from '@sluice/event-store';
import { DEAD_LETTER_HEADERS, connectKafka, sluiceTopics, topicNames, touchpointPublisher } from '@sluice/kafka';
import type { KafkaClient, KafkaProducer, SluiceTopics } from '@sluice/kafka';
import { parseEvent } from '@sluice/schemas';
import type { SluiceEvent } from '@sluice/schemas';
import { resolveKafka } from '@sluice/testkit';
import { appendTouchpoints } from '@sluice/touchpoint-log';
import { startBridge } from '@sluice/kafka';
import type { Bridge } from '@sluice/kafka';
import { eventually, readTopic } from './test-support.js';

// The run's shared broker; each test gets topics of its own (a fresh prefix).
const kafkaService = await resolveKafka();
const skip = 'skip' in kafkaService ? `kafka-bridge tests skipped: ${kafkaService.skip}` : undefined;
if (skip) console.warn(skip);
afterAll(async () => {
  if ('brokers' in kafkaService) await kafkaService.stop?.();
});

const visit = (id: string, subject: Record<string, string>) => ({ id, type: 'visit', occurredAt: '2026-03-01T10:00:00+01:00', ...subject });
const payment = (id: string, amount: number) => valid({ id, type: 'payment', occurredAt: '2026-03-01T10:00:00+01:00', leadId: 'L1', properties: { amount, currency: 'EUR' } });

function valid(input: unknown): SluiceEvent {
  const parsed = parseEvent(input);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return parsed.event;
}

describe.skipIf(skip)('kafka-bridge (real broker, SQLite store)', () => {
  let dir: string;
  let store: EventStore;
  let kafka: KafkaClient;
  let topics: SluiceTopics;
  let producer: KafkaProducer;
  let bridge: Bridge | undefined;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-bridge-'));
    store = await openSqliteEventStore({ path: join(dir, 'events.sqlite'), pollIntervalMs: 20 });
    kafka = connectKafka({ brokers: 'brokers' in kafkaService ? kafkaService.brokers : [], clientId: 'bridge-test' });
    const prefix = `test-${randomUUID()}`;
    topics = topicNames(prefix);
    await kafka.ensureTopics(sluiceTopics({ topicPrefix: prefix, partitions: 3, replicationFactor: 1 }));
    producer = await kafka.producer();
  });

  afterEach(async () => {
    await bridge?.stop();
    bridge = undefined;
    await producer.disconnect();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const start = async () => (bridge = await startBridge({ kafka, store, groupId: `bridge-${randomUUID()}`, topics, maxBatchEvents: 2, maxInFlightEvents: 4 }));
  const storedIds = async () => (await store.readAll()).filter((e) => e.type !== 'identity_linked').map((e) => e.id);

  it('given a malformed message and an invalid event among good ones, then both land in the DLQ with their reason and original bytes, and the good events are appended', async () => {
    const malformed = Buffer.from('{"id": "m1", "type": visit');
    const invalid = Buffer.from(JSON.stringify({ id: 'bad-1', type: 'visit', occurredAt: '2026-03-01 10:00', leadId: 'L1' }));
    // one key, so one partition, in this order
    await producer.send(topics.touchpoints, [
      { key: 'L1', value: JSON.stringify(visit('good-1', { leadId: 'L1' })) },
      { key: 'L1', value: malformed },
      { key: 'L1', value: JSON.stringify(visit('good-2', { leadId: 'L1' })) },
      { key: 'L1', value: invalid },
      { key: 'L1', value: JSON.stringify(visit('good-3', { leadId: 'L1' })) },
    ]);
    const { metrics } = await start();

    expect(await eventually(async () => ((await storedIds()).length === 3 ? storedIds() : undefined))).toEqual(['good-1', 'good-2', 'good-3']);
    const dead = await readTopic(kafka, topics.touchpointsDeadLetter, 2);
    expect(dead.map((m) => [m.key?.toString(), m.value])).toEqual([
      ['L1', malformed],
      ['L1', invalid],
    ]);
    const [first, second] = dead.map((m) => m.headers);
    expect(first).toMatchObject({ [DEAD_LETTER_HEADERS.step]: 'parse', [DEAD_LETTER_HEADERS.topic]: topics.touchpoints, [DEAD_LETTER_HEADERS.offset]: '1' });
    expect(first![DEAD_LETTER_HEADERS.reason]).toMatch(/^malformed JSON: /);
    expect(second).toMatchObject({
      [DEAD_LETTER_HEADERS.step]: 'validate',
      [DEAD_LETTER_HEADERS.reason]: 'invalid event: occurredAt: must be an ISO 8601 date-time with an offset or Z, e.g. 2026-03-01T10:00:00+08:00',
      [DEAD_LETTER_HEADERS.offset]: '3',
    });
    expect(first![DEAD_LETTER_HEADERS.partition]).toBe(second![DEAD_LETTER_HEADERS.partition]);

    const text = await metrics.registry.metrics();
    expect(text).toContain('sluice_bridge_dead_lettered_total{step="parse"} 1');
    expect(text).toContain('sluice_bridge_dead_lettered_total{step="validate"} 1');
    expect(text).toContain('sluice_bridge_appended_events_total 3');
    expect(text).toContain('sluice_bridge_consumed_messages_total 5');
  });

  it('given a stored payment, when a corrected copy and, in one chunk, two messages with one id and different content arrive, then the later ones are dead-lettered as conflicts and the rest is appended', async () => {
    await appendTouchpoints(store, [payment('pay-1', 100)]);
    const corrected = Buffer.from(JSON.stringify(payment('pay-1', 120)));
    const secondCopy = Buffer.from(JSON.stringify(visit('twice', { leadId: 'L1', source: 'linkedin' })));
    // maxBatchEvents is 2: chunks [good-1, corrected], [twice, secondCopy], [good-2]
    await producer.send(topics.touchpoints, [
      { key: 'L1', value: JSON.stringify(visit('good-1', { leadId: 'L1' })) },
      { key: 'L1', value: corrected },
      { key: 'L1', value: JSON.stringify(visit('twice', { leadId: 'L1', source: 'google' })) },
      { key: 'L1', value: secondCopy },
      { key: 'L1', value: JSON.stringify(visit('good-2', { leadId: 'L1' })) },
    ]);
    const { metrics } = await start();

    const ids = await eventually(async () => ((await storedIds()).length === 4 ? storedIds() : undefined));
    expect(ids).toEqual(['pay-1', 'good-1', 'twice', 'good-2']);
    const dead = await readTopic(kafka, topics.touchpointsDeadLetter, 2);
    expect(dead.map((m) => [m.value, m.headers?.[DEAD_LETTER_HEADERS.step], m.headers?.[DEAD_LETTER_HEADERS.offset], m.headers?.[DEAD_LETTER_HEADERS.reason]])).toEqual([
      [corrected, 'conflict', '1', 'event id conflict: "pay-1" is already stored with a different type or data'],
      [secondCopy, 'conflict', '3', 'event id conflict: "twice" is also the id of offset 2, appended before it, with a different type or data'],
    ]);
    const stored = await store.readAll();
    expect(stored.find((e) => e.id === 'pay-1')!.data).toMatchObject({ properties: { amount: 100 } });
    expect(stored.find((e) => e.id === 'twice')!.data).toMatchObject({ source: 'google' });
    const text = await metrics.registry.metrics();
    expect(text).toContain('sluice_bridge_dead_lettered_total{step="conflict"} 2');
    expect(text).toContain('sluice_bridge_appended_events_total 3');
  });

  it('given the API in Kafka mode, then a bad batch is a 400 with nothing produced, a good one a 202 once Kafka has it, and a resent batch is appended once', async () => {
    const app = await buildApp({ store, limits: DEFAULT_LIMITS, apiKeys: [], ingestQueue: touchpointPublisher(producer, topics.touchpoints) });
    try {
      const post = (payload: unknown) => app.inject({ method: 'POST', url: '/v1/events', payload: payload as object });
      const rejected = await post([visit('r1', { leadId: 'L1' }), { ...visit('r2', { leadId: 'L1' }), occurredAt: 'yesterday' }]);
      expect(rejected.statusCode).toBe(400);
      expect(rejected.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(rejected.json()).toMatchObject({ detail: '1 of 2 events are invalid; nothing was written', errors: [{ index: 1, field: 'occurredAt' }] });

      const batch = [visit('k1', { leadId: 'L1', anonymousId: 'a1' }), visit('k2', { anonymousId: 'a2' }), visit('k3', { leadId: 'L2' })];
      const accepted = await post(batch);
      expect(accepted.statusCode).toBe(202);
      expect(accepted.json()).toEqual({ status: 'accepted_for_ingestion', accepted: 3, topic: topics.touchpoints });
      expect((await post(batch)).statusCode).toBe(202);

      const { metrics } = await start();
      // three events, and the identity link that k1 (both ids) establishes
      const ids = await eventually(async () => ((await store.readAll()).length === 4 ? storedIds() : undefined));
      expect(ids.sort()).toEqual(['k1', 'k2', 'k3']);
      const text = await eventually(async () => {
        const t = await metrics.registry.metrics();
        return t.includes('sluice_bridge_consumed_messages_total 6') ? t : undefined;
      });
      expect(text).toContain('sluice_bridge_appended_events_total 3');
      expect(text).toContain('sluice_bridge_duplicate_events_total 3');
      expect(await store.headPosition()).toBe(4);
    } finally {
      await app.close();
    }
  });
});
