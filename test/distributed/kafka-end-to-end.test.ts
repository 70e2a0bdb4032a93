import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createAnalyticsClient, FunnelDefinitionSchema, funnelSpecOf, migrate, runTouchpointSink } from '@sluice/analytics';
import { buildApp, DEFAULT_LIMITS } from '@sluice/api';
import { countFunnel } from '@sluice/analytics/reference';
import { touchpointsFromLog } from '@sluice/domain';
import type { EventStore } from '@sluice/event-store';
import { openPostgresEventStore } from '@sluice/event-store-postgres';
import { connectKafka, sluiceTopics, topicNames, touchpointPublisher } from '@sluice/kafka';
import { openProjectionStore, pipelineCounts, startProjector } from '@sluice/projector';
import type { SluiceEvent } from '@sluice/schemas';
import { dropSchema, resolveKafka, resolvePostgres, restartKafka, uniqueSchemaName } from '@sluice/testkit';
import { appendAll, childSkipReason, demoEvents, demoRules, openEventStore, tempDir } from '../../packages/projector/src/test-support.js';
import type { TempDir } from '../../packages/projector/src/test-support.js';
import { eventually } from '../../services/kafka-bridge/src/test-support.js';

/*
 * The distributed path end to end, on a real broker, real PostgreSQL and real
 * chDB: API (Kafka mode) -> Kafka -> kafka-bridge (a child process) ->
 * PostgreSQL store -> projector and ClickHouse sink -> query API. Events are
 * sent in batches while the bridge is SIGKILLed mid-stream (twice) and
 * restarted, and in a second run while the broker restarts: every event the
 * API acknowledged is stored exactly once, and the read models and a funnel
 * over ClickHouse equal a clean computation over the same events.
 */

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const bridgeMain = fileURLToPath(new URL('../../services/kafka-bridge/src/main.ts', import.meta.url));

// a broker of this file's own: the second run restarts it
const kafkaService = await resolveKafka({ exclusive: true });
const postgres = await resolvePostgres();
const skip = [childSkipReason, 'skip' in kafkaService ? kafkaService.skip : undefined, 'skip' in postgres ? postgres.skip : undefined].filter(Boolean).join('; ') || undefined;
if (skip) console.warn(`distributed end-to-end tests skipped: ${skip}`);
afterAll(async () => {
  if ('brokers' in kafkaService) await kafkaService.stop?.();
  if ('stop' in postgres) await postgres.stop();
});

const BATCH = 100;
const rules = demoRules();

/** The bridge as its own process, started the way operators start it; resolves once it has joined. */
async function startBridgeProcess(configFile: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', bridgeMain], { cwd: repoRoot, env: { ...process.env, SLUICE_CONFIG: configFile }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  await new Promise<void>((resolve, reject) => {
    let stdout = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (stdout.includes('kafka-bridge: consuming')) resolve();
    });
    child.once('exit', (code, signal) => reject(new Error(`the bridge exited (${code ?? signal}) before joining:\n${stderr}`)));
  });
  // a bridge that dies on its own (not by this test's kill) fails the test at its next wait
  child.once('exit', (code, signal) => {
    if (signal !== 'SIGKILL' && signal !== 'SIGTERM' && code !== 0) console.error(`the bridge exited with ${code}:\n${stderr}`);
  });
  return child;
}

function stopProcess(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

interface Pipeline {
  tmp: TempDir;
  store: EventStore;
  configFile: string;
  /** posts the events in batches; returns the ids the API acknowledged (202) */
  send(events: readonly SluiceEvent[]): Promise<string[]>;
  /** touchpoint ids in the store, with how often each is there */
  storedIds(): Promise<Map<string, number>>;
  close(): Promise<void>;
}

async function openPipeline(brokers: string[], url: string): Promise<Pipeline> {
  const tmp = tempDir('sluice-e2e-');
  const schema = uniqueSchemaName('e2e');
  const prefix = `e2e-${randomUUID()}`;
  const kafkaConfig = { brokers, topicPrefix: prefix, partitions: 4, bridge: { groupId: `bridge-${prefix}`, metricsPort: 0, maxBatchEvents: 50, maxInFlightEvents: 200, sessionTimeoutMs: 6000 } };
  const configFile = tmp.path('sluice.json');
  writeFileSync(configFile, JSON.stringify({ version: 'e2e', server: { dataDir: tmp.dir, eventStore: { adapter: 'postgres', url, schema }, kafka: kafkaConfig } }));
  const store = await openPostgresEventStore({ connectionString: url, schema, pollIntervalMs: 50 });
  const kafka = connectKafka({ brokers, clientId: 'e2e-api' });
  await kafka.ensureTopics(sluiceTopics({ ...kafkaConfig, replicationFactor: 1 }));
  const producer = await kafka.producer();
  const app = await buildApp({ store, limits: DEFAULT_LIMITS, apiKeys: [], ingestQueue: touchpointPublisher(producer, topicNames(prefix).touchpoints) });
  return {
    tmp,
    store,
    configFile,
    send: async (events) => {
      const acknowledged: string[] = [];
      for (let i = 0; i < events.length; i += BATCH) {
        const batch = events.slice(i, i + BATCH);
        const res = await app.inject({ method: 'POST', url: '/v1/events', payload: batch });
        // a batch whose produce failed (500) or missed the produce deadline (503) while the broker restarts is not acknowledged: only 202s count
        if (res.statusCode === 202) acknowledged.push(...batch.map((e) => e.id));
        else expect([500, 503]).toContain(res.statusCode);
      }
      return acknowledged;
    },
    storedIds: async () => {
      const counts = new Map<string, number>();
      for (const e of await store.readAll()) if (e.type !== 'identity_linked') counts.set(e.id, (counts.get(e.id) ?? 0) + 1);
      return counts;
    },
    close: async () => {
      await app.close();
      await producer.disconnect();
      await store.close();
      await dropSchema(url, schema);
      tmp.remove();
    },
  };
}

/** Waits for every acknowledged id to be stored, then checks none is there twice and nothing unsent is. */
async function expectExactlyOnce(pipeline: Pipeline, sent: readonly SluiceEvent[], acknowledged: readonly string[]): Promise<Map<string, number>> {
  const stored = await eventually(async () => {
    const ids = await pipeline.storedIds();
    return acknowledged.every((id) => ids.has(id)) ? ids : undefined;
  });
  const sentIds = new Set(sent.map((e) => e.id));
  expect([...stored].filter(([id, n]) => n !== 1 || !sentIds.has(id))).toEqual([]);
  return stored;
}

/**
 * What the read models say, without what depends on the order the log holds
 * the events in (Kafka keeps each key's order, not the order across keys):
 * every subject that is not merged into another, its stage history, state and
 * transitions, and which lead each anonymous visitor was merged into. (A merged
 * visitor's own leftover state depends on whether its link arrived before its
 * events: the projector's business, left out here.)
 */
function readModelRows(projections: ReturnType<typeof openProjectionStore>) {
  const live = "merged_into IS NULL";
  return {
    leads: projections.db.prepare(`SELECT subject, kind, stage, stage_entered_at, stages, is_customer, side_state FROM leads WHERE ${live} ORDER BY subject`).all(),
    merged: projections.db.prepare('SELECT subject, merged_into FROM leads WHERE merged_into IS NOT NULL ORDER BY subject').all(),
    transitions: projections.db
      .prepare(`SELECT subject, to_stage, from_stage, at, event_id FROM stage_transitions WHERE subject IN (SELECT subject FROM leads WHERE ${live}) ORDER BY subject, to_stage`)
      .all(),
    pipeline: pipelineCounts(projections),
  };
}

/** The read models over the distributed store equal a clean projection of the same events appended directly. */
async function expectSameReadModels(pipeline: Pipeline, storedEvents: readonly SluiceEvent[]): Promise<void> {
  const projections = openProjectionStore(pipeline.tmp.path('projections.sqlite'));
  const projector = startProjector({ store: pipeline.store, projections, config: rules });
  const clean = await cleanRun(pipeline.tmp, storedEvents);
  try {
    await projector.caughtUp();
    expect(readModelRows(projections)).toEqual(clean.readModels);
    expect(clean.readModels.transitions.length).toBeGreaterThan(500);
  } finally {
    await projector.stop();
    projections.close();
  }
}

async function cleanRun(tmp: TempDir, events: readonly SluiceEvent[]) {
  const store = await openEventStore(tmp.path('clean-events.sqlite'));
  const projections = openProjectionStore(tmp.path('clean-projections.sqlite'));
  const projector = startProjector({ store, projections, config: rules });
  try {
    await appendAll(store, events);
    await projector.caughtUp();
    return { readModels: readModelRows(projections), log: await store.readAll() };
  } finally {
    await projector.stop();
    projections.close();
    await store.close();
  }
}

describe.skipIf(skip)('distributed ingestion end to end', () => {
  const brokers = 'brokers' in kafkaService ? kafkaService.brokers : [];
  const url = 'url' in postgres ? postgres.url : '';

  it('given bridges SIGKILLed mid-stream twice and the group rebalancing between live members, then every acknowledged event is in the store, the read models and ClickHouse exactly once', { timeout: 300_000 }, async () => {
    const pipeline = await openPipeline(brokers, url);
    const events = demoEvents(3000, 11);
    try {
      let bridge = await startBridgeProcess(pipeline.configFile);
      const acknowledged = await pipeline.send(events.slice(0, 1500));
      await eventually(async () => ((await pipeline.store.headPosition()) > 0 ? true : undefined));
      await stopProcess(bridge, 'SIGKILL');
      const afterFirstKill = await pipeline.store.headPosition();
      acknowledged.push(...(await pipeline.send(events.slice(1500))));
      // two members share the partitions; killing one hands its partitions (and their uncommitted batches) to the other
      bridge = await startBridgeProcess(pipeline.configFile);
      const survivor = await startBridgeProcess(pipeline.configFile);
      await eventually(async () => ((await pipeline.store.headPosition()) > afterFirstKill ? true : undefined));
      await stopProcess(bridge, 'SIGKILL');
      // and a member joining takes partitions away from a busy one
      bridge = await startBridgeProcess(pipeline.configFile);
      expect(acknowledged).toHaveLength(events.length);

      const stored = await expectExactlyOnce(pipeline, events, acknowledged);
      await Promise.all([stopProcess(bridge, 'SIGTERM'), stopProcess(survivor, 'SIGTERM')]);
      const storedEvents = events.filter((e) => stored.has(e.id));
      await expectSameReadModels(pipeline, storedEvents);

      // ClickHouse (chDB) from the store, queried through the API
      const client = createAnalyticsClient({ dataPath: pipeline.tmp.dir });
      await migrate(client);
      const sink = await runTouchpointSink(pipeline.store, client);
      const app = await buildApp({ store: pipeline.store, limits: DEFAULT_LIMITS, apiKeys: [], analytics: { client, sink } });
      try {
        await sink.caughtUp();
        const perId = await client.rows<{ n: number; ids: number }>('SELECT count() AS n, uniqExact(event_id) AS ids FROM touchpoints FINAL');
        expect(perId).toEqual([{ n: acknowledged.length, ids: acknowledged.length }]);
        const funnel = { steps: [{ type: 'visit' }, { type: 'form_submit' }, { type: 'demo_held' }], window: { value: 90, unit: 'days' }, dateRange: { from: '2025-12-01T00:00:00Z', to: '2026-08-01T00:00:00Z' } };
        const res = await app.inject({ method: 'POST', url: '/v1/funnels', payload: funnel });
        expect(res.statusCode).toBe(200);
        const { log } = await cleanRun(pipeline.tmp, storedEvents);
        const reference = countFunnel(touchpointsFromLog(log), funnelSpecOf(FunnelDefinitionSchema.parse(funnel)));
        expect((res.json() as { steps: { leads: number }[] }).steps.map((s) => s.leads)).toEqual(reference.steps.map((s) => s.leads));
        expect(reference.steps[0]!.leads).toBeGreaterThan(100);
      } finally {
        await app.close();
        await sink.stop();
        await client.close();
      }
    } finally {
      await pipeline.close();
    }
  });

  it('given the broker restarted mid-stream, then every acknowledged event is in the store and the read models exactly once', { timeout: 300_000 }, async () => {
    const pipeline = await openPipeline(brokers, url);
    const events = demoEvents(3000, 12);
    try {
      const bridge = await startBridgeProcess(pipeline.configFile);
      const acknowledged = await pipeline.send(events.slice(0, 1500));
      await eventually(async () => ((await pipeline.store.headPosition()) > 0 ? true : undefined));
      const [, during] = await Promise.all([restartKafka(kafkaService as Parameters<typeof restartKafka>[0]), pipeline.send(events.slice(1500, 2250))]);
      acknowledged.push(...during, ...(await pipeline.send(events.slice(2250))));
      // the batches sent after the restart are all acknowledged: the producer reconnected
      expect(acknowledged.slice(-750)).toEqual(events.slice(2250).map((e) => e.id));

      const stored = await expectExactlyOnce(pipeline, events, acknowledged);
      await stopProcess(bridge, 'SIGTERM');
      await expectSameReadModels(pipeline, events.filter((e) => stored.has(e.id)));
    } finally {
      await pipeline.close();
    }
  });
});
