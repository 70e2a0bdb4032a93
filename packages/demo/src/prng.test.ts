import { describe, expect, it } from 'vitest';
import { Prng, Weighted, hash32 } from './prng.js';

const draw = (seed: number, n: number) => {
  const rng = new Prng(seed);
  return Array.from({ length: n }, () => rng.nextUint32());
};

describe('Prng', () => {
  it('given the same seed, when drawing, then yields the same sequence', () => {
    expect(draw(42, 100)).toEqual(draw(42, 100));
  });

  it('given different seeds (also ones differing only above 32 bits), then the sequences differ', () => {
    expect(draw(1, 10)).not.toEqual(draw(2, 10));
    expect(draw(1, 10)).not.toEqual(draw(1 + 2 ** 32, 10));
    expect(draw(-1, 10)).not.toEqual(draw(1, 10));
  });

  it('draws uniform numbers in [0, 1) and integers in range', () => {
    const rng = new Prng(7);
    let sum = 0;
    let outside = 0;
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 100_000; i++) {
      const u = rng.next();
      if (u < 0 || u >= 1) outside += 1;
      sum += u;
      counts[rng.int(4)]! += 1;
    }
    expect(outside).toBe(0);
    expect(sum / 100_000).toBeCloseTo(0.5, 2);
    for (const c of counts) expect(c / 100_000).toBeCloseTo(0.25, 2);
  });

  it('draws exponential and log-normal values around their mean and median', () => {
    const rng = new Prng(3);
    const n = 50_000;
    let mean = 0;
    const logs: number[] = [];
    for (let i = 0; i < n; i++) {
      mean += rng.exponential(10) / n;
      logs.push(rng.logNormal(1000, 0.5));
    }
    logs.sort((a, b) => a - b);
    expect(mean).toBeGreaterThan(9.7);
    expect(mean).toBeLessThan(10.3);
    expect(logs[n / 2]).toBeGreaterThan(970);
    expect(logs[n / 2]).toBeLessThan(1030);
  });
});

describe('Weighted', () => {
  it('picks items in proportion to their weights', () => {
    const weighted = new Weighted([['a', 1], ['b', 3], ['c', 0]] as const);
    const rng = new Prng(11);
    const counts = { a: 0, b: 0, c: 0 };
    for (let i = 0; i < 40_000; i++) counts[weighted.pick(rng)] += 1;
    expect(counts.c).toBe(0);
    expect(counts.b / 40_000).toBeCloseTo(0.75, 2);
  });

  it('rejects an empty list and non-positive totals', () => {
    expect(() => new Weighted([])).toThrow(RangeError);
    expect(() => new Weighted([['a', 0]])).toThrow(RangeError);
    expect(() => new Weighted([['a', -1]])).toThrow(RangeError);
  });
});

describe('hash32', () => {
  it('is a pure function of its inputs', () => {
    expect(hash32(5, 17)).toBe(hash32(5, 17));
    expect(hash32(5, 17)).not.toBe(hash32(5, 18));
    expect(hash32(5, 17)).not.toBe(hash32(6, 17));
  });
});
