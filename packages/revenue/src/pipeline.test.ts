import { describe, expect, it } from 'vitest';
import { pipelineAsOf } from './pipeline.js';
import { model, ms, on, opp } from './test-opportunities.js';


/** Two deals of acme, one of globex: stage moves, a rep's probability, an owner change, one lost. */
function history() {
  return [
    opp('opportunity_created', on(1, 10), { opportunityId: 'a1', stage: 'discovery', amount: 10_000, currency: 'EUR', closeDate: on(6, 30), ownerId: 'ann', segment: 'enterprise' }, 'acme', 'a1-1'),
    opp('opportunity_stage_changed', on(2, 1), { opportunityId: 'a1', stage: 'proposal' }, 'acme', 'a1-2'),
    opp('opportunity_amount_changed', on(2, 15), { opportunityId: 'a1', amount: 12_000, currency: 'EUR' }, 'acme', 'a1-3'),
    opp('opportunity_created', on(1, 20), { opportunityId: 'a2', stage: 'negotiation', probability: 0.9, amount: 3_000, currency: 'USD', closeDate: on(3, 31), ownerId: 'bob' }, 'acme', 'a2-1'),
    opp('opportunity_owner_changed', on(2, 10), { opportunityId: 'a2', ownerId: 'ann' }, 'acme', 'a2-2'),
    opp('opportunity_created', on(1, 5), { opportunityId: 'g1', stage: 'qualification', amount: 5_000, currency: 'EUR', closeDate: on(4, 30), segment: 'smb' }, 'globex', 'g1-1'),
    opp('opportunity_lost', on(2, 20), { opportunityId: 'g1', reason: 'competitor' }, 'globex', 'g1-2'),
  ];
}

describe('pipelineAsOf', () => {
  it('given deals at various stages, when asked as of a date, then open deals by stage with count, amount, weighted amount (probability frozen at entry) and age in stage', () => {
    const p = pipelineAsOf(history(), ms(on(3, 1)), model, 'stage');
    expect(p.rows).toEqual([
      { group: 'proposal', currency: 'EUR', count: 1, amount: 12_000, weightedAmount: 6_000, meanDaysInStage: 28, maxDaysInStage: 28 },
      // the rep set 90% when it entered negotiation: frozen, whatever the model says (75%)
      { group: 'negotiation', currency: 'USD', count: 1, amount: 3_000, weightedAmount: 2_700, meanDaysInStage: 40, maxDaysInStage: 40 },
    ]);
    expect(p.opportunities.map((o) => [o.opportunityId, o.accountId, o.category, o.ownerId])).toEqual([
      ['a1', 'acme', 'best_case', 'ann'],
      ['a2', 'acme', 'commit', 'ann'],
    ]);
  });

  it('given an earlier instant, then the pipeline as it stood: the lost deal still open, the first deal still in discovery at its first amount', () => {
    const p = pipelineAsOf(history(), ms(on(1, 25)), model, 'owner');
    expect(p.rows).toEqual([
      { group: 'ann', currency: 'EUR', count: 1, amount: 10_000, weightedAmount: 1_000, meanDaysInStage: 15, maxDaysInStage: 15 },
      { group: 'bob', currency: 'USD', count: 1, amount: 3_000, weightedAmount: 2_700, meanDaysInStage: 5, maxDaysInStage: 5 },
      { group: null, currency: 'EUR', count: 1, amount: 5_000, weightedAmount: 1_000, meanDaysInStage: 20, maxDaysInStage: 20 },
    ]);
  });

  it('given amounts in two currencies in one group, then one row per currency: amounts are never added across currencies', () => {
    const p = pipelineAsOf(history(), ms(on(1, 25)), model, 'category');
    expect(p.rows.map((r) => [r.group, r.currency, r.amount])).toEqual([
      ['pipeline', 'EUR', 15_000],
      ['commit', 'USD', 3_000],
    ]);
  });

  it('given the events in another arrival order, a resent event and an event before the creation, then the same pipeline', () => {
    const events = history();
    const early = opp('opportunity_stage_changed', on(1, 1), { opportunityId: 'a1', stage: 'negotiation' }, 'acme', 'a1-0');
    const reordered = [events[6]!, events[2]!, events[2]!, early, ...events.slice(3, 6), events[0]!, events[1]!];
    for (const at of [on(1, 25), on(2, 12), on(3, 1)]) expect(pipelineAsOf(reordered, ms(at), model, 'stage')).toEqual(pipelineAsOf(events, ms(at), model, 'stage'));
  });

  it('given a stage the model does not list, then the deal shows under that stage at probability 0, category omitted', () => {
    const events = [...history(), opp('opportunity_stage_changed', on(2, 25), { opportunityId: 'a1', stage: 'legal_review' }, 'acme', 'a1-4')];
    const p = pipelineAsOf(events, ms(on(3, 1)), model, 'stage');
    expect(p.rows[0]).toEqual({ group: 'negotiation', currency: 'USD', count: 1, amount: 3_000, weightedAmount: 2_700, meanDaysInStage: 40, maxDaysInStage: 40 });
    expect(p.rows[1]).toEqual({ group: 'legal_review', currency: 'EUR', count: 1, amount: 12_000, weightedAmount: 0, meanDaysInStage: 4, maxDaysInStage: 4 });
    expect(p.opportunities.find((o) => o.opportunityId === 'a1')?.category).toBe('omitted');
  });

  it('given a won deal, then later events change nothing and it leaves the pipeline at the instant it was won', () => {
    const events = [
      ...history(),
      opp('opportunity_won', on(2, 26, 12), { opportunityId: 'a2' }, 'acme', 'a2-3'),
      opp('opportunity_stage_changed', on(2, 27), { opportunityId: 'a2', stage: 'discovery' }, 'acme', 'a2-4'),
    ];
    expect(pipelineAsOf(events, ms(on(2, 26, 12)), model).opportunities.map((o) => o.opportunityId)).toEqual(['a1', 'a2']);
    expect(pipelineAsOf(events, ms(on(2, 26, 12)) + 1, model).opportunities.map((o) => o.opportunityId)).toEqual(['a1']);
    expect(pipelineAsOf(events, ms(on(3, 1)), model).rows).toEqual([{ group: null, currency: 'EUR', count: 1, amount: 12_000, weightedAmount: 6_000, meanDaysInStage: 28, maxDaysInStage: 28 }]);
  });

  it('given events of an opportunity never created, then no opportunity', () => {
    const orphan = opp('opportunity_amount_changed', on(1, 2), { opportunityId: 'ghost', amount: 1, currency: 'EUR' }, 'nobody', 'ghost-1');
    expect(pipelineAsOf([orphan], ms(on(3, 1)), model).opportunities).toEqual([]);
  });
});
