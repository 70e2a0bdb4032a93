import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { FunnelDefinitionSchema, createAnalyticsClient, funnelSpecOf } from '@sluice/analytics';
import { countFunnel } from '@sluice/analytics/reference';
import { touchpointsFromLog } from '@sluice/domain';
import type { EventStore } from '@sluice/event-store';
import { openPostgresEventStore } from '@sluice/event-store-postgres';
import { openProjectionStore, sqliteReadModels, startProjector } from '@sluice/projector';
import type { LeadPage, LiveConversion } from '@sluice/projector';
import { CLICKHOUSE_SERVER_KEY, dropSchema, resolveKafka, resolvePostgres, uniqueSchemaName } from '@sluice/testkit';
import { childSkipReason, demoEvents, demoRules, tempDir } from '../../packages/projector/src/test-support.js';
import { eventually } from '../../services/kafka-bridge/src/test-support.js';

/*
 * The distributed read path, every process real and started the way
 * operators start them (`sluice serve`, `sluice project`, `sluice bridge`),
 * on a real broker and real PostgreSQL: two API replicas (server.readModels
 * on PostgreSQL) that run no follower, beside one projector process that
 * projects, copies the read models into PostgreSQL and runs the ClickHouse
 * sinks. Events go in through one replica (to Kafka; the bridge appends
 * them). While the projector is not running, both replicas answer marked
 * caughtUp: false and are not ready; once it has caught up, both answer the
 * same leads and live conversion, equal to a projection of the same log made
 * here, and with a ClickHouse server the same funnel, equal to the reference
 * count. Neither replica keeps read models, a cursor or chDB of its own.
 */

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const cli = fileURLToPath(new URL('../../packages/cli/src/main.ts', import.meta.url));

const kafkaService = await resolveKafka();
const postgres = await resolvePostgres();
const skip = [childSkipReason, 'skip' in kafkaService ? kafkaService.skip : undefined, 'skip' in postgres ? postgres.skip : undefined].filter(Boolean).join('; ') || undefined;
if (skip) console.warn(`API replica tests skipped: ${skip}`);
// chDB is one process's: replicas read ClickHouse only as a server
const clickhouse = inject(CLICKHOUSE_SERVER_KEY);
const funnelSkip = 'skip' in clickhouse ? `the funnel across replicas needs a ClickHouse server (${clickhouse.skip})` : undefined;
if (!skip && funnelSkip) console.warn(`API replica tests: ${funnelSkip}; the read models are compared without it`);
afterAll(async () => {
  if ('stop' in postgres) await postgres.stop();
});

const rules = demoRules('replicas-1');
const FUNNEL = { steps: [{ type: 'visit' }, { type: 'form_submit' }, { type: 'demo_held' }], window: { value: 90, unit: 'days' }, dateRange: { from: '2025-12-01T00:00:00Z', to: '2026-08-01T00:00:00Z' } };

interface Started {
  child: ChildProcess;
  /** what the pattern's first group matched on the process's output */
  found: string;
  output(): string;
}

/** The CLI as its own process; resolves once its output matches `ready` (the address it serves on). */
function startSluice(args: readonly string[], env: NodeJS.ProcessEnv, ready: RegExp): Promise<Started> {
  const child = spawn(process.execPath, ['--import', 'tsx', cli, ...args], { cwd: repoRoot, env: { ...process.env, SLUICE_API_KEYS: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolve, reject) => {
    const look = (chunk: string) => {
      output += chunk;
      const match = ready.exec(output);
      if (match) resolve({ child, found: match[1]!, output: () => output });
    };
    child.stdout!.setEncoding('utf8').on('data', look);
    child.stderr!.setEncoding('utf8').on('data', look);
    child.once('exit', (code, signal) => reject(new Error(`sluice ${args[0]} exited (${code ?? signal}) before it was ready:\n${output}`)));
  });
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

interface Marked {
  status: number;
  body: Record<string, unknown> & { freshness?: { position: number; head: number; caughtUp: boolean } };
}

async function ask(base: string, path: string, init?: RequestInit): Promise<Marked> {
  const res = await fetch(new URL(path, base), init);
  return { status: res.status, body: (await res.json()) as Marked['body'] };
}

const post = (base: string, path: string, body: unknown) => ask(base, path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/** Every lead, page by page, as a replica lists them (subject, stage, and when it entered it). */
async function allLeads(base: string): Promise<{ leads: unknown[]; freshness: Marked['body']['freshness'][] }> {
  const leads: unknown[] = [];
  const freshness: Marked['body']['freshness'][] = [];
  let cursor: string | undefined;
  do {
    const page = await ask(base, `/v1/leads?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    expect(page.status).toBe(200);
    const { items, nextCursor } = page.body as unknown as LeadPage;
    leads.push(...items.map(leadFacts));
    freshness.push(page.body.freshness);
    cursor = nextCursor;
  } while (cursor !== undefined);
  return { leads, freshness };
}

/** What a listed lead says that does not depend on when it is asked (SLA breaches are judged by now). */
const leadFacts = (lead: LeadPage['items'][number]) => ({ id: lead.id, stage: lead.stage, stageEnteredAt: lead.stageEnteredAt, stages: lead.stages, scores: lead.scores, businessUnit: lead.businessUnit });

describe.skipIf(skip)('API replicas beside one projector', () => {
  const brokers = 'brokers' in kafkaService ? kafkaService.brokers : [];
  const url = 'url' in postgres ? postgres.url : '';

  it('answer nothing as whole while the projector is away, then the same leads, live conversion and funnel as the projection of the log, keeping no state of their own', { timeout: 600_000 }, async () => {
    const tmp = tempDir('sluice-replicas-');
    const logSchema = uniqueSchemaName('replicas_log');
    const readSchema = uniqueSchemaName('replicas_read');
    const prefix = `replicas-${randomUUID()}`;
    const database = `sluice_replicas_${process.pid}`;
    let clickhouseUrl = '';
    if ('url' in clickhouse) {
      const admin = createAnalyticsClient({ url: clickhouse.url });
      await admin.command(`CREATE DATABASE IF NOT EXISTS ${database}`);
      await admin.close();
      const withDatabase = new URL(clickhouse.url);
      withDatabase.pathname = `/${database}`;
      clickhouseUrl = withDatabase.toString();
    }
    const configFile = tmp.path('sluice.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        version: rules.version,
        timeZone: rules.timeZone,
        businessUnits: rules.businessUnits,
        server: {
          eventStore: { adapter: 'postgres', url, schema: logSchema },
          readModels: { adapter: 'postgres', url, schema: readSchema },
          kafka: { brokers, topicPrefix: prefix, partitions: 2, bridge: { groupId: `bridge-${prefix}`, metricsPort: 0, sessionTimeoutMs: 6000 } },
          projector: { port: 0 },
          // an answer waits this long for the projector: long enough to be exercised, short while it is away
          freshnessWaitMs: 200,
        },
      }),
    );
    const env = { SLUICE_CONFIG: configFile, CLICKHOUSE_URL: clickhouseUrl };
    const dirs = { projector: tmp.path('projector'), a: tmp.path('replica-a'), b: tmp.path('replica-b'), bridge: tmp.path('bridge') };
    for (const dir of Object.values(dirs)) mkdirSync(dir);
    const store: EventStore = await openPostgresEventStore({ connectionString: url, schema: logSchema, pollIntervalMs: 50 });
    const running: ChildProcess[] = [];
    const listening = /Sluice is listening on (http:\/\/\S+) /;
    try {
      running.push((await startSluice(['bridge', '--data-dir', dirs.bridge], env, /kafka-bridge: (consuming)/)).child);
      const serveIn = (dir: string) => startSluice(['serve', '--data-dir', dir, '--port', '0'], env, listening);
      const a = await serveIn(dirs.a);
      running.push(a.child);

      // in through replica A: produced to Kafka (202), appended by the bridge
      const events = demoEvents(4000, 21);
      for (let i = 0; i < events.length; i += 200) {
        const res = await post(a.found, '/v1/events', events.slice(i, i + 200));
        expect(res.status).toBe(202);
      }
      const ids = new Set(events.map((e) => e.id));
      const head = await eventually(async () => {
        const stored = (await store.readAll()).filter((e) => ids.has(e.id));
        return stored.length === events.length ? store.headPosition() : undefined;
      });
      // replica B starts on a log the projector has not read yet
      const b = await serveIn(dirs.b);
      running.push(b.child);
      for (const replica of [a, b]) expect(replica.output()).toContain('an API replica reading the projector');

      // no projector yet: each replica says its answer counts nothing of the log
      for (const replica of [a, b]) {
        const leads = await ask(replica.found, '/v1/leads?limit=5');
        expect(leads.status).toBe(200);
        expect(leads.body.freshness).toEqual({ position: 0, head, caughtUp: false });
        expect(leads.body.items).toEqual([]);
      }
      // and B, whose start found the log ahead of the read models, is not ready, naming what it waits for
      const notReady = await ask(b.found, '/readyz');
      expect(notReady.status).toBe(503);
      expect(notReady.body.reasons).toEqual(expect.arrayContaining([`watched:projector is catching up: position 0 of ${head}, the log's head at start`]));

      // a change stream opened on replica B now is fed from the read models' copy once the projector fills it
      const streamAbort = new AbortController();
      const streamed = (async () => {
        const res = await fetch(new URL('/v1/stream', b.found), { signal: streamAbort.signal });
        const decoder = new TextDecoder();
        let text = '';
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          text += decoder.decode(chunk, { stream: true });
          const event = /^id: (\d+)\nevent: (\w+)\ndata: (.*)$/m.exec(text);
          if (event) return { id: Number(event[1]), type: event[2], data: JSON.parse(event[3]!) as { seq: number } };
        }
        throw new Error(`the stream ended without an event:\n${text}`);
      })();

      const projector = await startSluice(['project', '--data-dir', dirs.projector], env, /health on (http:\/\/\S+\/healthz)/);
      running.push(projector.child);
      await eventually(async () => {
        const health = (await (await fetch(projector.found)).json()) as { head: number; projector: number; readModelsCopy?: number; touchpoints?: number; stageTables: number };
        return health.readModelsCopy === head && health.projector === head && health.touchpoints === head && health.stageTables === head ? true : undefined;
      });

      const firstChange = await streamed;
      streamAbort.abort();
      expect(firstChange.data.seq).toBe(firstChange.id);
      expect(['stage_changed', 'lead_hot', 'changes_lost']).toContain(firstChange.type);

      // the reference: the same log projected here, into SQLite
      const reference = openProjectionStore(tmp.path('reference.sqlite'));
      const referenceProjector = startProjector({ store, projections: reference, config: rules });
      await referenceProjector.caughtUp();
      await referenceProjector.stop();
      const referenceModels = sqliteReadModels(reference, { store, config: rules });
      const referenceLeads: unknown[] = [];
      let cursor: string | undefined;
      do {
        const page = await referenceModels.listLeads({}, cursor, 500);
        referenceLeads.push(...page.items.map(leadFacts));
        cursor = page.nextCursor;
      } while (cursor !== undefined);
      const referenceConversion = JSON.parse(JSON.stringify(await referenceModels.liveConversion({ period: 'month' }))) as LiveConversion;
      const someLead = (referenceLeads[0] as { id: string }).id;
      reference.close();
      expect(referenceLeads.length).toBeGreaterThan(10);

      const whole = { position: head, head, caughtUp: true };
      const answers = [];
      for (const replica of [a, b]) {
        const leads = await allLeads(replica.found);
        expect(leads.freshness.every((f) => f?.caughtUp === true && f.position === head)).toBe(true);
        expect(leads.leads).toEqual(referenceLeads);
        const { freshness, ...conversion } = (await ask(replica.found, '/v1/conversion/live?period=month')).body;
        expect(freshness).toEqual(whole);
        expect(conversion).toEqual(referenceConversion);
        const lead = await ask(replica.found, `/v1/leads/${encodeURIComponent(someLead)}`);
        expect(lead.status).toBe(200);
        expect(lead.body.freshness).toEqual(whole);
        expect(await ask(replica.found, '/readyz')).toMatchObject({ status: 200 });
        answers.push({ leads: leads.leads, conversion, lead: lead.body });
      }
      expect(answers[1]).toEqual(answers[0]);

      if (funnelSkip === undefined) {
        const reference = countFunnel(touchpointsFromLog(await store.readAll()), funnelSpecOf(FunnelDefinitionSchema.parse(FUNNEL)));
        expect(reference.steps[0]!.leads).toBeGreaterThan(20);
        for (const replica of [a, b]) {
          const funnel = await post(replica.found, '/v1/funnels', FUNNEL);
          expect(funnel.status).toBe(200);
          expect(funnel.body.freshness).toEqual(whole);
          expect((funnel.body.steps as { leads: number }[]).map((s) => s.leads)).toEqual(reference.steps.map((s) => s.leads));
        }
      }

      // the replicas project nothing: no read models, cursor or chDB in their data directories, and every position they report is a watched one
      for (const [replica, dir] of [
        [a, dirs.a],
        [b, dirs.b],
      ] as const) {
        expect(readdirSync(dir).filter((f) => f.startsWith('projections') || f.startsWith('lead-changes') || f === 'clickhouse')).toEqual([]);
        const ready = await ask(replica.found, '/readyz');
        const names = (ready.body.followers as { name: string }[]).map((f) => f.name);
        expect(names.length).toBeGreaterThan(0);
        expect(names.filter((n) => !n.startsWith('watched:'))).toEqual([]);
      }
      expect(existsSync(tmp.path('projector/projections.sqlite'))).toBe(true);
    } finally {
      await Promise.all(running.map(stop));
      await store.close();
      await dropSchema(url, logSchema);
      await dropSchema(url, readSchema);
      if ('url' in clickhouse) {
        const admin = createAnalyticsClient({ url: clickhouse.url });
        await admin.command(`DROP DATABASE IF EXISTS ${database}`);
        await admin.close();
      }
      tmp.remove();
    }
  });
});
