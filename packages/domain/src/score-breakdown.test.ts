import { describe, expect, it } from 'vitest';
import { foldLead, leadStateAsOf, scoreBreakdown } from './index.js';
import { eventsFor, isoAt, ruleConfig } from './test-events.js';

const lead = { kind: 'lead', leadId: 'lead-1' } as const;

describe('scoreBreakdown', () => {
  const config = ruleConfig({
    scoring: {
      fit: {
        rules: [
          { id: 'fit.senior', profile: { title: { contains: ['vp', 'director'] } }, points: 30 },
          { id: 'fit.country', profile: { country: 'US' }, points: 15 },
          { id: 'fit.size', profile: { companySize: { gte: 5000 } }, points: 20 },
        ],
      },
      engagement: {
        halfLifeDays: 30,
        rules: [
          { id: 'eng.demo', match: { event: 'demo_requested' }, points: 40 },
          { id: 'eng.pricing', match: { event: 'page_view', where: { pageType: 'pricing' } }, points: 10, cap: 15 },
          { id: 'eng.unsubscribe', match: { event: 'unsubscribe' }, points: -5, decays: false },
        ],
        frequency: [],
      },
    },
  });
  const e = eventsFor({ leadId: 'lead-1' });
  const state = foldLead(
    lead,
    [
      e('identify', isoAt(0), { title: 'VP Sales', country: 'US', companySize: 200 }),
      e('page_view', isoAt(0), { url: '/pricing', pageType: 'pricing' }),
      e('page_view', isoAt(0), { url: '/pricing', pageType: 'pricing' }),
      e('demo_requested', isoAt(0)),
      e('unsubscribe', isoAt(0)),
    ],
    config,
  );

  it('given matching fit rules and engagement, then each rule is a line and the lines add up to the scores', () => {
    const breakdown = scoreBreakdown(state, isoAt(0), config);
    // fit: VP (30) + US (15); 200 employees miss fit.size
    expect(breakdown.fit).toEqual([
      { rule: 'fit.senior', points: 30 },
      { rule: 'fit.country', points: 15 },
    ]);
    // engagement: demo 40, two pricing views capped at 15, unsubscribe -5
    expect(breakdown.engagement).toEqual([
      { rule: 'eng.demo', points: 40 },
      { rule: 'eng.pricing', points: 15 },
      { rule: 'eng.unsubscribe', points: -5 },
    ]);
    const scores = leadStateAsOf(state, isoAt(0), config).scores;
    expect([sum(breakdown.fit), sum(breakdown.engagement)]).toEqual([scores.fit, scores.engagement]);
  });

  it('given 30 days with no events, then decaying lines halve, the flat one stays, and they still add up', () => {
    const breakdown = scoreBreakdown(state, isoAt(30), config);
    expect(breakdown.engagement).toEqual([
      { rule: 'eng.demo', points: 20 },
      { rule: 'eng.pricing', points: 7.5 },
      { rule: 'eng.unsubscribe', points: -5 },
    ]);
    expect(sum(breakdown.engagement)).toBe(leadStateAsOf(state, isoAt(30), config).scores.engagement);
  });
});

const sum = (lines: readonly { points: number }[]) => Math.round(lines.reduce((a, l) => a + l.points, 0) * 100) / 100;
