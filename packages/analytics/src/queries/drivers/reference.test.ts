import { describe, expect, it } from 'vitest';
import type { FunnelTouchpoint, LeadProfileFacts, StageFact } from '@sluice/domain';
import type { DriverCounts, DriverSpec } from './reference.js';
import { benjaminiHochberg, driverCounts, driverReport, fisherExactTwoSided } from './reference.js';

const tp = (actorId: string, occurredAtMs: number, type: string): FunnelTouchpoint => ({
  actorId,
  occurredAtMs,
  position: occurredAtMs,
  type,
  fields: { source: '', channel: '', campaign: '', accountId: '' },
  properties: {},
});
const fact = (leadId: string, stage: string, enteredAtMs: number): StageFact => ({ leadId, stage, enteredAtMs, skipped: false });
const profile = (industry: string): LeadProfileFacts => ({
  businessUnit: '',
  source: '',
  channel: '',
  campaign: '',
  role: '',
  industry,
  country: '',
  companySize: 0,
  leadSource: '',
  owner: '',
  currentStage: '',
});
const spec = (more: Partial<DriverSpec> = {}): DriverSpec => ({ from: 'mql', to: 'sql', fromMs: 0, toMs: 1000, profileKeys: ['industry'], ...more });

describe('conversion driver counts, by example', () => {
  const facts = [
    fact('A', 'mql', 0),
    fact('A', 'sql', 5),
    fact('B', 'mql', 10),
    fact('B', 'sql', 30),
    fact('C', 'mql', 20),
    fact('D', 'mql', 2000), // entered outside the range: not in the population
    fact('E', 'mql', 40),
    fact('E', 'sql', 30), // an SQL before the MQL never converts
  ];
  const tps = [
    tp('A', 3, 'demo_held'),
    tp('A', 5, 'payment'), // at A's conversion: does not predict itself
    tp('B', 20, 'webinar_attended'),
    tp('B', 21, 'demo_held'),
    tp('C', 500, 'webinar_attended'),
    tp('E', 45, 'demo_held'),
    tp('D', 2001, 'demo_held'),
  ];
  const profiles = new Map([
    ['A', profile('banking')],
    ['B', profile('banking')],
    ['C', profile('retail')],
    ['E', profile('')], // unknown industry: no feature
  ]);

  it('given a 10 ms window, then a member that did not convert has the features of its window (inclusive end)', () => {
    // A converts at 5 (A: demo_held at 3); B's window ends at 20 (webinar at 20 in, demo at 21 out); C's at 30 (webinar at 500 out);
    // E's at 50 (demo_held at 45 in). Population A, B, C, E; converted: A.
    expect(driverCounts(tps, facts, (l) => profiles.get(l), spec({ windowMs: 10 }))).toEqual({
      leads: 4,
      converted: 1,
      features: [
        { kind: 'event', key: 'demo_held', value: '', leads: 2, converted: 1 }, // A, E
        { kind: 'profile', key: 'industry', value: 'banking', leads: 2, converted: 1 }, // A, B
        { kind: 'event', key: 'webinar_attended', value: '', leads: 1, converted: 0 }, // B
        { kind: 'profile', key: 'industry', value: 'retail', leads: 1, converted: 0 }, // C
      ],
    });
  });

  it('given no window, then B converts at 30 (both its touches before count) and the others have every touch', () => {
    expect(driverCounts(tps, facts, (l) => profiles.get(l), spec())).toEqual({
      leads: 4,
      converted: 2, // A, B
      features: [
        { kind: 'event', key: 'demo_held', value: '', leads: 3, converted: 2 }, // A, B, E
        { kind: 'event', key: 'webinar_attended', value: '', leads: 2, converted: 1 }, // B, C
        { kind: 'profile', key: 'industry', value: 'banking', leads: 2, converted: 2 },
        { kind: 'profile', key: 'industry', value: 'retail', leads: 1, converted: 0 },
      ],
    });
    // as of 25: B has not converted yet, and C's webinar has not happened
    expect(driverCounts(tps, facts, (l) => profiles.get(l), spec({ asOfMs: 25, types: ['demo_held'], featureLimit: 1 }))).toEqual({
      leads: 3, // E entered at 40
      converted: 1,
      features: [{ kind: 'event', key: 'demo_held', value: '', leads: 2, converted: 1 }], // A (3), B (21)
    });
  });
});

describe('driver statistics', () => {
  it('Fisher exact, two-sided, matches the textbook tables', () => {
    // Fisher's tea tasting: 3 of 4 cups right, p = 34/70
    expect(fisherExactTwoSided(3, 1, 1, 3)).toBeCloseTo(0.485714, 6);
    // the dieting example of the literature: p = 0.002759 (R fisher.test)
    expect(fisherExactTwoSided(1, 9, 11, 3)).toBeCloseTo(0.0027594, 6);
    expect(fisherExactTwoSided(5, 0, 0, 5)).toBeCloseTo(2 / 252, 9);
    expect(fisherExactTwoSided(0, 0, 3, 4)).toBe(1);
    // large tables stay finite: 600 of 1000 vs 500 of 1000
    expect(fisherExactTwoSided(600, 400, 500, 500)).toBeGreaterThan(0);
    expect(fisherExactTwoSided(600, 400, 500, 500)).toBeLessThan(1e-5);
  });

  it('Benjamini-Hochberg q-values keep the input order', () => {
    // sorted: 0.005 (x4/1), 0.01 (x4/2), 0.03 (x4/3), 0.04 (x4/4) -> 0.02, 0.02, 0.04, 0.04
    const q = benjaminiHochberg([0.01, 0.04, 0.03, 0.005]);
    expect(q.map((x) => Number(x.toFixed(10)))).toEqual([0.02, 0.04, 0.04, 0.02]);
  });

  it('given a 2x2 table per feature, then odds ratios, Woolf intervals, p and q values, ranked by evidence', () => {
    const counts: DriverCounts = {
      leads: 24,
      converted: 12,
      features: [
        { kind: 'event', key: 'everyone', value: '', leads: 24, converted: 12 }, // nothing to compare with
        { kind: 'profile', key: 'industry', value: 'banking', leads: 10, converted: 1 }, // [[1, 9], [11, 3]]
        { kind: 'event', key: 'demo_held', value: '', leads: 5, converted: 5 }, // [[5, 0], [7, 12]]: an empty cell
      ],
    };
    const report = driverReport(counts, { confidence: 0.95 });
    expect(report).toMatchObject({ leads: 24, converted: 12, conversionRate: 0.5, confidence: 0.95 });
    const [banking, demo, everyone] = report.drivers;
    // banking: OR = (1 x 3) / (9 x 11) = 1/33; log-OR se = sqrt(1 + 1/9 + 1/11 + 1/3) = 1.2391
    expect(banking).toMatchObject({ key: 'industry', rank: 1, rateWith: 0.1, rateWithout: 11 / 14, effect: 'lowers' });
    expect(banking!.oddsRatio).toBeCloseTo(1 / 33, 10);
    expect(banking!.interval!.low).toBeCloseTo(Math.exp(Math.log(1 / 33) - 1.959963984540054 * 1.239089), 4);
    expect(banking!.interval!.high).toBeCloseTo(0.3437, 3);
    expect(banking!.pValue).toBeCloseTo(0.0027594, 6);
    // demo_held: Haldane-Anscombe, (5.5 x 12.5) / (0.5 x 7.5) = 18.33; Fisher p = 0.0373
    expect(demo).toMatchObject({ key: 'demo_held', rank: 2, rateWith: 1, rateWithout: 7 / 19 });
    expect(demo!.oddsRatio).toBeCloseTo(68.75 / 3.75, 10);
    expect(demo!.pValue).toBeCloseTo(0.03727, 4);
    // three features tested: q = p x 3 / rank for the two smallest, 1 for the last
    expect(banking!.qValue).toBeCloseTo(banking!.pValue * 3, 10);
    expect(demo!.qValue).toBeCloseTo(demo!.pValue * 1.5, 10);
    expect(demo!.effect).toBe('unclear'); // q = 0.056 is not below 0.05
    expect(everyone).toMatchObject({ key: 'everyone', rank: 3, oddsRatio: null, interval: null, rateWithout: null, pValue: 1, qValue: 1, effect: 'unclear' });
    expect(report.note).toMatch(/Fisher exact/);
  });
});
