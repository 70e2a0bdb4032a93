import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRuleConfig } from '@sluice/config';
import type { EventStore } from '@sluice/event-store';
import { openProjectionStore, startProjector } from '@sluice/projector';
import type { SluiceEvent } from '@sluice/schemas';
import { generateDemoEvents } from '@sluice/demo';
import { appendTouchpoints } from '@sluice/touchpoint-log';
import type { ProjectionStore, Projector } from '@sluice/projector';
import { buildApp, DEFAULT_LIMITS } from '../app.js';
import type { ApiDeps } from '../app.js';
import { WHATIF_BODY_LIMIT_BYTES } from './whatif.js';
// the composition's opener (@sluice/app) is out of this package's reach: the projector's SQLite test opener stands in
import { openConfiguredEventStore, sqliteStoreOpener } from '../../../../packages/projector/src/fixtures/sqlite-store-opener.js';

const sqlite = { adapter: 'sqlite' } as const;
let dataDir: string;
let store: EventStore;
let projections: ProjectionStore;
let projector: Projector;
let app: FastifyInstance;
const config = parseRuleConfig({ version: 'whatif-live-1' });
// a demo request makes an MQL, and only a sales acceptance an SQL
const candidate = {
  version: 'whatif-cand-1',
  stageModel: { builtin: 'classic_b2b', entry: { sql: [{ id: 'sql.accepted', when: { event: 'sales_accepted' } }], mql: [{ id: 'mql.demo', when: { event: 'demo_requested' } }] } },
};

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'sluice-whatif-route-'));
  store = await openConfiguredEventStore(sqlite, dataDir);
  projections = openProjectionStore(':memory:');
  projector = startProjector({ store, projections, config });
  app = await buildApp({ store, limits: DEFAULT_LIMITS, apiKeys: [], projections: { projector, projections, config }, whatIf: { store: { choice: sqlite, dataDir, opener: sqliteStoreOpener } } });
  const res = await app.inject({
    method: 'POST',
    url: '/v1/events',
    payload: [
      { id: 'w1', type: 'visit', occurredAt: '2026-03-01T09:00:00Z', anonymousId: 'anon-w1' },
      { id: 'w2', type: 'demo_requested', occurredAt: '2026-03-01T09:05:00Z', anonymousId: 'anon-w1', leadId: 'lead-w1' },
      { id: 'w3', type: 'visit', occurredAt: '2026-04-02T09:00:00Z', leadId: 'lead-w2' },
    ],
  });
  expect(res.statusCode).toBe(200);
});

afterAll(async () => {
  await app.close();
  await projector.stop();
  projections.close();
  await store.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const whatif = (payload: unknown, on = app) => on.inject({ method: 'POST', url: '/v1/whatif', payload: payload as object });
/** Another app over the same store and read models, its what-if worker configured otherwise. */
const appWith = (whatIf: ApiDeps['whatIf']) => buildApp({ store, limits: DEFAULT_LIMITS, apiKeys: [], projections: { projector, projections, config }, ...(whatIf ? { whatIf } : {}) });
const problemType = (res: { json(): unknown }) => (res.json() as { type: string }).type.split('/').at(-1);
const reached = (side: { stages: Array<{ stage: string; reached: number }> }, stage: string) => side.stages.find((s) => s.stage === stage)?.reached;

describe('POST /v1/whatif', () => {
  it('given candidate rules, then both sides come back with the leads whose stage would differ', async () => {
    const res = await whatif({ candidate });
    expect(res.statusCode).toBe(200);
    const result = res.json();
    expect([result.live.configVersion, result.candidate.configVersion]).toEqual(['whatif-live-1', 'whatif-cand-1']);
    expect([reached(result.live, 'sql'), reached(result.candidate, 'sql')]).toEqual([1, 0]);
    expect([reached(result.live, 'visitor'), reached(result.candidate, 'visitor')]).toEqual([2, 2]);
    expect(result.differences).toEqual({ count: 1, actors: [{ kind: 'lead', id: 'lead-w1', live: 'sql', candidate: 'mql' }] });
  });

  it('given a window, then only actors first seen in it are compared', async () => {
    const res = await whatif({ candidate, window: { from: '2026-04-01T00:00:00Z', to: '2026-05-01T00:00:00Z' } });
    expect(res.statusCode).toBe(200);
    expect(res.json().differences.count).toBe(0);
    expect(reached(res.json().live, 'visitor')).toBe(1);
  });

  it('given a misspelt key in the candidate rules, then a 400 names its path', async () => {
    const res = await whatif({ candidate: { version: 'x', scoring: { engagment: {} } } });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json().errors).toEqual([{ field: 'candidate.scoring.engagment', message: expect.stringContaining('did you mean "engagement"') }]);
  });

  it('given no candidate or an unknown key, then a 400 names the field', async () => {
    const res = await whatif({ candidates: candidate });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors.map((e: { field: string }) => e.field)).toContain('body');
  });

  it('given a body over the what-if limit, then a 413', async () => {
    const res = await whatif({ candidate: { version: 'x', padding: 'x'.repeat(WHATIF_BODY_LIMIT_BYTES) } });
    expect(res.statusCode).toBe(413);
  });
});

describe('a what-if worker that fails', () => {
  it('given a store the worker cannot open, then a 500 problem, and the server answers afterwards and lets the next what-if run', async () => {
    const broken = mkdtempSync(join(tmpdir(), 'sluice-whatif-broken-'));
    mkdirSync(join(broken, 'events.sqlite'));
    const failing = await appWith({ store: { choice: sqlite, dataDir: broken, opener: sqliteStoreOpener } });
    try {
      const res = await whatif({ candidate }, failing);
      expect(res.statusCode).toBe(500);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect((await failing.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
      // the failed one no longer counts as running: not a 429
      expect((await whatif({ candidate }, failing)).statusCode).toBe(500);
    } finally {
      await failing.close();
      rmSync(broken, { recursive: true, force: true });
    }
  });

  it('given a heap bound the worker outgrows, then a 503 whatif-out-of-memory, and the server answers afterwards', async () => {
    const cramped = await appWith({ store: { choice: sqlite, dataDir, opener: sqliteStoreOpener }, maxHeapMb: 4 });
    try {
      const res = await whatif({ candidate }, cramped);
      expect([res.statusCode, res.headers['content-type'], problemType(res)]).toEqual([503, 'application/problem+json; charset=utf-8', 'whatif-out-of-memory']);
      expect(res.json().detail).toContain('4 MiB');
      expect((await cramped.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    } finally {
      await cramped.close();
    }
  });

  it('given a server started without a way for the worker to open the store, then a 503 rather than a replay on the server thread', async () => {
    const unwired = await appWith(undefined);
    try {
      const res = await whatif({ candidate }, unwired);
      expect([res.statusCode, problemType(res)]).toEqual([503, 'whatif-unavailable']);
    } finally {
      await unwired.close();
    }
  });
});

describe('a what-if on a long log', () => {
  // long enough that the replay takes seconds: what answers meanwhile shows the server's loop stayed free
  const LOG_EVENTS = 150_000;
  let longDir: string;
  let longStore: EventStore;
  let longProjections: ProjectionStore;
  let longProjector: Projector;
  let longApp: FastifyInstance;
  beforeAll(async () => {
    longDir = mkdtempSync(join(tmpdir(), 'sluice-whatif-long-'));
    longStore = await openConfiguredEventStore(sqlite, longDir);
    let batch: SluiceEvent[] = [];
    for (const event of generateDemoEvents({ seed: 15, targetEvents: LOG_EVENTS, start: '2026-01-01', months: 6, timeZone: 'Europe/Berlin' })) {
      batch.push(event);
      if (batch.length === 5000) {
        await appendTouchpoints(longStore, batch);
        batch = [];
      }
    }
    await appendTouchpoints(longStore, batch);
    longProjections = openProjectionStore(join(longDir, 'projections.sqlite'));
    longProjector = startProjector({ store: longStore, projections: longProjections, config });
    await longProjector.caughtUp();
    longApp = await buildApp({
      store: longStore,
      limits: DEFAULT_LIMITS,
      apiKeys: [],
      projections: { projector: longProjector, projections: longProjections, config },
      whatIf: { store: { choice: sqlite, dataDir: longDir, opener: sqliteStoreOpener } },
    });
  });
  afterAll(async () => {
    await longApp.close();
    await longProjector.stop();
    longProjections.close();
    await longStore.close();
    rmSync(longDir, { recursive: true, force: true });
  });

  it('given a what-if replaying, then a second gets 429 at once, and /healthz and an ingest answer before the replay does', async () => {
    const logged = await longStore.headPosition();
    const answered: string[] = [];
    const track = <T extends { statusCode: number }>(name: string, request: Promise<T>) =>
      request.then((res) => {
        answered.push(`${name} ${res.statusCode}`);
        return res;
      });
    const both = [track('whatif', whatif({ candidate }, longApp)), track('whatif', whatif({ candidate }, longApp))];
    const busy = await Promise.race(both);
    expect(busy.statusCode).toBe(429);
    expect(problemType(busy)).toBe('whatif-busy');
    expect(Number(busy.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    await track('healthz', longApp.inject({ method: 'GET', url: '/healthz' }));
    await track('ingest', longApp.inject({ method: 'POST', url: '/v1/events', payload: [{ id: 'during-whatif', type: 'visit', occurredAt: '2026-06-01T09:00:00Z', anonymousId: 'anon-during' }] }));
    const replayed = (await Promise.all(both)).find((res) => res.statusCode === 200)!;
    expect(answered).toEqual(['whatif 429', 'healthz 200', 'ingest 200', 'whatif 200']);
    expect(replayed.json().events).toBeGreaterThanOrEqual(logged);
    expect(replayed.json().live.actors).toBeGreaterThan(0);
  });

  // last here: it closes the app
  it('given the server closing while a what-if replays, then the replay is stopped and answered 503, and close() does not wait for it', async () => {
    // which of two reaches the handler first is not the client's to choose: the refused one shows the other replays
    const both = [whatif({ candidate }, longApp), whatif({ candidate }, longApp)];
    expect((await Promise.race(both)).statusCode).toBe(429);
    await longApp.close();
    const answers = await Promise.all(both);
    expect(answers.map((res) => res.statusCode).sort()).toEqual([429, 503]);
    expect(problemType(answers.find((res) => res.statusCode === 503)!)).toBe('shutting-down');
    expect(readdirSync(longDir).filter((f) => f.startsWith('sluice-whatif-'))).toEqual([]);
  });
});
