import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRuleConfig } from '@sluice/config';
import { openSqliteEventStore } from '@sluice/event-store';
import type { EventStore } from '@sluice/event-store';
import { lastChangeSeq, openProjectionStore, startProjector } from '@sluice/projector';
import type { ProjectionStore, Projector } from '@sluice/projector';
import { buildApp, DEFAULT_LIMITS } from '../app.js';

let dir: string;
let store: EventStore;
let projections: ProjectionStore;
let projector: Projector;
let app: FastifyInstance;
const config = parseRuleConfig({ version: 'api-test-1', timeZone: 'Europe/Berlin' });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-projections-api-'));
  store = await openSqliteEventStore({ path: join(dir, 'events.sqlite'), pollIntervalMs: 20 });
  projections = openProjectionStore(join(dir, 'projections.sqlite'));
  // a feed of 3 changes, so a stream client can resume from behind it
  projector = startProjector({ store, projections, config, changeRetention: 3 });
  app = await buildApp({ store, limits: DEFAULT_LIMITS, apiKeys: [], projections: { projector, projections, config } });
  await app.listen({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await app.close();
  await projector.stop();
  projections.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const post = (events: unknown) => app.inject({ method: 'POST', url: '/v1/events', payload: events as object });

describe('lead read models over HTTP', () => {
  it('given an anonymous visit and a demo request, then the lead is an SQL with its stage history and touchpoints', async () => {
    const res = await post([
      { id: 'p1', type: 'visit', occurredAt: '2026-03-02T09:00:00+01:00', anonymousId: 'anon-P', source: 'google', channel: 'paid_search' },
      { id: 'p2', type: 'demo_requested', occurredAt: '2026-03-02T09:10:00+01:00', anonymousId: 'anon-P', leadId: 'lead-P' },
    ]);
    expect(res.statusCode).toBe(200);
    await projector.caughtUp();
    const lead = await app.inject({ method: 'GET', url: '/v1/leads/lead-P' });
    expect(lead.statusCode).toBe(200);
    const body = lead.json();
    expect(body.lead.stage).toBe('sql');
    // every point of the scores is explained by a rule, and the lines add up
    const lines = body.lead.scoreBreakdown.engagement as Array<{ rule: string; points: number }>;
    expect(lines.length).toBeGreaterThan(0);
    expect(Math.round(lines.reduce((a, l) => a + l.points, 0) * 100) / 100).toBe(body.lead.scores.engagement);
    expect(body.lead.attribution.source).toBe('google');
    expect(body.transitions.map((t: { to: string }) => t.to)).toEqual(expect.arrayContaining(['visitor', 'lead', 'sql']));
    expect(body.touchpoints.map((t: { event: { id: string } }) => t.event.id)).toEqual(['p1', 'p2']);

    const list = await app.inject({ method: 'GET', url: '/v1/leads?stage=sql' });
    expect(list.json().items.map((l: { id: string }) => l.id)).toEqual(['lead-P']);
    expect((await app.inject({ method: 'GET', url: '/v1/leads?stage=customer' })).json().items).toEqual([]);
    expect((await app.inject({ method: 'GET', url: '/v1/leads/nobody' })).statusCode).toBe(404);
    const badGrade = await app.inject({ method: 'GET', url: '/v1/leads?grade=scorching' });
    expect(badGrade.statusCode).toBe(400);
    expect(badGrade.json().errors[0].field).toBe('querystring.grade');
  });

  it('serves live conversion per cohort month', async () => {
    await projector.caughtUp();
    const res = await app.inject({ method: 'GET', url: '/v1/conversion/live?period=month' });
    expect(res.statusCode).toBe(200);
    expect(JSON.stringify(res.json())).toContain('2026-03');
  });

  it('exposes projection lag in /metrics', async () => {
    await projector.caughtUp();
    const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(text).toMatch(/sluice_projection_lag_events 0/);
    expect(text).toMatch(/sluice_projection_position [1-9]/);
  });

  it('streams a stage change to a Server-Sent Events client after an event is posted, resumable by id', async () => {
    const { port } = app.server.address() as { port: number };
    const controller = new AbortController();
    const res = await fetch(`http://127.0.0.1:${port}/v1/stream`, { signal: controller.signal });
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const reader = res.body!.getReader();
    await post([{ id: 's1', type: 'demo_requested', occurredAt: '2026-03-03T10:00:00+01:00', leadId: 'lead-S' }]);
    let text = '';
    while (!/event: stage_changed\ndata: .*"leadId":"lead-S"/.test(text)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    controller.abort();
    const id = Number(/id: (\d+)\nevent: stage_changed\ndata: .*"leadId":"lead-S"/.exec(text)?.[1]);
    expect(id).toBeGreaterThan(0);
    // resuming after the id just before gives the same change again, first
    const resumed = await fetch(`http://127.0.0.1:${port}/v1/stream`, { headers: { 'last-event-id': String(id - 1) } });
    const first = await readUntil(resumed.body!.getReader(), /id: \d+\n/);
    expect(first).toContain(`id: ${id}\n`);
  });

  it('given a client resuming from before the 3 changes the feed keeps, then it first gets changes_lost naming the rest, then the 3', async () => {
    // one change each (null -> visitor): whatever came before, at least 4 changes, so the feed has trimmed some
    await post(['v1', 'v2', 'v3', 'v4'].map((lead) => ({ id: `lost-${lead}`, type: 'visit', occurredAt: '2026-03-04T10:00:00+01:00', leadId: `lead-${lead}` })));
    await projector.caughtUp();
    const last = lastChangeSeq(projections);
    // held: last-2..last; lost: 1..last-3
    const { port } = app.server.address() as { port: number };
    const resumed = await fetch(`http://127.0.0.1:${port}/v1/stream?after=0`);
    const text = await readUntil(resumed.body!.getReader(), new RegExp(`id: ${last - 2}\nevent: .*\ndata: .*\n\n`));
    const lost = last - 3;
    expect(text.split('\n\n').slice(1, 3)).toEqual([`id: ${lost}\nevent: changes_lost\ndata: {"seq":${lost},"type":"changes_lost","fromSeq":1,"toSeq":${lost}}`, expect.stringMatching(new RegExp(`^id: ${last - 2}\nevent: stage_changed\n`))]);
  });
});

async function readUntil(reader: ReadableStreamDefaultReader<Uint8Array>, pattern: RegExp): Promise<string> {
  let text = '';
  while (!pattern.test(text)) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  await reader.cancel();
  return text;
}

describe('POST /v1/plans/reverse on a server with read models', () => {
  it('measures the steps from history and counts the pipeline held now', async () => {
    await projector.caughtUp();
    const res = await app.inject({
      method: 'POST',
      url: '/v1/plans/reverse',
      payload: {
        asOf: '2026-11-24T09:00:00Z',
        timeZone: 'Europe/Berlin',
        stageModel: { stages: ['visitor', 'lead', 'mql', 'sql', 'customer'] },
        businessUnits: [{ id: 'all', dealSize: { given: 20_000 }, transitions: [{ from: 'sql', to: 'customer', rate: { given: 0.25 } }] }],
        targets: [{ businessUnit: 'all', period: '2027-Q1', revenue: 100_000 }],
        uncertainty: { seed: 1, draws: 100 },
      },
    });
    expect(res.statusCode).toBe(200);
    const unit = res.json().businessUnits[0];
    // the visits and demo requests posted above: the first step has history, the given rate overrides the last
    expect(unit.rates[0].source).toBe('measured');
    expect(unit.rates[0].observations.entered).toBeGreaterThan(0);
    expect(unit.rates[3].source).toBe('overridden');
    expect(res.json().input.businessUnits[0].pipeline).toMatchObject({ sql: expect.any(Number) });
  });
});
