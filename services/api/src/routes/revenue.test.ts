import { pipelineAnswer, pipelineAsOf, waterfall, waterfallAnswer } from '@sluice/revenue';
import { RuleConfigSchema } from '@sluice/schemas';
import { describe, expect, it } from 'vitest';
import { appWithSent, parsedEvents, sentDeal } from '../test-stack.js';

const rules = RuleConfigSchema.parse({ version: 'revenue-test' });

/** A quarter's deals: A pushed out of Q2, B pulled in and won, C created and lost, D in another currency; offsets as producers send them. */
const sent = [
  sentDeal('a1', 'opportunity_created', '2026-03-10T09:00:00+01:00', { opportunityId: 'A', stage: 'proposal', amount: 100, currency: 'EUR', closeDate: '2026-05-15T00:00:00Z', ownerId: 'ann' }),
  sentDeal('a2', 'opportunity_close_date_changed', '2026-04-20T10:00:00+02:00', { opportunityId: 'A', closeDate: '2026-08-15T00:00:00Z' }),
  sentDeal('b1', 'opportunity_created', '2026-03-01T00:00:00Z', { opportunityId: 'B', stage: 'discovery', amount: 50, currency: 'EUR', closeDate: '2026-09-01T00:00:00Z', ownerId: 'bob' }, 'globex'),
  sentDeal('b2', 'opportunity_stage_changed', '2026-04-02T00:00:00Z', { opportunityId: 'B', stage: 'negotiation' }, 'globex'),
  sentDeal('b3', 'opportunity_won', '2026-05-10T00:00:00Z', { opportunityId: 'B', amount: 60, currency: 'EUR' }, 'globex'),
  sentDeal('c1', 'opportunity_created', '2026-04-05T00:00:00Z', { opportunityId: 'C', stage: 'discovery', amount: 30, currency: 'EUR', closeDate: '2026-06-30T00:00:00Z', ownerId: 'ann' }, 'initech'),
  sentDeal('c2', 'opportunity_contact_added', '2026-04-06T00:00:00Z', { opportunityId: 'C', leadId: 'lead-9', role: 'champion' }, 'initech'),
  sentDeal('c3', 'opportunity_lost', '2026-06-01T00:00:00Z', { opportunityId: 'C', reason: 'timing' }, 'initech'),
  sentDeal('d1', 'opportunity_created', '2026-04-03T00:00:00Z', { opportunityId: 'D', stage: 'qualification', amount: 700, currency: 'USD', closeDate: '2026-06-01T00:00:00Z' }, 'umbrella'),
];
const events = parsedEvents(sent);

const served = appWithSent('revenue', rules, [...sent, { id: 'v1', type: 'visit', occurredAt: '2026-04-01T00:00:00Z', anonymousId: 'anon-1', accountId: 'acme' }]);

describe('GET /v1/pipeline', () => {
  it('given deals in ClickHouse, when asked as of a past instant, then the open pipeline by stage equals the pure fold of the events as sent', async () => {
    const res = await served.app.inject({ method: 'GET', url: '/v1/pipeline?asOf=2026-04-10T00:00:00Z&groupBy=stage' });
    expect(res.statusCode).toBe(200);
    const { freshness, ...answer } = res.json();
    expect(freshness.caughtUp).toBe(true);
    expect(res.headers['sluice-freshness']).toContain('caught-up=true');
    expect(answer).toEqual(pipelineAnswer(pipelineAsOf(events, Date.parse('2026-04-10T00:00:00Z'), rules.opportunities, 'stage')));
    expect(answer.rows).toEqual([
      { group: 'discovery', currency: 'EUR', count: 1, amount: 30, weightedAmount: 3, meanDaysInStage: 5, maxDaysInStage: 5 },
      { group: 'qualification', currency: 'USD', count: 1, amount: 700, weightedAmount: 140, meanDaysInStage: 7, maxDaysInStage: 7 },
      { group: 'proposal', currency: 'EUR', count: 1, amount: 100, weightedAmount: 50, meanDaysInStage: 30 + 2 / 3, maxDaysInStage: 30 + 2 / 3 },
      { group: 'negotiation', currency: 'EUR', count: 1, amount: 50, weightedAmount: 37.5, meanDaysInStage: 8, maxDaysInStage: 8 },
    ]);
  });

  it.each([
    ['an as-of without an offset', '/v1/pipeline?asOf=2026-04-10', 'querystring.asOf', 'must be an ISO 8601 date-time with an offset or Z, e.g. 2026-03-01T10:00:00+08:00'],
    ['an unknown grouping', '/v1/pipeline?groupBy=region', 'querystring.groupBy', 'Invalid option: expected one of "stage"|"category"|"owner"|"businessUnit"|"segment"'],
    ['an unknown option', '/v1/pipeline?as_of=2026-04-10T00:00:00Z', 'querystring', 'unknown property: as_of'],
  ])('given %s, then a 400 problem naming it', async (_label, url, field, message) => {
    const res = await served.app.inject({ method: 'GET', url });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json().errors).toEqual([{ field, message }]);
  });
});

describe('GET /v1/waterfall', () => {
  it('given the second quarter, then A is pushed out, B pulled in and won at its signed amount, C created and lost, D in its own currency', async () => {
    const res = await served.app.inject({ method: 'GET', url: '/v1/waterfall?from=2026-04-01T00:00:00Z&to=2026-07-01T00:00:00Z' });
    expect(res.statusCode).toBe(200);
    const { freshness: _f, ...answer } = res.json();
    expect(answer).toEqual(waterfallAnswer(waterfall(events, Date.parse('2026-04-01T00:00:00Z'), Date.parse('2026-07-01T00:00:00Z'), rules.opportunities)));
    const eur = answer.rows.find((r: { currency: string }) => r.currency === 'EUR');
    const ids = (t: { opportunities: Array<{ opportunityId: string; amount: number }> }) => t.opportunities.map((o) => `${o.opportunityId} ${o.amount}`);
    expect({ start: eur.start.amount, end: eur.end.amount }).toEqual({ start: 100, end: 0 });
    expect([ids(eur.created), ids(eur.pulledIn), ids(eur.amountUp), ids(eur.pushedOut), ids(eur.lost), ids(eur.won)]).toEqual([['C 30'], ['B 50'], ['B 10'], ['A 100'], ['C 30'], ['B 60']]);
    expect(answer.rows.find((r: { currency: string }) => r.currency === 'USD').end).toEqual({ count: 1, amount: 700 });
  });

  it('given a period that ends before it starts, then a 400 naming to', async () => {
    const res = await served.app.inject({ method: 'GET', url: '/v1/waterfall?from=2026-07-01T00:00:00Z&to=2026-04-01T00:00:00Z' });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors).toEqual([{ field: 'querystring.to', message: 'must be after from' }]);
    const missing = await served.app.inject({ method: 'GET', url: '/v1/waterfall?from=2026-07-01T00:00:00Z' });
    expect(missing.json().errors).toEqual([{ field: 'querystring.to', message: 'required' }]);
  });
});
