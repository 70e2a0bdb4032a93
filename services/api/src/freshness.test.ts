import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runStageTableSink } from '@sluice/analytics';
import { parseRuleConfig } from '@sluice/config';
import type { Follower } from '@sluice/follower';
import { stageStateSource } from '@sluice/projector';
import { buildApp, DEFAULT_LIMITS } from './app.js';
import type { TestStack } from './test-stack.js';
import { openTestStack } from './test-stack.js';

/*
 * Every answer from the read models or ClickHouse says where it stands on the
 * log: either it is whole (caughtUp, the same numbers as once everything has
 * caught up) or it says it is not (caughtUp false, position < head), in the
 * body and in the Sluice-Freshness header.
 */

// embedded chDB: this file runs in its own forked worker (one data directory per process)
const rules = parseRuleConfig({ version: 'api-freshness-1', timeZone: 'Europe/Berlin', sla: { firstTouchWithinMinutes: 60, mqlsPerMonth: { default: 5 } } });
let stack: TestStack;
let stageSink: Follower;
let app: FastifyInstance;

const RANGE = { from: '2026-03-01T00:00:00+01:00', to: '2026-06-01T00:00:00+02:00' };
const funnel = { steps: [{ type: 'visit' }, { type: 'form_submit' }, { type: 'demo_held' }], window: { value: 30, unit: 'days' }, dateRange: RANGE };

/** Every route answering from the read models or ClickHouse (what-if excluded: it replays the log itself). */
const ASKS: ReadonlyArray<{ method: 'GET' | 'POST'; url: string; payload?: object }> = [
  { method: 'POST', url: '/v1/funnels', payload: funnel },
  { method: 'POST', url: '/v1/funnels/leads?stepIndex=1', payload: funnel },
  { method: 'POST', url: '/v1/conversion', payload: { dateRange: RANGE } },
  { method: 'POST', url: '/v1/close-rates', payload: { dateRange: RANGE } },
  { method: 'POST', url: '/v1/conversion-drivers', payload: { dateRange: RANGE } },
  { method: 'POST', url: '/v1/time-to-convert', payload: { from: 'lead', to: 'sql', dateRange: RANGE } },
  // as of a fixed instant: without one the answer is as of each request's arrival, which differs between two asks
  { method: 'POST', url: '/v1/cohorts', payload: { dateRange: RANGE, offsets: 2, asOf: '2026-09-01T00:00:00+02:00' } },
  { method: 'POST', url: '/v1/reports/cost', payload: { dateRange: RANGE } },
  { method: 'POST', url: '/v1/reports/sla', payload: { dateRange: RANGE, asOf: '2026-06-01T00:00:00+02:00' } },
  {
    method: 'POST',
    url: '/v1/plans/reverse',
    payload: {
      asOf: '2026-06-01T00:00:00Z',
      timeZone: 'UTC',
      stageModel: { stages: ['lead', 'mql', 'sql', 'customer'] },
      businessUnits: [{ id: 'all', dealSize: { given: 10_000 } }],
      targets: [{ businessUnit: 'all', period: '2026-Q3', revenue: 500_000 }],
      uncertainty: { seed: 1, draws: 100 },
    },
  },
  { method: 'GET', url: '/v1/leads?limit=20' },
  { method: 'GET', url: '/v1/leads/lead-8' },
  { method: 'GET', url: '/v1/conversion/live?period=month' },
];

/** Leads of March to May: a visit, a form, and for some a demo request, a demo held, a payment. */
function journeys(from: number, count: number) {
  const events: object[] = [];
  for (let i = from; i < from + count; i += 1) {
    const day = (n: number) => `2026-0${3 + (i % 3)}-${String(1 + (i % 27) + n).padStart(2, '0')}T10:00:00+01:00`;
    const who = { leadId: `lead-${i}`, anonymousId: `anon-${i}` };
    events.push({ id: `v-${i}`, type: 'visit', occurredAt: day(0), anonymousId: `anon-${i}`, source: i % 2 === 0 ? 'google' : 'linkedin', channel: 'paid' });
    events.push({ id: `f-${i}`, type: 'form_submit', occurredAt: day(0), ...who, properties: { formId: 'contact' } });
    if (i % 2 === 0) events.push({ id: `r-${i}`, type: 'demo_requested', occurredAt: day(1), ...who });
    if (i % 4 === 0) events.push({ id: `d-${i}`, type: 'demo_held', occurredAt: day(1), ...who, properties: { demoId: `demo-${i}` } });
    if (i % 8 === 0) events.push({ id: `p-${i}`, type: 'payment', occurredAt: day(1), ...who, properties: { amount: 10_000, currency: 'EUR' } });
  }
  return events;
}

async function ingest(events: object[]) {
  for (let i = 0; i < events.length; i += 5_000) {
    const res = await app.inject({ method: 'POST', url: '/v1/events', payload: events.slice(i, i + 5_000) });
    expect(res.statusCode).toBe(200);
  }
}

interface Answer {
  status: number;
  /** from the Sluice-Freshness header, which a 404 of a lead not projected yet carries too */
  freshness: { position: number; head: number; caughtUp: boolean };
  /** the body without its freshness */
  numbers: unknown;
}

async function askEverything(): Promise<Answer[]> {
  const answers: Answer[] = [];
  for (const ask of ASKS) {
    const res = await app.inject(ask);
    const header = /^position=(\d+); head=(\d+); caught-up=(true|false)$/.exec(String(res.headers['sluice-freshness']));
    expect(header, ask.url).not.toBeNull();
    const freshness = { position: Number(header![1]), head: Number(header![2]), caughtUp: header![3] === 'true' };
    const { freshness: inBody, ...numbers } = res.json();
    // the body says what the header says (a problem document says it in words)
    if (res.statusCode === 200) expect(inBody, ask.url).toEqual(freshness);
    else expect(numbers.detail, ask.url).toContain(`catching up: position ${freshness.position} of ${freshness.head}`);
    answers.push({ status: res.statusCode, freshness, numbers });
  }
  return answers;
}

beforeAll(async () => {
  stack = await openTestStack('freshness', rules);
  const read = stack.read!;
  stageSink = runStageTableSink(stageStateSource(read.projections), stack.client);
  // answers at once, marked, rather than waiting for the followers: what a request past the wait gets
  app = await buildApp({
    store: stack.store,
    limits: DEFAULT_LIMITS,
    apiKeys: [],
    analytics: { client: stack.client, sink: stack.sink, stageSink, rules },
    projections: read,
    freshnessWaitMs: 0,
  });
});

afterAll(async () => {
  await app.close();
  await stageSink.stop();
  await stack.close();
});

describe('freshness on every derived answer', () => {
  it('given a log the followers are still taking in, then every answer either equals the caught-up answer or says it is behind; held behind, every answer says so', async () => {
    await ingest(journeys(0, 1_200));
    // asked while the followers take the log in: whole or marked, never silently partial
    const early = await askEverything();
    const head = await stack.store.headPosition();
    await Promise.all([stack.sink.caughtUp(head), stack.read!.projector.caughtUp(head), stageSink.caughtUp(head)]);

    const whole = await askEverything();
    for (const [i, answer] of whole.entries()) {
      expect(answer.status, ASKS[i]!.url).toBe(200);
      expect(answer.freshness, ASKS[i]!.url).toEqual({ position: head, head, caughtUp: true });
    }
    for (const [i, answer] of early.entries()) {
      if (answer.freshness.caughtUp) expect(answer.numbers, ASKS[i]!.url).toEqual(whole[i]!.numbers);
      else expect(answer.freshness.position, ASKS[i]!.url).toBeLessThan(answer.freshness.head);
    }

    // held behind: the followers stop, more events arrive; every answer is the one of the position it states, marked
    await Promise.all([stack.sink.stop(), stack.read!.projector.stop(), stageSink.stop()]);
    await ingest(journeys(1_200, 300));
    const newHead = await stack.store.headPosition();
    const behind = await askEverything();
    for (const [i, answer] of behind.entries()) {
      expect(answer.freshness, ASKS[i]!.url).toEqual({ position: head, head: newHead, caughtUp: false });
      expect(answer.numbers, ASKS[i]!.url).toEqual(whole[i]!.numbers);
    }
  });
});
