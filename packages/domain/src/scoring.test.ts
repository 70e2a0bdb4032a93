import type { RuleConfigInput } from '@sluice/schemas';
import { describe, expect, it } from 'vitest';
import { evolve, foldLead, leadStateAsOf } from './index.js';
import { eventsFor, isoAt, ruleConfig } from './test-events.js';

const lead = { kind: 'lead', leadId: 'lead-1' } as const;
type EngagementInput = NonNullable<NonNullable<RuleConfigInput['scoring']>['engagement']>;

describe('fit scoring against the ICP', () => {
  const config = ruleConfig({
    scoring: {
      fit: {
        rules: [
          { id: 'fit.senior', profile: { title: { contains: ['vp', 'director'] } }, points: 30 },
          { id: 'fit.industry', profile: { industry: { in: ['banking', 'insurance'] } }, points: 25 },
          { id: 'fit.size', profile: { companySize: { gte: 5000 } }, points: 20 },
          { id: 'fit.country', profile: { country: 'US' }, points: 15 },
          { id: 'fit.student', profile: { title: { contains: 'student' } }, points: -50 },
          { id: 'fit.competitor', profile: { company: { in: ['Rival Inc'] } }, points: -100 },
        ],
      },
    },
  });

  it('given profile facts, when they match the ICP, then fit adds up (strings compared without case)', () => {
    const e = eventsFor({ leadId: 'lead-1' });
    const s = foldLead(lead, [e('identify', isoAt(0), { title: 'Director of IT', industry: 'Banking', companySize: 6000, country: 'US' })], config);
    expect(leadStateAsOf(s, isoAt(0), config).scores.fit).toBe(90);
  });

  it('given a later identify, when it changes the title to a student job, then the newer fact wins and the negative signal subtracts', () => {
    const e = eventsFor({ leadId: 'lead-1' });
    const s = foldLead(lead, [e('identify', isoAt(0), { title: 'VP Ops', industry: 'banking', companySize: 6000, country: 'US' }), e('identify', isoAt(1), { title: 'Student assistant' })], config);
    const snap = leadStateAsOf(s, isoAt(1), config);
    expect(snap.profile).toMatchObject({ title: 'Student assistant', industry: 'banking', companySize: 6000, country: 'US' });
    expect(snap.scores.fit).toBe(25 + 20 + 15 - 50);
  });

  it('given a competitor, when negative points exceed the positives, then fit stops at its minimum', () => {
    const e = eventsFor({ leadId: 'lead-1' });
    const s = foldLead(lead, [e('identify', isoAt(0), { title: 'VP', company: 'Rival Inc' })], config);
    expect(leadStateAsOf(s, isoAt(0), config).scores.fit).toBe(0);
  });
});

describe('engagement scoring', () => {
  const noDecay = (rules: EngagementInput['rules'], frequency: EngagementInput['frequency'] = []) => ruleConfig({ scoring: { engagement: { halfLifeDays: null, rules, frequency } } });

  it('given property filters and caps, when touchpoints arrive, then each matching rule adds its points up to its cap and negative signals subtract', () => {
    const config = noDecay([
      { id: 'eng.page', match: { event: 'page_view' }, points: 1 },
      { id: 'eng.pricing', match: { event: 'page_view', where: { pageType: 'pricing' } }, points: 10, cap: 30 },
      { id: 'eng.webinar_click', match: { event: 'email_click', where: { url: { contains: 'webinar' } } }, points: 5 },
      { id: 'eng.unsubscribe', match: { event: 'unsubscribe' }, points: -20, decays: false },
    ]);
    const e = eventsFor({ leadId: 'lead-1' });
    const pricing = [0, 1, 2, 3].map((d) => e('page_view', isoAt(d), { url: 'https://x.example/pricing', pageType: 'pricing' }));
    const events = [...pricing, e('page_view', isoAt(4), { url: 'https://x.example/blog', pageType: 'blog' })];
    const score = (list: typeof events) => leadStateAsOf(foldLead(lead, list, config), isoAt(9), config).scores.engagement;
    expect(score(events)).toBe(30 + 5);
    expect(score([...events, e('email_click', isoAt(5), { url: 'https://x.example/pricing' })])).toBe(35);
    expect(score([...events, e('email_click', isoAt(5), { url: 'https://x.example/webinar/42' })])).toBe(40);
    expect(score([...events, e('unsubscribe', isoAt(6))])).toBe(15);
  });

  it('given more than 15 visits in 30 days, when the 16th arrives, then the frequency bonus is added once per window; spread out it is not', () => {
    const config = noDecay([{ id: 'eng.visit', match: { event: 'visit' }, points: 1 }], [{ id: 'eng.frequent', match: { event: 'visit' }, atLeast: 16, withinDays: 30, points: 15 }]);
    const daily = eventsFor({ leadId: 'lead-1' });
    const visitsDaily = (n: number) => Array.from({ length: n }, (_, d) => daily('visit', isoAt(d)));
    const score = (events: ReturnType<typeof visitsDaily>, day: number) => leadStateAsOf(foldLead(lead, events, config), isoAt(day), config).scores.engagement;
    expect(score(visitsDaily(15), 15)).toBe(15);
    expect(score(visitsDaily(16), 16)).toBe(16 + 15);
    // awarded on day 15, again no earlier than day 45
    expect(score(visitsDaily(45), 45)).toBe(45 + 15);
    expect(score(visitsDaily(46), 46)).toBe(46 + 30);

    const sparse = eventsFor({ leadId: 'lead-1' });
    const everyThirdDay = Array.from({ length: 16 }, (_, i) => sparse('visit', isoAt(i * 3)));
    expect(score(everyThirdDay, 50)).toBe(16);
  });

  it('given a half-life, when time passes with no events, then points fade by half per half-life, and points that do not decay stay', () => {
    const config = ruleConfig({
      scoring: {
        engagement: {
          halfLifeDays: 30,
          rules: [
            { id: 'eng.demo', match: { event: 'demo_requested' }, points: 40 },
            { id: 'eng.unsubscribe', match: { event: 'unsubscribe' }, points: -5, decays: false },
          ],
          frequency: [],
        },
      },
    });
    const e = eventsFor({ leadId: 'lead-1' });
    const demo = foldLead(lead, [e('demo_requested', isoAt(0))], config);
    expect([0, 30, 60].map((d) => leadStateAsOf(demo, isoAt(d), config).scores.engagement)).toEqual([40, 20, 10]);
    const unsubscribed = evolve(demo, e('unsubscribe', isoAt(30)), config);
    expect([30, 60].map((d) => leadStateAsOf(unsubscribed, isoAt(d), config).scores.engagement)).toEqual([15, 5]);
  });

  it('given a capped rule, when its points have decayed, then new activity earns again up to the cap', () => {
    const config = ruleConfig({ scoring: { engagement: { halfLifeDays: 30, rules: [{ id: 'eng.dl', match: { event: 'content_download' }, points: 10, cap: 30 }], frequency: [] } } });
    const e = eventsFor({ leadId: 'lead-1' });
    const burst = [0, 1, 2, 3, 4].map((i) => e('content_download', isoAt(0, i)));
    const s = foldLead(lead, [...burst, e('content_download', isoAt(30, 4))], config);
    expect(leadStateAsOf(s, isoAt(30, 4), config).scores.engagement).toBe(25);
  });
});

describe('grades and quadrants', () => {
  const config = ruleConfig({
    scoring: {
      fit: { rules: [{ id: 'fit.senior', profile: { title: { contains: 'vp' } }, points: 60 }] },
      engagement: {
        halfLifeDays: 30,
        rules: [
          { id: 'eng.demo', match: { event: 'demo_requested' }, points: 40 },
          { id: 'eng.webinar', match: { event: 'webinar_attended' }, points: 30 },
        ],
        frequency: [],
      },
    },
    grades: { basis: 'engagement', hot: 60, warm: 30 },
    quadrants: { fitAtLeast: 50, interestAtLeast: 40 },
  });
  const e = eventsFor({ leadId: 'lead-1' });
  const hot = foldLead(lead, [e('identify', isoAt(0), { title: 'VP Sales' }), e('demo_requested', isoAt(0, 1)), e('webinar_attended', isoAt(0, 2), { webinarId: 'w' })], config);

  it('given a hot lead, when 15 days pass with no new events, then decay makes it warm; after 60 days it is cold', () => {
    const view = (day: number) => leadStateAsOf(hot, isoAt(day, 2), config);
    expect(view(0)).toMatchObject({ grade: 'hot', scores: { engagement: 70 } });
    expect(view(15)).toMatchObject({ grade: 'warm', scores: { engagement: 49.5 } });
    expect(view(60)).toMatchObject({ grade: 'cold', scores: { engagement: 17.5 } });
  });

  it('given fit and interest, when interest fades, then the quadrant moves from sales follow-up to nurture', () => {
    expect(leadStateAsOf(hot, isoAt(0, 2), config)).toMatchObject({ quadrant: 'fit_interested', nextAction: 'sales_follow_up_24h' });
    expect(leadStateAsOf(hot, isoAt(30, 2), config)).toMatchObject({ quadrant: 'fit_not_interested', nextAction: 'nurture' });
    const f = eventsFor({ leadId: 'lead-2' });
    const noFit = foldLead({ kind: 'lead', leadId: 'lead-2' }, [f('demo_requested', isoAt(0))], config);
    expect(leadStateAsOf(noFit, isoAt(0), config)).toMatchObject({ quadrant: 'interested_no_fit', nextAction: 'low_cost_sales_follow_up' });
    expect(leadStateAsOf(noFit, isoAt(90), config)).toMatchObject({ quadrant: 'neither', nextAction: 'drop_from_communication' });
  });
});
