import { describe, expect, it } from 'vitest';
import { requiredVolumes } from './chain.js';
import type { UncertainRate } from './monte-carlo.js';
import { rateQuantiles, simulateVolumes } from './monte-carlo.js';
import { createRng } from './random.js';

/** A measured rate of converted / entered with its Jeffreys posterior. */
const measured = (converted: number, entered: number): UncertainRate => ({
  point: converted / entered,
  posterior: { alpha: converted + 0.5, beta: entered - converted + 0.5 },
});
const fixed = (rate: number): UncertainRate => ({ point: rate, posterior: null });

const simulate = (rates: UncertainRate[], seed = 1) =>
  simulateVolumes({ revenue: 900_000, dealSize: { point: 18_000, posterior: null }, rates, draws: 4_000, rng: createRng(seed, 'test') });

describe('given only fixed rates and a fixed deal size', () => {
  it('when simulating, then P10 = P50 = P90 = the deterministic volume at every stage', () => {
    const quantiles = simulate([fixed(0.04), fixed(0.25), fixed(0.5), fixed(0.2)]);

    expect(quantiles).toEqual([50_000, 2_000, 500, 250, 50].map((v) => ({ p10: v, p50: v, p90: v })));
  });
});

describe('given measured rates', () => {
  const rates = [measured(8_000, 200_000), measured(500, 2_000), measured(250, 500), measured(50, 250)];

  it('when simulating, then quantiles are ordered, centred on the deterministic volume, and only stages above an uncertain step vary', () => {
    const quantiles = simulate(rates);
    const point = requiredVolumes(50, [0.04, 0.25, 0.5, 0.2]); // 50,000 2,000 500 250 50

    quantiles.forEach((q, stage) => {
      expect(q.p10).toBeLessThanOrEqual(q.p50);
      expect(q.p50).toBeLessThanOrEqual(q.p90);
      expect(Math.abs(q.p50 / (point[stage] as number) - 1)).toBeLessThan(0.02);
    });
    expect(quantiles[4]).toEqual({ p10: 50, p50: 50, p90: 50 }); // deals come from the fixed deal size
    expect(quantiles[0]!.p90 - quantiles[0]!.p10).toBeGreaterThan(quantiles[1]!.p90 - quantiles[1]!.p10);
  });

  it('when simulating twice with the same seed, then the quantiles are identical; another seed moves them', () => {
    expect(simulate(rates, 9)).toEqual(simulate(rates, 9));
    expect(simulate(rates, 10)).not.toEqual(simulate(rates, 9));
  });

  it('when the same rate rests on fewer observations, then the band is wider', () => {
    const band = (converted: number, entered: number): number => {
      const [sqls] = simulate([measured(converted, entered)]);
      return sqls!.p90 - sqls!.p10;
    };

    expect(band(20, 80)).toBeGreaterThan(3 * band(2_000, 8_000));
  });
});

describe('given a measured average deal size with a known spread', () => {
  it('when simulating, then the number of deals varies around revenue / mean', () => {
    // 900,000 / 18,000 = 50 deals; a standard error of 1,800 (10 %) moves it by several deals either way
    const [deals] = simulateVolumes({
      revenue: 900_000,
      dealSize: { point: 18_000, posterior: { mean: 18_000, standardError: 1_800 } },
      rates: [],
      draws: 4_000,
      rng: createRng(1, 'deal-size'),
    });

    expect(deals!.p10).toBeLessThan(50);
    expect(deals!.p50).toBeGreaterThanOrEqual(50);
    expect(deals!.p50).toBeLessThanOrEqual(51);
    expect(deals!.p90).toBeGreaterThan(55);
  });
});

describe('given a rate measured as 200 conversions of 1,000 leads', () => {
  it('when summarising its posterior, then P10 / P90 sit about 1.28 standard errors around 0.2', () => {
    // standard error = sqrt(0.2 x 0.8 / 1,000) = 0.01265; 1.2816 x 0.01265 = 0.0162
    const q = rateQuantiles({ alpha: 200.5, beta: 800.5 }, 20_000, createRng(1, 'rate'));

    expect(q.p10).toBeCloseTo(0.2 - 0.0162, 2);
    expect(q.p50).toBeCloseTo(0.2, 2);
    expect(q.p90).toBeCloseTo(0.2 + 0.0162, 2);
  });
});
