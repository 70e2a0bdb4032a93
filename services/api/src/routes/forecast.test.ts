import { ForecastQuerySchema, answerForecast, forecastSourceOfEvents } from '@sluice/revenue';
import { RuleConfigSchema } from '@sluice/schemas';
import { describe, expect, it } from 'vitest';
import { appWithSent, parsedEvents, sentDeal } from '../test-stack.js';

const rules = RuleConfigSchema.parse({ version: 'forecast-test' });

/** h1 won in Q1 after 31 days, h2 lost in discovery, o1 open in proposal at the start of Q2 and won in it (the hand-worked back-test of @sluice/revenue's forecast test). */
const sent = [
  sentDeal('h1-1', 'opportunity_created', '2026-01-01T00:00:00Z', { opportunityId: 'h1', stage: 'discovery', amount: 1_000, currency: 'EUR', closeDate: '2026-03-01T00:00:00Z' }, 'acme'),
  sentDeal('h1-2', 'opportunity_stage_changed', '2026-01-15T00:00:00Z', { opportunityId: 'h1', stage: 'proposal' }, 'acme'),
  sentDeal('h1-3', 'opportunity_won', '2026-02-01T00:00:00Z', { opportunityId: 'h1' }, 'acme'),
  sentDeal('h2-1', 'opportunity_created', '2026-01-01T00:00:00Z', { opportunityId: 'h2', stage: 'discovery', amount: 2_000, currency: 'EUR', closeDate: '2026-03-01T00:00:00Z' }, 'globex'),
  sentDeal('h2-2', 'opportunity_lost', '2026-02-01T00:00:00Z', { opportunityId: 'h2', reason: 'price' }, 'globex'),
  sentDeal('o1-1', 'opportunity_created', '2026-03-20T00:00:00Z', { opportunityId: 'o1', stage: 'proposal', amount: 10_000, currency: 'EUR', closeDate: '2026-06-01T00:00:00Z', ownerId: 'ann' }, 'initech'),
  sentDeal('o1-2', 'opportunity_won', '2026-05-01T00:00:00Z', { opportunityId: 'o1' }, 'initech'),
];
const events = parsedEvents(sent);

const served = appWithSent('forecast', rules, sent);

describe('GET /v1/forecast', () => {
  it('given the hand-built history, when Q3 is forecast with a back-test of two quarters, then Q1 and Q2 are forecast as of their starts and the MAPE is the hand-computed one', async () => {
    const url = '/v1/forecast?period=2026-Q3&asOf=2026-07-01T00:00:00Z&backtest=2&priorStrength=2&runs=500&seed=7';
    const res = await served.app.inject({ method: 'GET', url });
    expect(res.statusCode).toBe(200);
    const { freshness, ...answer } = res.json();
    expect(freshness.caughtUp).toBe(true);
    // the same answer as the pure forecast of the events as sent
    const query = ForecastQuerySchema.parse({ period: '2026-Q3', asOf: '2026-07-01T00:00:00Z', backtest: '2', priorStrength: '2', runs: '500', seed: '7' });
    expect(answer).toEqual(await answerForecast(query, 0, forecastSourceOfEvents(events, rules.opportunities)));
    expect(answer.period).toEqual({ label: '2026-Q3', start: '2026-07-01T00:00:00.000Z', end: '2026-10-01T00:00:00.000Z' });
    expect(answer.backtest.periods.map((p: { label: string }) => p.label)).toEqual(['2026-Q1', '2026-Q2']);
    // Q1: 0 forecast against 1,000 won (error 1); Q2: 2/3 x 10,000 + 3/365 x 1/2 x 1,000 x 60 against 10,000
    const q2Error = (10_000 - ((2 / 3) * 10_000 + (3 / 365) * 0.5 * 1_000 * 60)) / 10_000;
    expect(answer.backtest.meanAbsolutePercentageError[0].currency).toBe('EUR');
    expect(answer.backtest.meanAbsolutePercentageError[0].value).toBeCloseTo((1 + q2Error) / 2, 9);
  });

  it.each([
    ['a period that is neither a quarter nor a month', '/v1/forecast?period=2026-W30', 'querystring.period'],
    ['no period', '/v1/forecast', 'querystring.period'],
    ['a back-test too long', '/v1/forecast?period=2026-Q3&backtest=99', 'querystring.backtest'],
    ['a seed that is not a number', '/v1/forecast?period=2026-Q3&seed=abc', 'querystring.seed'],
  ])('given %s, then a 400 problem naming it', async (_, url, field) => {
    const res = await served.app.inject({ method: 'GET', url });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json().errors.map((i: { field: string }) => i.field)).toContain(field);
  });
});
