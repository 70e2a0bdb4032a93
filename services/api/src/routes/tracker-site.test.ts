import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteEventStore } from '@sluice/event-store';
import type { EventStore } from '@sluice/event-store';
import { CaptureSchema } from '@sluice/schemas';
import type { CaptureConfig } from '@sluice/schemas';
import { buildApp, DEFAULT_LIMITS } from '../app.js';
import { RateLimiter } from './tracker.js';

/** The site key scope of POST /v1/collect: types, origins (CORS), rate, bots and client addresses, each with the value configured. */

const SITE_KEY = 'site_shop_0001';
const ORIGIN = 'https://shop.example';
const BROWSER = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36';
let dir: string | undefined;
let store: EventStore;
let app: FastifyInstance | undefined;

afterEach(async () => {
  await app?.close();
  await store?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  app = undefined;
  dir = undefined;
});

async function appWith(site: Partial<CaptureConfig['site']> = {}, apiKeys = [{ name: 'reader', secret: 'reader-key-0123456789', scopes: ['read' as const] }]) {
  dir = mkdtempSync(join(tmpdir(), 'sluice-site-'));
  store = await openSqliteEventStore({ path: join(dir, 'events.sqlite') });
  const capture = CaptureSchema.parse({ site: { keys: [{ name: 'shop', key: SITE_KEY, origins: [ORIGIN, 'http://localhost:3000'] }], ...site } });
  app = await buildApp({ store, limits: DEFAULT_LIMITS, apiKeys, capture });
  return app;
}

const visit = (id: string, extra: Record<string, unknown> = {}) => ({ id, type: 'visit', occurredAt: '2026-03-01T10:00:00Z', anonymousId: 'anon-1', channel: 'direct', properties: { url: 'https://shop.example/' }, ...extra });
const collect = (body: unknown, headers: Record<string, string> = {}, key = SITE_KEY) =>
  app!.inject({ method: 'POST', url: `/v1/collect?key=${key}`, headers: { 'content-type': 'text/plain', origin: ORIGIN, 'user-agent': BROWSER, ...headers }, payload: JSON.stringify(body) });
const storedData = async () => (await store.readAll()).map((e) => e.data as { id: string; properties: { x?: Record<string, unknown> } });

describe('POST /v1/collect under a site key', () => {
  it('given an allowed origin, then a text/plain batch is stored and the answer names that origin for CORS', async () => {
    await appWith();
    const response = await collect([visit('v1'), { ...visit('p1'), type: 'page_view', properties: { url: 'https://shop.example/pricing', title: 'Pricing' } }]);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ accepted: 2, duplicates: 0, dropped: 0 });
    expect(response.headers['access-control-allow-origin']).toBe(ORIGIN);
    expect((await storedData()).map((e) => e.id)).toEqual(['v1', 'p1']);
    expect((await collect([visit('v1')])).json()).toEqual({ accepted: 0, duplicates: 1, dropped: 0 });
  });

  it('an origin the key does not list is refused with no CORS header, and nothing is stored; a preflight likewise', async () => {
    await appWith();
    const response = await collect([visit('v1')], { origin: 'https://evil.example' });
    expect(response.statusCode).toBe(403);
    expect(response.headers['access-control-allow-origin']).toBeUndefined();
    expect(response.json().detail).toBe('the site key "shop" may be used from https://shop.example, http://localhost:3000; this request came from https://evil.example');
    expect(await store.headPosition()).toBe(0);
    const preflight = (origin: string) => app!.inject({ method: 'OPTIONS', url: `/v1/collect?key=${SITE_KEY}`, headers: { origin, 'access-control-request-method': 'POST' } });
    const allowed = await preflight('http://localhost:3000');
    expect([allowed.statusCode, allowed.headers['access-control-allow-origin'], allowed.headers['access-control-allow-methods']]).toEqual([204, 'http://localhost:3000', 'POST']);
    expect((await preflight('https://evil.example')).statusCode).toBe(403);
  });

  it('no key or an unknown one is 401; an API key is no site key', async () => {
    await appWith();
    expect((await app!.inject({ method: 'POST', url: '/v1/collect', headers: { 'content-type': 'text/plain', origin: ORIGIN }, payload: '[]' })).statusCode).toBe(401);
    expect((await collect([visit('v1')], {}, 'site_unknown_0001')).statusCode).toBe(401);
    expect((await collect([visit('v1')], {}, 'reader-key-0123456789')).statusCode).toBe(401);
  });

  it('a type beyond web touchpoints (payment, sales_accepted) is 403 naming it, and nothing of the batch is written', async () => {
    await appWith();
    const response = await collect([visit('v1'), { id: 'pay1', type: 'payment', occurredAt: '2026-03-01T10:00:00Z', leadId: 'l1', properties: { amount: 10, currency: 'EUR' } }, { id: 'sa1', type: 'sales_accepted', occurredAt: '2026-03-01T10:00:00Z', leadId: 'l1' }]);
    expect(response.statusCode).toBe(403);
    expect(response.json().errors.map((e: { index: number; message: string }) => `${e.index}: ${e.message}`)).toEqual([
      '1: a site key may write visit, page_view, form_submit, content_download, ad_click, identify, not "payment"',
      '2: a site key may write visit, page_view, form_submit, content_download, ad_click, identify, not "sales_accepted"',
    ]);
    expect(await store.headPosition()).toBe(0);
  });

  it('given a rate of 60 a minute in bursts of 2, then the third request at once is 429 with Retry-After 1, and one second later one passes again', async () => {
    let clock = 1_000_000;
    const limiter = new RateLimiter({ perMinute: 60, burst: 2 }, () => clock);
    expect([limiter.take('shop|1.2.3.4'), limiter.take('shop|1.2.3.4'), limiter.take('shop|1.2.3.4'), limiter.take('shop|5.6.7.8')]).toEqual([undefined, undefined, 1, undefined]);
    clock += 1000;
    expect([limiter.take('shop|1.2.3.4'), limiter.take('shop|1.2.3.4')]).toEqual([undefined, 1]);

    await appWith({ rateLimit: { perMinute: 1, burst: 2 } });
    const statuses = [];
    for (const id of ['a', 'b', 'c']) statuses.push((await collect([visit(id)])).statusCode);
    expect(statuses).toEqual([200, 200, 429]);
    const limited = await collect([visit('d')]);
    expect(limited.headers['retry-after']).toBe('60');
    expect(limited.headers['access-control-allow-origin']).toBe(ORIGIN);
    expect((await storedData()).map((e) => e.id)).toEqual(['a', 'b']);
  });

  it('a headless browser is dropped by default (answered, counted, not stored) and flagged when so configured', async () => {
    const headless = { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0 Safari/537.36' };
    await appWith();
    expect((await collect([visit('v1')], headless)).json()).toEqual({ accepted: 0, duplicates: 0, dropped: 1 });
    expect((await collect([visit('v2')], { 'user-agent': 'Googlebot/2.1 (+http://www.google.com/bot.html)' })).json()).toMatchObject({ dropped: 1 });
    expect(await store.headPosition()).toBe(0);
    const metrics = await app!.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer reader-key-0123456789' } });
    expect(metrics.body).toContain('sluice_capture_items_total{door="site",outcome="bot_dropped"} 2');
    await app!.close();
    await store.close();
    await appWith({ bots: 'flag' });
    await collect([visit('v1')], headless);
    expect((await storedData())[0]!.properties.x).toEqual({ bot: true });
  });

  it('an invalid event is a 400 naming it, nothing written, and kept once among the rejected items with all its issues', async () => {
    await appWith();
    const response = await collect([visit('v1'), { ...visit('bad'), occurredAt: '2026-03-01T10:00:00', properties: { url: '' } }]);
    expect(response.statusCode).toBe(400);
    expect(response.json().errors.map((e: { index: number; field: string }) => `${e.index} ${e.field}`)).toEqual(['1 occurredAt', '1 properties.url']);
    expect(await store.headPosition()).toBe(0);
    const rejected = await app!.inject({ method: 'GET', url: '/v1/capture/rejected', headers: { authorization: 'Bearer reader-key-0123456789' } });
    expect(rejected.json()).toMatchObject({ total: 1, items: [{ door: 'site', index: 1, messageId: 'bad', issues: [{ field: 'occurredAt' }, { field: 'properties.url' }] }] });
  });

  it('no client address is stored unless configured', async () => {
    await appWith();
    await collect([visit('v1')]);
    expect((await storedData())[0]!.properties.x).toBeUndefined();
    await app!.close();
    await store.close();
    await appWith({ storeClientAddress: true });
    await collect([visit('v1', { properties: { url: 'https://shop.example/', x: { sessionId: 's1' } } })]);
    expect((await storedData())[0]!.properties.x).toEqual({ sessionId: 's1', clientAddress: '127.0.0.1' });
  });

  it('a keyless server still asks for a site key here, and serves /sluice.js with its settings', async () => {
    await appWith({}, []);
    expect((await app!.inject({ method: 'POST', url: '/v1/collect', headers: { 'content-type': 'text/plain', origin: ORIGIN }, payload: '[]' })).statusCode).toBe(401);
    const script = await app!.inject({ method: 'GET', url: '/sluice.js' });
    expect(script.statusCode).toBe(200);
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(script.body).toContain('"types":["visit","page_view","form_submit","content_download","ad_click","identify"]');
  });
});
