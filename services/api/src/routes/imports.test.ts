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
  dir = mkdtempSync(join(tmpdir(), 'sluice-imports-'));
  store = await openSqliteEventStore({ path: join(dir, 'events.sqlite') });
  app = await buildApp({ store, limits: { ...DEFAULT_LIMITS, bodyLimitBytes: 4096 }, apiKeys: [{ name: 'reader', secret: 'r-secret', scopes: ['read'] }, { name: 'writer', secret: 'w-secret', scopes: ['ingest'] }] });
});
afterEach(async () => {
  await app.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const MAP = {
  timeZone: 'Asia/Tokyo',
  events: [{ type: 'payment', id: { column: 'deal', prefix: 'won-' }, occurredAt: { column: 'closed', format: 'yyyy-MM-dd' }, leadId: 'contact', properties: { amount: { column: 'amount', as: 'number' }, currency: { value: 'JPY' } } }],
};
const post = (body: unknown, key = 'w-secret') => app.inject({ method: 'POST', url: '/v1/imports', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, payload: JSON.stringify(body) });

describe('POST /v1/imports', () => {
  it('given a map and CSV text, then the events are written and a second post is all duplicates', async () => {
    const file = 'deal;contact;closed;amount\nd1;c1;2026-04-01;50000\nd2;c2;2026-04-02;70000\n';
    const first = await post({ map: MAP, file, fileName: 'deals.csv' });
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({ file: 'deals.csv', format: 'csv', delimiter: ';', rows: 2, events: 2, written: 2, duplicates: 0, rejectedRows: 0, outcome: 'written', dateOnly: [{ column: 'closed', timeZone: 'Asia/Tokyo', count: 2 }] });
    const events = (await store.readAll()).map((e) => e.data);
    expect(events).toEqual([
      { id: 'won-d1', type: 'payment', occurredAt: '2026-04-01T00:00:00+09:00', leadId: 'c1', properties: { amount: 50000, currency: 'JPY' } },
      { id: 'won-d2', type: 'payment', occurredAt: '2026-04-02T00:00:00+09:00', leadId: 'c2', properties: { amount: 70000, currency: 'JPY' } },
    ]);
    expect((await post({ map: MAP, file })).json()).toMatchObject({ written: 0, duplicates: 2 });
  });

  it('given a bad row, then it is a 400 problem naming the event, field, column and line, and nothing is written; with skipInvalid the good row lands', async () => {
    const file = 'deal,contact,closed,amount\nd1,c1,2026-04-01,50000\nd2,c2,04/02/2026,70000\n';
    const rejected = await post({ map: MAP, file });
    expect(rejected.statusCode).toBe(400);
    expect(rejected.headers['content-type']).toContain('application/problem+json');
    expect(rejected.json()).toMatchObject({
      type: 'https://sluice.dev/problems/import-rejected',
      detail: '1 of 2 rows are bad; nothing was written (skipInvalid writes the good rows)',
      rejectedRows: 1,
      errors: [{ line: 3, field: 'payment occurredAt', message: 'does not match the format yyyy-MM-dd (column "closed"): 1 row(s), lines 3, e.g. "04/02/2026"' }],
    });
    expect(await store.headPosition()).toBe(0);

    const skipping = await post({ map: MAP, file, skipInvalid: true });
    expect(skipping.statusCode).toBe(200);
    expect(skipping.json()).toMatchObject({ rows: 2, written: 1, rejectedRows: 1 });
  });

  it('given a bad map, an unknown ready map, a read-only key or a body over the limit, then nothing is written and the answer says why', async () => {
    const badMap = await post({ map: { events: [{ type: 'visit', id: {}, occurredAt: 'at' }] }, file: 'a\n1\n' });
    expect(badMap.statusCode).toBe(400);
    expect(badMap.json().errors).toEqual([{ field: 'map.events.0.id', message: expect.stringContaining('must be {"column": NAME} or {"hash": [NAMES]}') }]);

    const unknown = await post({ map: 'pipedrive-deals', file: 'a\n1\n' });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().errors).toEqual([{ field: 'map', message: 'must be an import map or one of hubspot-contacts, hubspot-deals, salesforce-leads, salesforce-opportunities' }]);

    expect((await post({ map: MAP, file: 'deal,contact,closed,amount\nd1,c1,2026-04-01,1\n' }, 'r-secret')).statusCode).toBe(403);
    const large = await post({ map: MAP, file: 'deal,contact,closed,amount\n' + 'd1,c1,2026-04-01,1\n'.repeat(300) });
    expect(large.statusCode).toBe(413);
    expect(await store.headPosition()).toBe(0);
  });
});
