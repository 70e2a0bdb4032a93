import { parseEvent } from '@sluice/schemas';
import { describe, expect, it } from 'vitest';
import { dealSizes, opportunityJourneys, quantileExact, salesCycles, salesVelocity, stageFlow, winRates } from './opportunity-analytics.js';
import { ms, on, opp } from './test-opportunities.js';

function visit(account: string, at: string, source: string | undefined, id: string) {
  const parsed = parseEvent({ id, type: 'visit', occurredAt: at, anonymousId: `anon-${id}`, accountId: account, ...(source ? { source } : {}), properties: {} });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return parsed.event;
}

/**
 * d1 (acme, ann, smb): discovery Jan 1, proposal Jan 11, won Jan 31 at 12,000 EUR.
 * d2 (acme, bob): discovery Jan 1, lost Jan 21.
 * d3 (globex, ann): discovery Jan 6, proposal Jan 16, won Feb 5 at 5,000 EUR.
 * d4 (initech, ann): qualification Jan 10, won Jan 20 at 8,000 USD.
 * acme's first touch came from google, initech's from linkedin, globex had none.
 */
function history() {
  return [
    visit('acme', on(12, 20).replace('2026', '2025'), 'google', 'v1'),
    visit('acme', on(1, 2), 'bing', 'v2'),
    visit('initech', on(1, 3), 'linkedin', 'v3'),
    opp('opportunity_created', on(1, 1), { opportunityId: 'd1', stage: 'discovery', amount: 10_000, currency: 'EUR', closeDate: on(3, 1), ownerId: 'ann', segment: 'smb' }, 'acme', 'd1-1'),
    opp('opportunity_stage_changed', on(1, 11), { opportunityId: 'd1', stage: 'proposal' }, 'acme', 'd1-2'),
    opp('opportunity_won', on(1, 31), { opportunityId: 'd1', amount: 12_000, currency: 'EUR' }, 'acme', 'd1-3'),
    opp('opportunity_created', on(1, 1), { opportunityId: 'd2', stage: 'discovery', amount: 20_000, currency: 'EUR', closeDate: on(3, 1), ownerId: 'bob' }, 'acme', 'd2-1'),
    opp('opportunity_lost', on(1, 21), { opportunityId: 'd2', reason: 'price' }, 'acme', 'd2-2'),
    opp('opportunity_created', on(1, 6), { opportunityId: 'd3', stage: 'discovery', amount: 5_000, currency: 'EUR', closeDate: on(3, 1), ownerId: 'ann' }, 'globex', 'd3-1'),
    opp('opportunity_stage_changed', on(1, 16), { opportunityId: 'd3', stage: 'proposal' }, 'globex', 'd3-2'),
    opp('opportunity_won', on(2, 5), { opportunityId: 'd3' }, 'globex', 'd3-3'),
    opp('opportunity_created', on(1, 10), { opportunityId: 'd4', stage: 'qualification', amount: 8_000, currency: 'USD', closeDate: on(3, 1), ownerId: 'ann' }, 'initech', 'd4-1'),
    opp('opportunity_won', on(1, 20), { opportunityId: 'd4' }, 'initech', 'd4-2'),
  ];
}

const range = { fromMs: ms(on(1, 1)), toMs: ms(on(3, 1)) };
const journeys = () => opportunityJourneys(history(), range.toMs);

describe('opportunity analytics (hand-worked)', () => {
  it('quantiles are quantileExact: the value at floor(p x n) of the sorted values, so the median of an even count is the upper middle one', () => {
    expect(quantileExact([4, 1, 3, 2], 0.5)).toBe(3);
    expect(quantileExact([4, 1, 3, 2], 0.9)).toBe(4);
    expect(quantileExact([7], 0.9)).toBe(7);
    expect(quantileExact([], 0.5)).toBeNull();
  });

  it('journeys: stays left at the next entry or at the close, the signed amount, the first touch by time', () => {
    const [d1, d2, d3] = journeys();
    expect(d1).toMatchObject({ status: 'won', amount: 12_000, firstTouchSource: 'google', stays: [{ stage: 'discovery', enteredAtMs: ms(on(1, 1)), leftAtMs: ms(on(1, 11)) }, { stage: 'proposal', enteredAtMs: ms(on(1, 11)), leftAtMs: ms(on(1, 31)) }] });
    expect(d2).toMatchObject({ status: 'lost', closedAtMs: ms(on(1, 21)) });
    expect(d3).toMatchObject({ firstTouchSource: null, amount: 5_000 });
  });

  it('win rates are won / closed, a deal counting in every stage it reached', () => {
    expect(winRates(journeys(), range, null)).toEqual([{ group: null, closed: 4, won: 3, lost: 1, winRate: 0.75 }]);
    expect(winRates(journeys(), range, 'owner').map((r) => [r.group, r.won, r.closed])).toEqual([['ann', 3, 3], ['bob', 0, 1]]);
    expect(winRates(journeys(), range, 'stage').map((r) => [r.group, r.won, r.closed])).toEqual([['discovery', 2, 3], ['proposal', 2, 2], ['qualification', 1, 1]]);
    expect(winRates(journeys(), range, 'source').map((r) => [r.group, r.won, r.closed])).toEqual([['google', 1, 2], ['linkedin', 1, 1], [null, 1, 1]]);
    expect(winRates(journeys(), { fromMs: ms(on(2, 1)), toMs: range.toMs }, null)).toEqual([{ group: null, closed: 1, won: 1, lost: 0, winRate: 1 }]);
  });

  it('sales cycle: days from creation to the win (30, 30, 10)', () => {
    expect(salesCycles(journeys(), range, null)).toEqual([{ group: null, count: 3, mean: 70 / 3, median: 30, p90: 30 }]);
  });

  it('stage flow: days in each stage and where the deals went next', () => {
    expect(stageFlow(journeys(), range)).toEqual([
      { stage: 'discovery', exits: 3, days: { count: 3, mean: 40 / 3, median: 10, p90: 20 }, to: [{ next: 'lost', count: 1, share: 1 / 3 }, { next: 'proposal', count: 2, share: 2 / 3 }] },
      { stage: 'proposal', exits: 2, days: { count: 2, mean: 20, median: 20, p90: 20 }, to: [{ next: 'won', count: 2, share: 1 }] },
      { stage: 'qualification', exits: 1, days: { count: 1, mean: 10, median: 10, p90: 10 }, to: [{ next: 'won', count: 1, share: 1 }] },
    ]);
  });

  it('deal sizes per currency, never added across currencies; the median of two is the larger', () => {
    expect(dealSizes(journeys(), range)).toEqual([
      { currency: 'EUR', won: 2, total: 17_000, average: 8_500, median: 12_000, p90: 12_000 },
      { currency: 'USD', won: 1, total: 8_000, average: 8_000, median: 8_000, p90: 8_000 },
    ]);
  });

  it('velocity: opportunities x average won amount x win rate / cycle days, per currency', () => {
    const [eur, usd] = salesVelocity(journeys(), range);
    expect(eur).toMatchObject({ currency: 'EUR', opportunities: 3, averageWonAmount: 8_500, winRate: 2 / 3, cycleDays: 30 });
    expect(eur!.perDay).toBeCloseTo((3 * 8_500 * (2 / 3)) / 30, 9);
    expect(usd).toMatchObject({ currency: 'USD', opportunities: 1, averageWonAmount: 8_000, winRate: 1, cycleDays: 10, perDay: 800 });
  });
});
