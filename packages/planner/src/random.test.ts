import { describe, expect, it } from 'vitest';
import { createRng, nearestRank, sampleBeta, sampleGamma } from './random.js';

const take = (rng: () => number, n: number): number[] => Array.from({ length: n }, rng);
const mean = (values: number[]): number => values.reduce((sum, value) => sum + value, 0) / values.length;

describe('given the seeded generator', () => {
  it('when created twice with the same seed and stream, then it draws the same numbers', () => {
    expect(take(createRng(42, 'emea|2027-Q1'), 5)).toEqual(take(createRng(42, 'emea|2027-Q1'), 5));
  });

  it('when the seed or the stream differs, then the draws differ', () => {
    const base = take(createRng(42, 'emea|2027-Q1'), 5);

    expect(take(createRng(43, 'emea|2027-Q1'), 5)).not.toEqual(base);
    expect(take(createRng(42, 'emea|2027-Q2'), 5)).not.toEqual(base);
  });

  it('when drawing many numbers, then they stay in [0, 1) and average one half', () => {
    const draws = take(createRng(7, 'uniform'), 20_000);

    expect(Math.min(...draws)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...draws)).toBeLessThan(1);
    expect(mean(draws)).toBeCloseTo(0.5, 2);
  });
});

describe('given the samplers', () => {
  it('when drawing Beta(3, 7), then the draws average 3 / (3 + 7) = 0.3', () => {
    const rng = createRng(1, 'beta');
    expect(mean(Array.from({ length: 20_000 }, () => sampleBeta(rng, 3, 7)))).toBeCloseTo(0.3, 2);
  });

  it('when drawing Gamma with a shape below one, then the draws average the shape', () => {
    const rng = createRng(1, 'gamma');
    expect(mean(Array.from({ length: 20_000 }, () => sampleGamma(rng, 0.5)))).toBeCloseTo(0.5, 1);
  });

  it('when taking nearest-rank quantiles, then the result is one of the values', () => {
    const sorted = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

    expect([nearestRank(sorted, 0.1), nearestRank(sorted, 0.5), nearestRank(sorted, 0.9)]).toEqual([1, 5, 9]);
    expect(() => nearestRank([], 0.5)).toThrow(RangeError);
  });
});
