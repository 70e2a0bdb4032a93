import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { Analytics as SegmentAnalytics } from '@segment/analytics-node';
import RudderAnalytics from '@rudderstack/rudder-sdk-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteEventStore } from '@sluice/event-store';
import type { EventStore } from '@sluice/event-store';
import { CaptureSchema } from '@sluice/schemas';
import { buildApp, DEFAULT_LIMITS } from '../app.js';

/**
 * The Segment / RudderStack door with the real clients, pointed at a real
 * listening server over HTTP: what they send lands mapped as documented (read
 * back from the store), a resend is stored once, and a bad write key or a bad
 * item is answered the way those clients expect.
 */

const WRITE_KEY = 'segment-write-key-0123456789';
const READ_KEY = 'segment-read-key-0123456789';
let dir: string;
let store: EventStore;
let app: FastifyInstance;
let base: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-segment-'));
  store = await openSqliteEventStore({ path: join(dir, 'events.sqlite') });
  const capture = CaptureSchema.parse({ segment: { events: { 'Demo Requested': 'demo_requested', 'Order Completed': 'payment', 'Whitepaper Downloaded': 'content_download' } } });
  app = await buildApp({
    store,
    limits: DEFAULT_LIMITS,
    apiKeys: [
      { name: 'segment', secret: WRITE_KEY, scopes: ['ingest'] },
      { name: 'reader', secret: READ_KEY, scopes: ['read'] },
    ],
    capture,
  });
  base = await app.listen({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await app.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function stored(): Promise<Map<string, Record<string, unknown>>> {
  const all = await store.readAll();
  return new Map(all.filter((e) => e.type !== 'identity_linked').map((e) => [e.id, { type: e.type, ...(e.data as Record<string, unknown>) }]));
}

const at = (minute: number) => new Date(Date.UTC(2026, 2, 1, 10, minute));
const campaign = { source: 'google', medium: 'cpc', name: 'spring-crm' };

/** the same four calls through either client, with ids of the test's choosing so a resend can be recognised */
interface Calls {
  track(m: Record<string, unknown>): void;
  identify(m: Record<string, unknown>): void;
  page(m: Record<string, unknown>): void;
  group(m: Record<string, unknown>): void;
}
function sendAll(client: Calls, prefix: string) {
  client.page({ messageId: `${prefix}-page`, anonymousId: `${prefix}-anon`, name: 'Pricing', properties: { url: 'https://www.example.com/pricing', path: '/pricing' }, context: { campaign, page: { referrer: 'https://www.google.com/' } }, timestamp: at(1) });
  client.track({ messageId: `${prefix}-demo`, anonymousId: `${prefix}-anon`, userId: `${prefix}-lead`, event: 'Demo Requested', properties: { formId: 'demo-form', plan: 'team' }, timestamp: at(2) });
  client.identify({ messageId: `${prefix}-identify`, userId: `${prefix}-lead`, traits: { email: `ann@${prefix}.example.com`, name: 'Ann Lee', employees: '250', favouriteColour: 'teal' }, timestamp: at(3) });
  client.group({ messageId: `${prefix}-group`, userId: `${prefix}-lead`, groupId: `${prefix}-acme`, traits: { name: 'Acme', industry: 'Software', plan: 'enterprise' }, timestamp: at(4) });
  client.track({ messageId: `${prefix}-order`, userId: `${prefix}-lead`, event: 'Order Completed', properties: { revenue: 1200, currency: 'EUR', orderId: 'o-1' }, timestamp: at(5) });
}

function expected(prefix: string) {
  const lead = `${prefix}-lead`;
  return {
    [`${prefix}-page`]: { type: 'page_view', anonymousId: `${prefix}-anon`, occurredAt: at(1).toISOString(), source: 'google', channel: 'paid_search', campaign: 'spring-crm', properties: { url: 'https://www.example.com/pricing', title: 'Pricing', x: { path: '/pricing', name: 'Pricing' } } },
    [`${prefix}-demo`]: { type: 'demo_requested', leadId: lead, anonymousId: `${prefix}-anon`, properties: { formId: 'demo-form', x: { event: 'Demo Requested', plan: 'team' } } },
    [`${prefix}-identify`]: { type: 'identify', leadId: lead, properties: { email: `ann@${prefix}.example.com`, name: 'Ann Lee', companySize: 250, x: { favouriteColour: 'teal' } } },
    [`${prefix}-group`]: { type: 'identify', leadId: lead, accountId: `${prefix}-acme`, properties: { company: 'Acme', industry: 'Software', x: { plan: 'enterprise' } } },
    [`${prefix}-order`]: { type: 'payment', leadId: lead, properties: { amount: 1200, currency: 'EUR', x: { event: 'Order Completed', orderId: 'o-1' } } },
  };
}

async function viaSegment(prefix: string, writeKey = WRITE_KEY): Promise<number[]> {
  const client = new SegmentAnalytics({ writeKey, host: base, path: '/segment/v1/batch', flushInterval: 50, maxRetries: 0 });
  const statuses: number[] = [];
  client.on('http_response', (r) => statuses.push(r.status));
  client.on('error', () => undefined);
  sendAll(client as unknown as Calls, prefix);
  await client.closeAndFlush({ timeout: 20_000 });
  return statuses;
}

async function viaRudder(prefix: string): Promise<void> {
  // gzip on, as it is by default: the endpoint takes the compressed body
  const client = new RudderAnalytics(WRITE_KEY, { dataPlaneUrl: base, path: '/segment/v1/batch', flushAt: 100, flushInterval: 60_000, logLevel: 'error' });
  sendAll(client as unknown as Calls, prefix);
  await client.flush();
}

describe('the Segment tracking spec under /segment/v1 with @segment/analytics-node', () => {
  it('given a write key with the ingest scope, when page, track, identify, group and a revenue track are sent, then each lands mapped as documented', async () => {
    expect(await viaSegment('seg')).toEqual([200]);
    const events = await stored();
    for (const [id, shape] of Object.entries(expected('seg'))) expect(events.get(id), id).toMatchObject(shape);
  });

  it('when the same messages are sent again, then nothing new is stored (the messageIds are duplicates)', async () => {
    const before = await store.headPosition();
    const responses: unknown[] = [];
    const client = new SegmentAnalytics({ writeKey: WRITE_KEY, host: base, path: '/segment/v1/batch', flushInterval: 50 });
    client.on('http_response', (r) => responses.push(r.status));
    sendAll(client as unknown as Calls, 'seg');
    await client.closeAndFlush();
    expect(responses).toEqual([200]);
    expect(await store.headPosition()).toBe(before);
  });

  it('given a write key that is no API key, then the answer is 401 and nothing is stored', async () => {
    const before = await store.headPosition();
    expect(await viaSegment('bad-key', 'not-a-sluice-key-0000')).toEqual([401]);
    expect(await store.headPosition()).toBe(before);
  });
});

describe('the same endpoint with @rudderstack/rudder-sdk-node', () => {
  it('given gzipped batches, when the four calls are sent twice, then they land mapped and once', async () => {
    await viaRudder('rud');
    const events = await stored();
    for (const [id, shape] of Object.entries(expected('rud'))) expect(events.get(id), id).toMatchObject(shape);
    const head = await store.headPosition();
    await viaRudder('rud');
    expect(await store.headPosition()).toBe(head);
  });
});

describe('a batch with bad items', () => {
  const auth = { authorization: `Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}` };
  const good = { type: 'track', messageId: 'mixed-ok', userId: 'lead-mixed', event: 'Demo Requested', timestamp: '2026-03-02T09:00:00Z' };
  const batch = [
    good,
    { type: 'track', messageId: 'mixed-unmapped', userId: 'lead-mixed', event: 'Button Clicked', timestamp: '2026-03-02T09:01:00Z' },
    { type: 'identify', messageId: 'mixed-bad-email', userId: 'lead-mixed', traits: { email: 'not an email' }, timestamp: '2026-03-02T09:02:00Z' },
    { type: 'screen', messageId: 'mixed-screen', userId: 'lead-mixed', name: 'Home', timestamp: '2026-03-02T09:03:00Z' },
    { type: 'track', messageId: 'seg-demo', userId: 'someone-else', event: 'Demo Requested', timestamp: '2026-03-02T09:04:00Z' },
  ];

  it('when sent, then the answer is 200 (its clients resend only on 5xx), the good item is stored, and each bad one is named, counted and kept', async () => {
    const response = await app.inject({ method: 'POST', url: '/segment/v1/batch', headers: { ...auth, 'content-type': 'application/json', 'content-encoding': 'gzip' }, payload: gzipSync(JSON.stringify({ batch })) });
    expect(response.statusCode, response.body).toBe(200);
    const body = response.json();
    expect(body).toMatchObject({ success: true, accepted: 1, duplicates: 0, skipped: 0 });
    expect(body.rejected.map((r: { index: number; messageId: string; issues: { field: string }[] }) => [r.index, r.messageId, r.issues.map((i) => i.field).join()])).toEqual([
      [1, 'mixed-unmapped', 'event'],
      [2, 'mixed-bad-email', 'properties.email'],
      [3, 'mixed-screen', 'type'],
      [4, 'seg-demo', 'messageId'],
    ]);
    expect((await stored()).get('mixed-ok')).toMatchObject({ type: 'demo_requested', leadId: 'lead-mixed' });
    expect((await stored()).get('seg-demo')).toMatchObject({ leadId: 'seg-lead' });

    const rejected = await app.inject({ method: 'GET', url: '/v1/capture/rejected', headers: { authorization: `Bearer ${READ_KEY}` } });
    expect(rejected.json().items.slice(0, 4).map((i: { messageId: string; door: string }) => `${i.door}:${i.messageId}`).sort()).toEqual(['segment:mixed-bad-email', 'segment:mixed-screen', 'segment:mixed-unmapped', 'segment:seg-demo']);
    expect(rejected.json().items.find((i: { messageId: string }) => i.messageId === 'mixed-unmapped').issues[0].message).toBe('track event "Button Clicked" is not in capture.segment.events');
    const metrics = (await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${READ_KEY}` } })).body;
    expect(metrics).toContain('sluice_capture_items_total{door="segment",outcome="rejected"} 4');
  });

  it('a body that is no batch is a 400 naming it (no resend can fix it), and nothing is stored', async () => {
    const before = await store.headPosition();
    const response = await app.inject({ method: 'POST', url: '/segment/v1/batch', headers: { ...auth, 'content-type': 'application/json' }, payload: { messages: [good] } });
    expect(response.statusCode).toBe(400);
    expect(response.json().errors).toEqual([expect.objectContaining({ field: 'body.batch' })]);
    expect(await store.headPosition()).toBe(before);
  });

  it('a single-message route takes the message with its type from the path; context.groupId is the accountId, properties.x stays x', async () => {
    const message = { ...good, type: undefined, messageId: 'single-track', context: { groupId: 'acct-9' }, properties: { formId: 'f', x: { variant: 'b' }, plan: 'team' } };
    const response = await app.inject({ method: 'POST', url: '/segment/v1/track', headers: { ...auth, 'content-type': 'application/json' }, payload: message });
    expect(response.json()).toMatchObject({ accepted: 1, rejected: [] });
    expect((await stored()).get('single-track')).toMatchObject({ type: 'demo_requested', accountId: 'acct-9', properties: { formId: 'f', x: { event: 'Demo Requested', variant: 'b', plan: 'team' } } });
  });

  it('a webhook destination posts messages of any type to one URL, each saying its type', async () => {
    const post = (message: object) => app.inject({ method: 'POST', url: '/segment/v1/webhook', headers: { ...auth, 'content-type': 'application/json' }, payload: message });
    expect((await post({ ...good, messageId: 'hook-track' })).json()).toMatchObject({ accepted: 1 });
    expect((await post({ type: 'page', messageId: 'hook-page', anonymousId: 'a-1', timestamp: '2026-03-02T09:00:00Z', properties: { url: 'https://www.example.com/' } })).json()).toMatchObject({ accepted: 1 });
    expect((await post({ messageId: 'hook-untyped', userId: 'u', timestamp: '2026-03-02T09:00:00Z' })).json().rejected[0].issues).toEqual([{ field: 'type', message: 'required: Sluice takes track, page, identify, group' }]);
    expect([...(await stored()).values()].filter((e) => String(e.id).startsWith('hook-')).map((e) => e.type)).toEqual(['demo_requested', 'page_view']);
  });
});
