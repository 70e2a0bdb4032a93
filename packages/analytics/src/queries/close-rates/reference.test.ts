import { describe, expect, it } from 'vitest';
import type { FunnelTouchpoint, StageFact } from '@sluice/domain';
import type { CloseRateSpec } from './reference.js';
import { CONFIDENCE_Z, closeRateCounts, closeRateReport, wilsonInterval } from './reference.js';

const tp = (actorId: string, occurredAtMs: number, type: string, properties: Record<string, string> = {}): FunnelTouchpoint => ({
  actorId,
  occurredAtMs,
  position: occurredAtMs,
  type,
  fields: { source: '', channel: '', campaign: '', accountId: '' },
  properties,
});
const fact = (leadId: string, stage: string, enteredAtMs: number): StageFact => ({ leadId, stage, enteredAtMs, skipped: false });
const spec = (more: Partial<CloseRateSpec> = {}): CloseRateSpec => ({ populationStage: 'lead', customerStage: 'customer', fromMs: 0, toMs: 1000, ...more });

describe('close rate counts, by example', () => {
  const facts = [fact('A', 'lead', 10), fact('A', 'customer', 100), fact('B', 'lead', 20), fact('C', 'lead', 2000), fact('C', 'customer', 2100)];

  it('counts an activity only before the lead became a customer, each lead once', () => {
    const tps = [
      tp('A', 50, 'page_view', { pageType: 'pricing' }),
      tp('A', 60, 'page_view', { pageType: 'pricing' }),
      tp('A', 100, 'payment'), // the moment it became a customer: not a predictor of itself
      tp('A', 150, 'webinar_attended'), // after: ignored
      tp('B', 30, 'page_view', { pageType: 'blog' }),
      tp('B', 900, 'webinar_attended'),
      tp('C', 1500, 'page_view', { pageType: 'pricing' }), // C entered the population stage outside the range
    ];
    expect(closeRateCounts(tps, facts, spec())).toEqual({
      leads: 2,
      customers: 1,
      activities: [
        { type: 'page_view', value: '', leads: 2, customers: 1 },
        { type: 'webinar_attended', value: '', leads: 1, customers: 0 },
      ],
    });
    expect(closeRateCounts(tps, facts, spec({ property: 'pageType', types: ['page_view'] })).activities).toEqual([
      { type: 'page_view', value: 'blog', leads: 1, customers: 0 },
      { type: 'page_view', value: 'pricing', leads: 1, customers: 1 },
    ]);
    // as of 90, A is not a customer yet: its activities up to 90 count, as a non-customer
    expect(closeRateCounts(tps, facts, spec({ asOfMs: 90 }))).toEqual({
      leads: 2,
      customers: 0,
      activities: [{ type: 'page_view', value: '', leads: 2, customers: 0 }],
    });
  });
});

describe('close rate report', () => {
  it('computes Wilson intervals that stay inside [0, 1]', () => {
    const z = CONFIDENCE_Z[0.95];
    const { low, high } = wilsonInterval(1, 100, z);
    // the textbook value for 1/100 at 95%: [0.0018, 0.0545]
    expect(low).toBeCloseTo(0.001767, 5);
    expect(high).toBeCloseTo(0.054488, 5);
    expect(wilsonInterval(0, 5, z).low).toBe(0);
    expect(wilsonInterval(5, 5, z).high).toBe(1);
  });

  it('ranks by the lower confidence bound and suggests MQL candidates and weights from lift', () => {
    const report = closeRateReport(
      {
        leads: 1000,
        customers: 10,
        activities: [
          { type: 'page_view', value: 'pricing', leads: 100, customers: 3 }, // 3%: 3x the 1% average
          { type: 'demo_requested', value: '', leads: 5, customers: 2 }, // 40% on 5 leads: too little evidence for a suggestion
          { type: 'email_open', value: '', leads: 800, customers: 8 }, // the average
          { type: 'unsubscribe', value: '', leads: 200, customers: 0 },
        ],
      },
      { confidence: 0.95, minLeads: 30, mqlLiftAtLeast: 3, pointsPerLift: 10, maxWeight: 50 },
    );
    expect(report.averageCloseRate).toBe(0.01);
    expect(report.activities.map((a) => [a.rank, a.type, a.mqlCandidate, a.suggestedWeight])).toEqual([
      [1, 'demo_requested', false, null],
      [2, 'page_view', true, 20],
      [3, 'email_open', false, 0],
      [4, 'unsubscribe', false, -10],
    ]);
    expect(report.activities.find((a) => a.type === 'demo_requested')!.aboveAverage).toBe(true);
    expect(report.suggestions.mqlRuleCandidates).toEqual([{ type: 'page_view', value: 'pricing', closeRate: 0.03, lift: 3, leads: 100 }]);
    expect(report.suggestions.scoreWeights).toEqual([
      { type: 'page_view', value: 'pricing', points: 20 },
      { type: 'unsubscribe', value: '', points: -10 },
    ]);
    expect(report.suggestions.note).toMatch(/^Suggestions from history, not rules/);
  });

  it('has no average, lift or suggestion for an empty population', () => {
    const report = closeRateReport({ leads: 0, customers: 0, activities: [] });
    expect(report).toMatchObject({ averageCloseRate: null, activities: [], suggestions: { mqlRuleCandidates: [], scoreWeights: [] } });
  });
});
