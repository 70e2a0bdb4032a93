import { describe, expect, it } from 'vitest';
import { identityEnd, waterfall } from './waterfall.js';
import { model, ms, on, opp } from './test-opportunities.js';

const Q2 = [ms(on(4, 1)), ms(on(7, 1))] as const;

/**
 * The second quarter's pipeline (close dates in [Apr 1, Jul 1)) by hand, in EUR:
 * start: A (100, closing May 15). A is pushed to August on Apr 20.
 * B (50, closing in September) is pulled in to June on May 1, grows to 70, is won.
 * C (30) is created for June and lost. D (200) is created for June and cut to 150.
 * F (40, closing in August) is won on May 5: pulled in and won.
 * start 100 + created 230 + pulled in 90 + up 20 - down 50 - pushed 100 - lost 30 - won 110 = end 150.
 * E is in USD: created 10, end 10, a row of its own.
 */
function quarter() {
  const close = (d: string) => ({ closeDate: d });
  return [
    opp('opportunity_created', on(3, 10), { opportunityId: 'A', stage: 'proposal', amount: 100, currency: 'EUR', ...close(on(5, 15)), ownerId: 'ann' }, 'acme'),
    opp('opportunity_close_date_changed', on(4, 20), { opportunityId: 'A', ...close(on(8, 15)) }, 'acme'),
    opp('opportunity_created', on(3, 1), { opportunityId: 'B', stage: 'discovery', amount: 50, currency: 'EUR', ...close(on(9, 1)), ownerId: 'bob' }, 'globex'),
    opp('opportunity_close_date_changed', on(5, 1), { opportunityId: 'B', ...close(on(6, 15)) }, 'globex'),
    opp('opportunity_amount_changed', on(5, 10), { opportunityId: 'B', amount: 70, currency: 'EUR' }, 'globex'),
    opp('opportunity_won', on(6, 10), { opportunityId: 'B' }, 'globex'),
    opp('opportunity_created', on(4, 5), { opportunityId: 'C', stage: 'discovery', amount: 30, currency: 'EUR', ...close(on(6, 30)), ownerId: 'ann' }, 'initech'),
    opp('opportunity_lost', on(6, 1), { opportunityId: 'C', reason: 'no_decision' }, 'initech'),
    opp('opportunity_created', on(5, 1), { opportunityId: 'D', stage: 'negotiation', amount: 200, currency: 'EUR', ...close(on(6, 20)), ownerId: 'bob' }, 'acme'),
    opp('opportunity_amount_changed', on(6, 1), { opportunityId: 'D', amount: 150, currency: 'EUR' }, 'acme'),
    opp('opportunity_created', on(4, 2), { opportunityId: 'E', stage: 'discovery', amount: 10, currency: 'USD', ...close(on(5, 1)), ownerId: 'ann' }, 'umbrella'),
    opp('opportunity_created', on(2, 1), { opportunityId: 'F', stage: 'proposal', amount: 40, currency: 'EUR', ...close(on(8, 1)), ownerId: 'ann' }, 'hooli'),
    opp('opportunity_won', on(5, 5), { opportunityId: 'F' }, 'hooli'),
    // after the quarter: no effect on it
    opp('opportunity_lost', on(7, 2), { opportunityId: 'D', reason: 'price' }, 'acme'),
  ];
}

const terms = (row: ReturnType<typeof waterfall>['rows'][number]) => ({
  start: row.start.amount,
  created: row.created.amount,
  pulledIn: row.pulledIn.amount,
  amountUp: row.amountUp.amount,
  amountDown: row.amountDown.amount,
  pushedOut: row.pushedOut.amount,
  lost: row.lost.amount,
  won: row.won.amount,
  end: row.end.amount,
});
const who = (term: { opportunities: Array<{ opportunityId: string; amount: number }> }) => term.opportunities.map((o) => `${o.opportunityId} ${o.amount}`);

describe('waterfall', () => {
  it('given the hand-worked quarter, then each term is the hand-computed amount and the identity holds', () => {
    const w = waterfall(quarter(), ...Q2, model);
    expect(w.rows.map((r) => [r.currency, terms(r)])).toEqual([
      ['EUR', { start: 100, created: 230, pulledIn: 90, amountUp: 20, amountDown: 50, pushedOut: 100, lost: 30, won: 110, end: 150 }],
      ['USD', { start: 0, created: 10, pulledIn: 0, amountUp: 0, amountDown: 0, pushedOut: 0, lost: 0, won: 0, end: 10 }],
    ]);
    for (const row of w.rows) expect(identityEnd(row)).toBe(row.end.amount);
  });

  it('given an opportunity pushed out of the quarter, then it appears in "pushed out" with its amount', () => {
    const eur = waterfall(quarter(), ...Q2, model).rows[0]!;
    expect(who(eur.pushedOut)).toEqual(['A 100']);
    expect(who(eur.pulledIn)).toEqual(['B 50', 'F 40']);
    expect(who(eur.won)).toEqual(['B 70', 'F 40']);
    expect(who(eur.created)).toEqual(['C 30', 'D 200']);
    expect(who(eur.lost)).toEqual(['C 30']);
    expect(who(eur.amountUp)).toEqual(['B 20']);
    expect(who(eur.amountDown)).toEqual(['D 50']);
    expect(eur.start).toEqual({ count: 1, amount: 100 });
    expect(eur.end).toEqual({ count: 1, amount: 150 });
    expect(eur.pushedOut.opportunities[0]?.accountId).toBe('acme');
  });

  it('given a grouping by owner, then each deal counts in its owner as of the end, and each group holds the identity', () => {
    const w = waterfall(quarter(), ...Q2, model, 'owner');
    expect(w.rows.map((r) => [r.group, r.currency, terms(r)])).toEqual([
      ['ann', 'EUR', { start: 100, created: 30, pulledIn: 40, amountUp: 0, amountDown: 0, pushedOut: 100, lost: 30, won: 40, end: 0 }],
      ['ann', 'USD', { start: 0, created: 10, pulledIn: 0, amountUp: 0, amountDown: 0, pushedOut: 0, lost: 0, won: 0, end: 10 }],
      ['bob', 'EUR', { start: 0, created: 200, pulledIn: 50, amountUp: 20, amountDown: 50, pushedOut: 0, lost: 0, won: 70, end: 150 }],
    ]);
  });

  it('given a deal that changes currency inside the period, then the old amount goes down and the new one up, each in its currency', () => {
    const events = [
      opp('opportunity_created', on(4, 1), { opportunityId: 'X', stage: 'discovery', amount: 100, currency: 'GBP', closeDate: on(6, 1) }),
      opp('opportunity_amount_changed', on(5, 1), { opportunityId: 'X', amount: 120, currency: 'EUR' }),
    ];
    const w = waterfall(events, ...Q2, model);
    expect(w.rows.map((r) => [r.currency, terms(r)])).toEqual([
      ['EUR', { start: 0, created: 0, pulledIn: 0, amountUp: 120, amountDown: 0, pushedOut: 0, lost: 0, won: 0, end: 120 }],
      ['GBP', { start: 0, created: 100, pulledIn: 0, amountUp: 0, amountDown: 100, pushedOut: 0, lost: 0, won: 0, end: 0 }],
    ]);
  });

  it('given a period that does not end after it starts, then it is refused', () => {
    expect(() => waterfall([], Q2[1], Q2[0], model)).toThrow('the waterfall period needs from before to');
  });
});
