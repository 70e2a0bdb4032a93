import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRuleConfig } from '@sluice/config';
import { buildApp, DEFAULT_LIMITS } from './app.js';
import type { TestStack } from './test-stack.js';
import { openTestStack } from './test-stack.js';

// embedded chDB: this file runs in its own forked worker (one data directory per process)
const rules = parseRuleConfig({ version: 'bad-input-1', timeZone: 'Europe/Berlin' });
let stack: TestStack;
let app: FastifyInstance;

const range = { from: '2026-03-01T00:00:00+01:00', to: '2026-05-01T00:00:00+02:00' };
const funnel = { steps: [{ type: 'visit' }, { type: 'form_submit' }], window: { value: 7, unit: 'days' }, dateRange: range };
const loneSurrogate = 'utm\ud800x';
const nul = 'utm\u0000x';
const badInstants = [
  ['an offset past +14:00', '2026-03-01T10:00:00+24:00'],
  ['an offset that is no offset', '2026-03-01T10:00:00+99:99'],
  ['year 0001', '0001-01-01T00:00:00Z'],
  ['year 9999', '9999-12-31T00:00:00Z'],
] as const;

beforeAll(async () => {
  stack = await openTestStack('bad-input', rules);
  app = await buildApp({ store: stack.store, limits: DEFAULT_LIMITS, apiKeys: [], projections: stack.read!, analytics: { client: stack.client, sink: stack.sink, rules } });
  const res = await app.inject({ method: 'POST', url: '/v1/events', payload: { id: 'known-1', type: 'visit', occurredAt: '2026-03-02T10:00:00+01:00', leadId: 'L1' } });
  expect(res.statusCode).toBe(200);
  await stack.catchUp();
});

afterAll(async () => {
  await app.close();
  await stack.close();
});

/** 400 problem+json whose errors name `field`. */
async function expectRefused(res: { statusCode: number; headers: Record<string, unknown>; json(): { errors?: Array<{ field: string }> } }, field: string) {
  expect(res.statusCode).toBe(400);
  expect(String(res.headers['content-type'])).toContain('application/problem+json');
  expect(res.json().errors?.map((e) => e.field)).toContain(field);
}

describe('a bad instant anywhere is a 400 naming the field, never a 500 or another date', () => {
  const bodies = (instant: string): Array<[string, string, object, string]> => [
    ['funnel dateRange.from', '/v1/funnels', { ...funnel, dateRange: { ...range, from: instant } }, 'dateRange.from'],
    ['funnel compareTo.to', '/v1/funnels', { ...funnel, compareTo: { from: range.from, to: instant } }, 'compareTo.to'],
    ['conversion dateRange.to', '/v1/conversion', { dateRange: { ...range, to: instant } }, 'dateRange.to'],
    ['conversion asOf', '/v1/conversion', { dateRange: range, asOf: instant }, 'asOf'],
    ['close-rates dateRange.from', '/v1/close-rates', { dateRange: { ...range, from: instant } }, 'dateRange.from'],
    ['conversion-drivers asOf', '/v1/conversion-drivers', { dateRange: range, asOf: instant }, 'asOf'],
    ['time-to-convert asOf', '/v1/time-to-convert', { dateRange: range, from: 'lead', to: 'mql', asOf: instant }, 'asOf'],
    ['cohorts dateRange.to', '/v1/cohorts', { dateRange: { ...range, to: instant } }, 'dateRange.to'],
    ['cost report dateRange.from', '/v1/reports/cost', { dateRange: { ...range, from: instant } }, 'dateRange.from'],
    ['SLA report dateRange.to', '/v1/reports/sla', { dateRange: { ...range, to: instant } }, 'dateRange.to'],
    ['SLA report asOf', '/v1/reports/sla', { dateRange: range, asOf: instant }, 'asOf'],
    ['what-if window.from (checked by fastify: body.)', '/v1/whatif', { candidate: { version: 'bad-input-2' }, window: { from: instant, to: range.to } }, 'body.window.from'],
  ];
  describe.each(badInstants)('%s (%s)', (_label, instant) => {
    it.each(bodies(instant))('in the %s', async (_where, url, payload, field) => {
      await expectRefused(await app.inject({ method: 'POST', url, payload }), field);
    });

    it("in a lead's asOf", async () => {
      const res = await app.inject({ method: 'GET', url: `/v1/leads/L1?asOf=${encodeURIComponent(instant)}` });
      expect(res.statusCode).toBe(400);
      expect(res.body).toContain('asOf');
    });

    it('in an event, which is not written', async () => {
      const before = await stack.store.headPosition();
      const res = await app.inject({ method: 'POST', url: '/v1/events', payload: [{ id: 'ok-1', type: 'visit', occurredAt: range.from, leadId: 'L2' }, { id: 'bad-1', type: 'visit', occurredAt: instant, leadId: 'L2' }] });
      expect(res.statusCode).toBe(400);
      expect(res.json().errors).toEqual([expect.objectContaining({ index: 1, field: 'occurredAt' })]);
      expect(await stack.store.headPosition()).toBe(before);
    });
  });
});

describe('a lone surrogate or NUL in a query string that becomes a SQL parameter is a 400 naming it', () => {
  const bodies = (bad: string): Array<[string, string, object, string]> => [
    ['a funnel step filter value', '/v1/funnels', { ...funnel, steps: [{ type: 'visit', where: [{ key: 'source', op: 'eq', value: bad }] }, { type: 'form_submit' }] }, 'steps.0.where.0.value'],
    ['a funnel property key', '/v1/funnels', { ...funnel, steps: [{ type: 'visit', where: [{ key: `properties.x.${bad}`, op: 'eq', value: 'v' }] }, { type: 'form_submit' }] }, 'steps.0.where.0.key'],
    ['a funnel breakdown', '/v1/funnels', { ...funnel, breakdown: `properties.${bad}` }, 'breakdown'],
    ['a funnel step label', '/v1/funnels', { ...funnel, steps: [{ type: 'visit', label: bad }, { type: 'form_submit' }] }, 'steps.0.label'],
    ['the conversion config version', '/v1/conversion', { dateRange: range, configVersion: bad }, 'configVersion'],
    ['a conversion filter value', '/v1/conversion', { dateRange: range, filters: [{ key: 'businessUnit', values: ['ok', bad] }] }, 'filters.0.values.1'],
    ['the close-rates property', '/v1/close-rates', { dateRange: range, property: `properties.${bad}` }, 'property'],
    ['a time-to-convert breakdown', '/v1/time-to-convert', { dateRange: range, from: { type: 'visit' }, to: { type: 'form_submit' }, breakdown: `properties.${bad}` }, 'breakdown'],
    ['the cohorts config version', '/v1/cohorts', { dateRange: range, configVersion: bad }, 'configVersion'],
    ['a cost report unit alias', '/v1/reports/cost', { dateRange: range, groupBy: 'businessUnit', businessUnits: { default: 'smb', units: [{ id: 'smb', name: 'SMB', aliases: [bad] }] } }, 'businessUnits.units.0.aliases.0'],
  ];
  describe.each([
    ['a lone surrogate', loneSurrogate],
    ['NUL', nul],
  ])('%s', (_label, bad) => {
    it.each(bodies(bad))('in %s', async (_where, url, payload, field) => {
      await expectRefused(await app.inject({ method: 'POST', url, payload }), field);
    });
  });
});

describe('events: text, depth and money', () => {
  it.each([
    ['a lone surrogate in source', { source: loneSurrogate }, 'source'],
    ['NUL in a properties.x value', { properties: { x: { term: nul } } }, 'properties.x.term'],
  ])('refuses %s and writes nothing of the batch', async (_label, patch, field) => {
    const before = await stack.store.headPosition();
    const res = await app.inject({ method: 'POST', url: '/v1/events', payload: [{ id: 'fine-1', type: 'visit', occurredAt: range.from, leadId: 'L3' }, { id: 'text-1', type: 'visit', occurredAt: range.from, leadId: 'L3', ...patch }] });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors).toEqual([expect.objectContaining({ index: 1, field })]);
    expect(await stack.store.headPosition()).toBe(before);
  });

  it('refuses a 10,000-level properties.x with a 400 naming it (it was a 500: the validator overflowed its stack)', async () => {
    // sent as text: the test's own request builder walks an object payload recursively
    const x = '{"a":'.repeat(9_999) + '{}' + '}'.repeat(9_999);
    const payload = `{"id":"deep-1","type":"visit","occurredAt":"${range.from}","leadId":"L3","properties":{"x":${x}}}`;
    const res = await app.inject({ method: 'POST', url: '/v1/events', headers: { 'content-type': 'application/json' }, payload });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors).toEqual([expect.objectContaining({ field: 'properties.x', message: 'nests deeper than 32 levels of objects and arrays' })]);
  });

  it.each([
    ['currency QQQ', { amount: 10, currency: 'QQQ' }, 'properties.currency'],
    ['amount 1.7e308', { amount: 1.7e308, currency: 'EUR' }, 'properties.amount'],
  ])('refuses a payment with %s', async (_label, properties, field) => {
    const res = await app.inject({ method: 'POST', url: '/v1/events', payload: { id: 'pay-1', type: 'payment', occurredAt: range.from, leadId: 'L3', properties } });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors).toEqual([expect.objectContaining({ field })]);
  });
});
