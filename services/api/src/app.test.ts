import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteEventStore } from '@sluice/event-store';
import type { EventStore } from '@sluice/event-store';
import { buildApp, DEFAULT_LIMITS } from './app.js';
import type { ApiDeps } from './app.js';
import { hostOfHeader, isLoopback } from './auth.js';
import { InsecureBindError, startServer } from './server.js';

let dir: string;
let store: EventStore;
let app: FastifyInstance;

async function setup(overrides: Partial<ApiDeps> = {}) {
  dir = mkdtempSync(join(tmpdir(), 'sluice-api-'));
  store = await openSqliteEventStore({ path: join(dir, 'events.sqlite') });
  app = await buildApp({ store, limits: DEFAULT_LIMITS, apiKeys: [], ...overrides });
}

afterEach(async () => {
  await app.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const visit = (id: string, extra: Record<string, unknown> = {}) => ({ id, type: 'visit', occurredAt: '2026-03-01T10:00:00+01:00', anonymousId: 'anon-1', ...extra });
const post = (payload: unknown, contentType = 'application/json') =>
  app.inject({ method: 'POST', url: '/v1/events', headers: { 'content-type': contentType }, payload: typeof payload === 'string' ? payload : JSON.stringify(payload) });

describe('POST /v1/events', () => {
  beforeEach(() => setup());

  it('given one event, when posted, then it is stored and its position returned', async () => {
    const res = await post(visit('e1', { leadId: 'lead-1' }));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ accepted: 1, duplicates: 0, positions: [1] });
    expect(await store.headPosition()).toBe(2); // the event and the identity link it establishes
  });

  it('accepts a JSON array and NDJSON, keeping request order in positions', async () => {
    const array = await post([visit('a1'), visit('a2'), visit('a3')]);
    expect(array.json()).toEqual({ accepted: 3, duplicates: 0, positions: [1, 2, 3] });
    const ndjson = await post([visit('n1'), visit('n2')].map((e) => JSON.stringify(e)).join('\n') + '\n\n', 'application/x-ndjson');
    expect(ndjson.statusCode).toBe(200);
    expect(ndjson.json()).toEqual({ accepted: 2, duplicates: 0, positions: [4, 5] });
  });

  it('given a batch with bad items, then 400 lists each bad item by index and field, and nothing is written', async () => {
    const res = await post([visit('ok-1'), { ...visit('bad-1'), occurredAt: '2026-03-01 10:00' }, visit('ok-2'), { id: 'bad-2', type: 'payment', occurredAt: '2026-03-01T10:00:00Z', leadId: 'l', properties: { amount: '10' } }]);
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    const problem = res.json();
    expect(problem).toMatchObject({ status: 400, title: 'Invalid events', detail: '2 of 4 events are invalid; nothing was written' });
    expect(problem.errors).toEqual([
      { index: 1, field: 'occurredAt', message: 'must be an ISO 8601 date-time with an offset or Z, e.g. 2026-03-01T10:00:00+08:00' },
      { index: 3, field: 'properties.amount', message: 'Invalid input: expected number, received string' },
      { index: 3, field: 'properties.currency', message: 'required' },
    ]);
    expect(await store.headPosition()).toBe(0);
  });

  it('given a retried batch, then it writes nothing and returns the original positions', async () => {
    const batch = [visit('r1'), visit('r2', { leadId: 'lead-r' })];
    const first = await post(batch);
    const head = await store.headPosition();
    const retry = await post(batch);
    expect(retry.statusCode).toBe(200);
    expect(retry.json()).toEqual({ accepted: 0, duplicates: 2, positions: first.json().positions });
    expect(await store.headPosition()).toBe(head);
  });

  it.each([
    ['malformed JSON', '{"id": "x", ', 'application/json', 400, 'malformed-json'],
    ['an empty body', '', 'application/json', 400, 'empty-body'],
    ['an empty array', '[]', 'application/json', 400, 'empty-batch'],
    ['a JSON number', '42', 'application/json', 400, 'invalid-request'],
    ['an unsupported media type', 'id=1', 'application/x-www-form-urlencoded', 415, 'unsupported-media-type'],
  ])('rejects %s with a problem document', async (_label, body, contentType, status, slug) => {
    const res = await post(body, contentType);
    expect(res.statusCode).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ status, type: `https://sluice.dev/problems/${slug}` });
    expect(await store.headPosition()).toBe(0);
  });

  it('reports bad NDJSON lines with their line numbers', async () => {
    const body = [JSON.stringify(visit('l1')), '', '{oops', JSON.stringify({ ...visit('l4'), type: 'visits' })].join('\n');
    const res = await post(body, 'application/x-ndjson');
    expect(res.statusCode).toBe(400);
    const errors = res.json().errors as Array<{ index: number; line: number; field: string }>;
    expect(errors.map((e) => [e.index, e.line, e.field])).toEqual([
      [1, 3, ''],
      [2, 4, 'type'],
    ]);
    expect(await store.headPosition()).toBe(0);
  });

  it('rejects missing ids, wrong types and bad timestamps naming the field', async () => {
    const res = await post([
      { type: 'visit', occurredAt: '2026-03-01T10:00:00Z', anonymousId: 'a' },
      { id: 'x2', type: 'visit', occurredAt: '2026-03-01T10:00:00Z' },
      { id: 'x3', type: 'call', occurredAt: '2026-03-01T10:00:00Z', leadId: 'l', properties: { direction: 'inbound', outcome: 'connected', durationSeconds: 'long' } },
      { id: 'x4', type: 'visit', occurredAt: 1772359200000, anonymousId: 'a' },
    ]);
    expect(res.statusCode).toBe(400);
    expect((res.json().errors as Array<{ index: number; field: string }>).map((e) => `${e.index}:${e.field}`)).toEqual([
      '0:id',
      '1:leadId',
      '2:properties.durationSeconds',
      '3:occurredAt',
    ]);
  });
});

describe('limits', () => {
  it('rejects an oversized body with 413 and writes nothing', async () => {
    await setup({ limits: { maxEvents: 10_000, bodyLimitBytes: 2_000 } });
    const res = await post(Array.from({ length: 30 }, (_, i) => visit(`big-${i}`)));
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({ type: 'https://sluice.dev/problems/body-too-large', detail: expect.stringContaining('2000 bytes') });
    expect(await store.headPosition()).toBe(0);
  });

  it('rejects more events than the batch limit with 413', async () => {
    await setup({ limits: { maxEvents: 3, bodyLimitBytes: 1_000_000 } });
    const res = await post([visit('m1'), visit('m2'), visit('m3'), visit('m4')]);
    expect(res.statusCode).toBe(413);
    expect(res.json().detail).toBe('the batch holds 4 events; the limit is 3 per request');
    expect(await store.headPosition()).toBe(0);
  });
});

describe('GET /v1/leads/:id/events', () => {
  beforeEach(() => setup());

  it('returns the anonymous history the lead owns, in occurrence order, each with its position', async () => {
    await post([
      { id: 'v1', type: 'visit', occurredAt: '2026-03-01T09:00:00Z', anonymousId: 'anon-A', source: 'google' },
      { id: 'v2', type: 'page_view', occurredAt: '2026-03-01T09:05:00Z', anonymousId: 'anon-A', properties: { url: '/pricing', pageType: 'pricing' } },
    ]);
    await post({ id: 'f1', type: 'form_submit', occurredAt: '2026-03-01T09:10:00Z', anonymousId: 'anon-A', leadId: 'lead-A', properties: { formId: 'demo' } });
    // a later anonymous visit still belongs to the lead; a second lead claiming the same browser does not take it
    await post({ id: 'v3', type: 'visit', occurredAt: '2026-03-02T09:00:00Z', anonymousId: 'anon-A' });
    await post({ id: 'f2', type: 'form_submit', occurredAt: '2026-03-03T09:00:00Z', anonymousId: 'anon-A', leadId: 'lead-B', properties: { formId: 'demo' } });

    const res = await app.inject({ method: 'GET', url: '/v1/leads/lead-A/events' });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.linkedAnonymousIds).toEqual(['anon-A']);
    expect(body.touchpoints.map((t: { event: { id: string }; position: number }) => [t.event.id, t.position])).toEqual([
      ['v1', 1],
      ['v2', 2],
      ['f1', 3],
      ['v3', 5],
    ]);

    const other = await app.inject({ method: 'GET', url: '/v1/leads/lead-B/events' });
    expect(other.json().linkedAnonymousIds).toEqual([]);
    expect(other.json().touchpoints.map((t: { event: { id: string } }) => t.event.id)).toEqual(['f2']);
  });

  it('answers 404 for an unknown lead and 400 for a malformed id', async () => {
    expect((await app.inject({ method: 'GET', url: '/v1/leads/nobody/events' })).statusCode).toBe(404);
    const bad = await app.inject({ method: 'GET', url: '/v1/leads/a%20b/events' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].field).toBe('params.id');
  });
});

describe('API keys', () => {
  const keys = [
    { name: 'tracker', scopes: ['ingest'] as const, secret: 'tracker-secret-0123456789' },
    { name: 'dashboard', scopes: ['read'] as const, secret: 'dashboard-secret-0123456789' },
  ];
  beforeEach(() => setup({ apiKeys: keys.map((k) => ({ ...k, scopes: [...k.scopes] })) }));

  it('requires a key with the route scope; health stays open', async () => {
    const body = JSON.stringify(visit('k1'));
    const headers = (secret?: string) => ({ 'content-type': 'application/json', ...(secret ? { authorization: `Bearer ${secret}` } : {}) });
    expect((await app.inject({ method: 'POST', url: '/v1/events', headers: headers(), payload: body })).statusCode).toBe(401);
    expect((await app.inject({ method: 'POST', url: '/v1/events', headers: headers('wrong-secret-0123456789'), payload: body })).statusCode).toBe(401);
    const forbidden = await app.inject({ method: 'POST', url: '/v1/events', headers: headers(keys[1]!.secret), payload: body });
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json().detail).toBe('the key "dashboard" lacks the "ingest" scope');
    expect((await app.inject({ method: 'POST', url: '/v1/events', headers: headers(keys[0]!.secret), payload: body })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/v1/leads/x/events', headers: { 'x-api-key': keys[1]!.secret } })).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
  });

  it('refuses to listen beyond loopback without keys', async () => {
    await expect(startServer({ store, limits: DEFAULT_LIMITS, apiKeys: [] }, { host: '0.0.0.0', port: 0 }, async () => {})).rejects.toThrow(InsecureBindError);
    await expect(startServer({ store, limits: DEFAULT_LIMITS, apiKeys: [] }, { host: '127.evil.example', port: 0 }, async () => {})).rejects.toThrow(InsecureBindError);
  });

  it('answers requests addressed to any host: the keys guard it', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/leads/x/events', headers: { host: 'sluice.example.com', 'x-api-key': keys[1]!.secret } });
    expect(res.statusCode).toBe(404);
  });
});

describe('a keyless server', () => {
  beforeEach(() => setup());
  const get = (host: string) => app.inject({ method: 'GET', url: '/healthz', headers: { host } });

  it('answers requests addressed to a loopback name or address, with or without a port', async () => {
    for (const host of ['localhost', 'localhost:4780', 'LocalHost:4780', 'dash.localhost:4780', '127.0.0.1', '127.0.0.1:4780', '127.45.6.7:80', '[::1]', '[::1]:4780', '[::ffff:127.0.0.1]:4780']) {
      expect(`${host}: ${(await get(host)).statusCode}`).toBe(`${host}: 200`);
    }
  });

  it('answers 421 to any other Host, as a page re-pointing its own name at 127.0.0.1 (DNS rebinding) sends, and writes nothing', async () => {
    for (const host of ['evil.example', '127.evil.example', '127.0.0.1.evil.example:4780', 'localhost.evil.example', '192.168.1.20:4780', '[::2]:4780', '[::ffff:8.8.8.8]', '127.1', 'localhost:4780:1']) {
      const res = await get(host);
      expect(`${host}: ${res.statusCode}`).toBe(`${host}: 421`);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
    const write = await app.inject({ method: 'POST', url: '/v1/events', headers: { host: 'rebound.example:4780', 'content-type': 'application/json' }, payload: JSON.stringify(visit('h1')) });
    expect(write.statusCode).toBe(421);
    expect(write.json()).toMatchObject({ type: 'https://sluice.dev/problems/misdirected-request', detail: expect.stringContaining('"rebound.example:4780"') });
    expect(await store.headPosition()).toBe(0);
  });
});

describe('isLoopback', () => {
  it('parses addresses rather than matching a prefix', () => {
    expect(['localhost', 'a.b.localhost', '127.0.0.1', '127.255.255.254', '::1', '0:0:0:0:0:0:0:1', '::ffff:7f00:1'].filter((h) => !isLoopback(h))).toEqual([]);
    expect(['127.evil.example', '127.0.0.1.nip.io', '128.0.0.1', '0.0.0.0', '::', '::2', 'localhost.', 'mylocalhost', '127.1'].filter(isLoopback)).toEqual([]);
  });

  it('reads the host of a Host header', () => {
    expect(['localhost:80', '[::1]:4780', '[::1]', '127.0.0.1', 'a.localhost:1'].map(hostOfHeader)).toEqual(['localhost', '::1', '::1', '127.0.0.1', 'a.localhost']);
    expect(['::1', '[::1', 'host:port', ''].map(hostOfHeader)).toEqual([undefined, undefined, undefined, undefined]);
  });
});

describe('operations', () => {
  beforeEach(() => setup());

  it('counts ingested events in /metrics', async () => {
    await post([visit('c1'), visit('c2')]);
    await post([visit('c1')]);
    await post([{ ...visit('c3'), type: 'nope' }]);
    const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(text).toContain('sluice_ingest_events_total{outcome="accepted"} 2');
    expect(text).toContain('sluice_ingest_events_total{outcome="duplicate"} 1');
    expect(text).toContain('sluice_ingest_events_total{outcome="rejected"} 1');
    expect(text).toMatch(/sluice_ingest_append_seconds_count 2/);
  });

  it('reports readiness with the head position and serves OpenAPI at /docs', async () => {
    await post(visit('d1'));
    expect((await app.inject({ method: 'GET', url: '/readyz' })).json()).toEqual({ status: 'ready', headPosition: 1, followers: [] });
    const spec = (await app.inject({ method: 'GET', url: '/docs/json' })).json();
    expect(Object.keys(spec.paths)).toEqual(expect.arrayContaining(['/v1/events', '/v1/leads/{id}/events']));
    expect((await app.inject({ method: 'GET', url: '/docs/' })).statusCode).toBe(200);
  });

  it('finishes an in-flight append before closing', async () => {
    const listening = await buildApp({ store, limits: DEFAULT_LIMITS, apiKeys: [] });
    let arrived!: () => void;
    const requestArrived = new Promise<void>((resolve) => (arrived = resolve));
    listening.addHook('preHandler', async () => arrived());
    await listening.listen({ host: '127.0.0.1', port: 0 });
    const { port } = listening.server.address() as { port: number };
    const batch = Array.from({ length: 5_000 }, (_, i) => visit(`g${i}`));
    const request = fetch(`http://127.0.0.1:${port}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(batch) });
    await requestArrived;
    await listening.close();
    const res = await request;
    expect(res.status).toBe(200);
    expect(await store.headPosition()).toBe(5_000);
  });
});
