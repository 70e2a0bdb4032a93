import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteEventStore } from '@sluice/event-store';
import type { EventStore } from '@sluice/event-store';
import { buildApp, DEFAULT_LIMITS } from '../app.js';

let dir: string;
let store: EventStore;
let app: FastifyInstance;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-ingest-'));
  store = await openSqliteEventStore({ path: join(dir, 'events.sqlite') });
  app = await buildApp({ store, limits: DEFAULT_LIMITS, apiKeys: [] });
});

afterEach(async () => {
  await app.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const payment = (id: string, amount: number) => ({ id, type: 'payment', occurredAt: '2026-03-01T10:00:00+01:00', leadId: 'lead-1', properties: { amount, currency: 'EUR' } });
const form = (id: string, x: Record<string, unknown>) => ({
  id,
  type: 'form_submit',
  occurredAt: '2026-03-01T10:04:00+01:00',
  anonymousId: 'anon-1',
  leadId: 'lead-1',
  properties: { formId: 'trial', x },
});
const post = (payload: string, contentType = 'application/json') => app.inject({ method: 'POST', url: '/v1/events', headers: { 'content-type': contentType }, payload });

describe('POST /v1/events: same id, same or different content', () => {
  it('given a stored batch, when it is retried with its keys in another order, then it is 200 with duplicates and the original positions', async () => {
    const first = await post(JSON.stringify([form('f1', { utm: 'a', page: '/p' }), payment('p1', 100)]));
    expect(first.statusCode).toBe(200);
    const head = await store.headPosition();

    const retry = await post(`[{"properties": {"x": {"page": "/p", "utm": "a"}, "formId": "trial"}, "leadId": "lead-1", "anonymousId": "anon-1",
      "occurredAt": "2026-03-01T10:04:00+01:00", "type": "form_submit", "id": "f1"}, ${JSON.stringify(payment('p1', 100))}]`);

    expect(retry.statusCode).toBe(200);
    expect(retry.json()).toEqual({ accepted: 0, duplicates: 2, positions: first.json().positions });
    expect(await store.headPosition()).toBe(head);
  });

  it('given a stored payment, when a corrected one comes with the same id, then 409 problem+json names it and nothing of the batch is written', async () => {
    await post(JSON.stringify(payment('p1', 100)));
    const head = await store.headPosition();

    const res = await post(JSON.stringify([payment('p2', 40), payment('p1', 120)]));

    expect(res.statusCode).toBe(409);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toEqual({
      type: 'https://sluice.dev/problems/event-id-conflict',
      title: 'Event id conflict',
      status: 409,
      detail:
        '1 of 2 events reuses an id with a different type or data; nothing was written. An exact retry (same type and data) is accepted as a duplicate; a corrected event needs an id of its own.',
      conflicts: [{ index: 1, id: 'p1', message: 'id "p1" is already stored with a different type or data' }],
    });
    expect(await store.headPosition()).toBe(head);
    expect((await store.readAll()).map((e) => (e.data as { properties: { amount: number } }).properties.amount)).toEqual([100]);
  });

  it('when an NDJSON batch carries one id twice with different content, then 409 names the later one by index and line, and the earlier one', async () => {
    const body = [JSON.stringify(form('f1', { utm: 'a' })), '', JSON.stringify(payment('p1', 100)), JSON.stringify(form('f1', { utm: 'b' }))].join('\n');

    const res = await post(body, 'application/x-ndjson');

    expect(res.statusCode).toBe(409);
    expect(res.json().conflicts).toEqual([
      { index: 2, line: 4, id: 'f1', earlierIndex: 0, message: 'id "f1" is also the id of event 0 (line 1) of this batch, with a different type or data' },
    ]);
    expect(await store.headPosition()).toBe(0);
  });

  it('then the OpenAPI document lists the 409 answer', async () => {
    const spec = (await app.inject({ method: 'GET', url: '/docs/json' })).json();
    expect(Object.keys(spec.paths['/v1/events'].post.responses)).toContain('409');
  });
});
