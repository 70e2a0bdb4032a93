import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp, DEFAULT_LIMITS } from '@sluice/api';
import { openSqliteEventStore } from '@sluice/event-store';
import { connectKafka, sluiceTopics, topicNames, touchpointPublisher } from '@sluice/kafka';
import { resolveKafka, restartKafka } from '@sluice/testkit';
import { startBridge } from '@sluice/kafka';
import { eventually, readTopic } from './test-support.js';

// a broker of this file's own: the test stops it (the run's shared one has other users)
const kafkaService = await resolveKafka({ exclusive: true });
const skip = 'skip' in kafkaService ? `broker-down tests skipped: ${kafkaService.skip}` : undefined;
if (skip) console.warn(skip);
afterAll(async () => {
  if ('brokers' in kafkaService) await kafkaService.stop?.();
});

const visit = (id: string) => ({ id, type: 'visit', occurredAt: '2026-03-01T10:00:00+01:00', leadId: `L-${id}` });

describe.skipIf(skip)('the API in Kafka mode with the broker down (real broker, SQLite store)', () => {
  it('given the broker stopped, then POST /v1/events answers 503 kafka-unavailable and nothing is stored; with it back, the same POSTs answer 202 and each event is stored once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-broker-down-'));
    const store = await openSqliteEventStore({ path: join(dir, 'events.sqlite'), pollIntervalMs: 20 });
    const kafka = connectKafka({ brokers: 'brokers' in kafkaService ? kafkaService.brokers : [], clientId: 'broker-down-test' });
    const prefix = `test-${randomUUID()}`;
    const topics = topicNames(prefix);
    await kafka.ensureTopics(sluiceTopics({ topicPrefix: prefix, partitions: 3, replicationFactor: 1 }));
    const producer = await kafka.producer();
    // a deadline of 1 s keeps the wait short; Retry-After is the deadline in whole seconds
    const app = await buildApp({ store, limits: DEFAULT_LIMITS, apiKeys: [], ingestQueue: touchpointPublisher(producer, topics.touchpoints, 1000) });
    const bridge = await startBridge({ kafka, store, groupId: `bridge-${prefix}`, topics, maxBatchEvents: 10, maxInFlightEvents: 100 });
    const post = (payload: object) => app.inject({ method: 'POST', url: '/v1/events', payload });
    const readiness = async () => (await app.inject({ method: 'GET', url: '/readyz' })).statusCode;
    const first = [visit('d1'), visit('d2')];
    const second = [visit('d3')];
    try {
      expect((await post([visit('u1')])).statusCode).toBe(202);
      await eventually(async () => ((await store.headPosition()) === 1 ? true : undefined));

      await restartKafka(kafkaService as Parameters<typeof restartKafka>[0], async () => {
        // `first` goes out in a request kafkajs keeps retrying; `second` waits
        // behind it and is withdrawn when its deadline passes, never sent
        for (const batch of [first, second]) {
          const res = await post(batch);
          expect(res.statusCode).toBe(503);
          expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
          expect(res.headers['retry-after']).toBe('1');
          expect(res.json()).toEqual({
            type: 'https://sluice.dev/problems/kafka-unavailable',
            title: 'Kafka unavailable',
            status: 503,
            detail: 'Kafka did not acknowledge the events within 1 s: they were NOT accepted; resend the same batch (the same ids are stored once) after 1 s',
          });
        }
        // the request in flight outlived its deadline: not ready
        expect(await readiness()).toBe(503);
        // u1 only: the rejected requests wrote nothing
        expect(await store.headPosition()).toBe(1);
      });

      // ready again once kafkajs's own retry of `first` gets through, without new traffic
      await eventually(async () => ((await readiness()) === 200 ? true : undefined));
      expect((await post(first)).statusCode).toBe(202);
      expect((await post(second)).statusCode).toBe(202);
      const stored = await eventually(async () => {
        const ids = (await store.readAll()).map((e) => e.id);
        return ids.length === 4 ? ids : undefined;
      });
      expect(stored.sort()).toEqual(['d1', 'd2', 'd3', 'u1']);
      // On the topic: u1 once, `first` twice (the late completion of the
      // timed-out request, then the resend), `second` once (withdrawn, then
      // resent): six messages, of which the bridge stored four.
      const onTopic = await readTopic(kafka, topics.touchpoints, 6);
      expect(onTopic.map((m) => (JSON.parse(m.value!.toString()) as { id: string }).id).sort()).toEqual(['d1', 'd1', 'd2', 'd2', 'd3', 'u1']);
      const text = await eventually(async () => {
        const t = await bridge.metrics.registry.metrics();
        return t.includes('sluice_bridge_consumed_messages_total 6') ? t : undefined;
      });
      expect(text).toContain('sluice_bridge_appended_events_total 4');
      expect(text).toContain('sluice_bridge_duplicate_events_total 2');
    } finally {
      await app.close();
      await bridge.stop();
      await producer.disconnect();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
