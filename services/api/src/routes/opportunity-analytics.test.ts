import { opportunityJourneys, salesVelocity, winRates } from '@sluice/revenue';
import { RuleConfigSchema } from '@sluice/schemas';
import { describe, expect, it } from 'vitest';
import { appWithSent, parsedEvents, sentDeal } from '../test-stack.js';

const rules = RuleConfigSchema.parse({ version: 'opportunity-analytics-test' });

/** d1 won by ann after 30 days (signed 12,000 EUR), d2 lost by bob, d3 won by ann at 5,000 EUR, d4 won by ann in USD; acme first came from google. */
const sent = [
  { id: 'v1', type: 'visit', occurredAt: '2025-12-20T00:00:00Z', anonymousId: 'anon-1', accountId: 'acme', source: 'google', properties: {} },
  sentDeal('d1-1', 'opportunity_created', '2026-01-01T00:00:00Z', { opportunityId: 'd1', stage: 'discovery', amount: 10_000, currency: 'EUR', closeDate: '2026-03-01T00:00:00Z', ownerId: 'ann' }, 'acme'),
  sentDeal('d1-2', 'opportunity_stage_changed', '2026-01-11T00:00:00+01:00', { opportunityId: 'd1', stage: 'proposal' }, 'acme'),
  sentDeal('d1-3', 'opportunity_won', '2026-01-31T00:00:00Z', { opportunityId: 'd1', amount: 12_000, currency: 'EUR' }, 'acme'),
  sentDeal('d2-1', 'opportunity_created', '2026-01-01T00:00:00Z', { opportunityId: 'd2', stage: 'discovery', amount: 20_000, currency: 'EUR', closeDate: '2026-03-01T00:00:00Z', ownerId: 'bob' }, 'acme'),
  sentDeal('d2-2', 'opportunity_lost', '2026-01-21T00:00:00Z', { opportunityId: 'd2', reason: 'price' }, 'acme'),
  sentDeal('d3-1', 'opportunity_created', '2026-01-06T00:00:00Z', { opportunityId: 'd3', stage: 'proposal', amount: 5_000, currency: 'EUR', closeDate: '2026-03-01T00:00:00Z', ownerId: 'ann' }, 'globex'),
  sentDeal('d3-2', 'opportunity_won', '2026-02-05T00:00:00Z', { opportunityId: 'd3' }, 'globex'),
  sentDeal('d4-1', 'opportunity_created', '2026-01-10T00:00:00Z', { opportunityId: 'd4', stage: 'qualification', amount: 8_000, currency: 'USD', closeDate: '2026-03-01T00:00:00Z', ownerId: 'ann' }, 'initech'),
  sentDeal('d4-2', 'opportunity_won', '2026-01-20T00:00:00Z', { opportunityId: 'd4' }, 'initech'),
];
const events = parsedEvents(sent);
const dateRange = { from: '2026-01-01T00:00:00Z', to: '2026-03-01T00:00:00Z' };
const range = { fromMs: Date.parse(dateRange.from), toMs: Date.parse(dateRange.to) };

const served = appWithSent('opportunity-analytics', rules, sent);

describe('the opportunity analytics routes (made from the query declarations)', () => {
  it('POST /v1/win-rates by owner and by first-touch source: won / closed of the deals closed in the range', async () => {
    const byOwner = await served.app.inject({ method: 'POST', url: '/v1/win-rates', payload: { dateRange, groupBy: 'owner' } });
    expect(byOwner.statusCode).toBe(200);
    expect(byOwner.json().freshness.caughtUp).toBe(true);
    expect(byOwner.json().rows).toEqual([
      { group: 'ann', closed: 3, won: 3, lost: 0, winRate: 1 },
      { group: 'bob', closed: 1, won: 0, lost: 1, winRate: 0 },
    ]);
    const bySource = await served.app.inject({ method: 'POST', url: '/v1/win-rates', payload: { dateRange, groupBy: 'source' } });
    expect(bySource.json().rows).toEqual(winRates(opportunityJourneys(events, range.toMs), range, 'source'));
    expect(bySource.json().rows.map((r: { group: string | null; winRate: number }) => [r.group, r.winRate])).toEqual([['google', 0.5], [null, 1]]);
  });

  it('POST /v1/sales-cycle, /v1/deal-sizes and /v1/velocity answer per currency', async () => {
    const cycle = (await served.app.inject({ method: 'POST', url: '/v1/sales-cycle', payload: { dateRange } })).json();
    // cycles 30 (d1), 30 (d3), 10 (d4): quantileExact's median is the value at floor(0.5 x 3)
    expect(cycle.cycles).toEqual([{ group: null, count: 3, mean: 70 / 3, median: 30, p90: 30 }]);
    // d1's stage change was sent at 23:00 UTC on Jan 10: 9 days 23 hours in discovery
    expect(cycle.stages[0]).toMatchObject({ stage: 'discovery', exits: 2, to: [{ next: 'lost', count: 1, share: 0.5 }, { next: 'proposal', count: 1, share: 0.5 }] });
    const sizes = (await served.app.inject({ method: 'POST', url: '/v1/deal-sizes', payload: { dateRange } })).json();
    expect(sizes.rows).toEqual([
      { currency: 'EUR', won: 2, total: 17_000, average: 8_500, median: 12_000, p90: 12_000 },
      { currency: 'USD', won: 1, total: 8_000, average: 8_000, median: 8_000, p90: 8_000 },
    ]);
    const velocity = (await served.app.inject({ method: 'POST', url: '/v1/velocity', payload: { dateRange } })).json();
    expect(velocity.rows).toEqual(salesVelocity(opportunityJourneys(events, range.toMs), range));
    expect(velocity.rows[1]).toEqual({ currency: 'USD', opportunities: 1, averageWonAmount: 8_000, winRate: 1, cycleDays: 10, perDay: 800 });
  });

  it('given a bad body, then a 400 problem naming the field', async () => {
    const res = await served.app.inject({ method: 'POST', url: '/v1/win-rates', payload: { dateRange, groupBy: 'region' } });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(JSON.stringify(res.json())).toContain('groupBy');
    const extra = await served.app.inject({ method: 'POST', url: '/v1/deal-sizes', payload: { dateRange, groupBy: 'owner' } });
    expect(extra.statusCode).toBe(400);
  });
});
