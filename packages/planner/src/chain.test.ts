import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chanceToClose, dealsFor, requiredVolumes, wholeUnitsAtLeast } from './chain.js';

describe('given the worked chain of domain.md ("Planning backward from revenue")', () => {
  it('when walking back from 900,000 of revenue, then every stage needs the hand-computed volume', () => {
    // 1. revenue target              900,000
    // 2. deals    = 900,000 / 18,000 =     50
    // 3. SQLs     =      50 / 0.20   =    250  (SQL -> customer)
    // 4. MQLs     =     250 / 0.50   =    500  (MQL -> SQL)
    // 5. leads    =     500 / 0.25   =  2,000  (lead -> MQL)
    // 6. visits   =   2,000 / 0.04   = 50,000  (visit -> lead)
    const deals = dealsFor(900_000, 18_000);
    const volumes = requiredVolumes(deals, [0.04, 0.25, 0.5, 0.2]);

    expect(deals).toBe(50);
    expect(volumes).toEqual([50_000, 2_000, 500, 250, 50]);
  });

  it('when a division leaves a fraction, then that stage rounds up to whole leads and the next stage divides the whole number', () => {
    // deals  = 1,000,000 / 24,000 = 41.67  -> 42 (41 deals fall short of the target)
    // SQLs   =        42 / 0.30   = 140
    // MQLs   =       140 / 0.35   = 400
    // leads  =       400 / 0.22   = 1,818.18 -> 1,819
    // visits =     1,819 / 0.03   = 60,633.33 -> 60,634 (from 1,819 whole leads, not 1,818.18)
    const deals = dealsFor(1_000_000, 24_000);

    expect(deals).toBe(42);
    expect(requiredVolumes(deals, [0.03, 0.22, 0.35, 0.3])).toEqual([60_634, 1_819, 400, 140, 42]);
  });

  it('when floating point lands a hair above a whole number, then no extra lead is asked for', () => {
    // 21 / 0.35 is 60.00000000000001 in binary floating point; it means 60 SQLs
    expect(21 / 0.35).toBeGreaterThan(60);
    expect(requiredVolumes(21, [0.35])).toEqual([60, 21]);
    expect(wholeUnitsAtLeast(60.00000000000001)).toBe(60);
    expect(wholeUnitsAtLeast(60.001)).toBe(61);
    expect(wholeUnitsAtLeast(0)).toBe(0);
  });

  it('when a zero revenue is planned, then every stage needs zero', () => {
    expect(requiredVolumes(dealsFor(0, 18_000), [0.04, 0.25, 0.5, 0.2])).toEqual([0, 0, 0, 0, 0]);
  });

  it('when asking for the chance to close from a stage, then it is the product of the rates after it', () => {
    expect(chanceToClose([0.04, 0.25, 0.5, 0.2], 2)).toBeCloseTo(0.1, 12); // 0.5 x 0.2
    expect(chanceToClose([0.04, 0.25, 0.5, 0.2], 4)).toBe(1); // the deal stage itself
  });
});

describe('given any funnel (property)', () => {
  it('when simulating forward from any stage with the required volume, then the revenue target is met, overshooting by rounding only', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0.001, max: 1, noNaN: true }), { minLength: 1, maxLength: 7 }),
        fc.double({ min: 0, max: 1e9, noNaN: true }),
        fc.double({ min: 100, max: 1e6, noNaN: true }),
        (rates, revenue, dealSize) => {
          const volumes = requiredVolumes(dealsFor(revenue, dealSize), rates);
          volumes.forEach((volume, stage) => {
            expect(Number.isInteger(volume)).toBe(true);
            // expected revenue from this stage's volume at the plan's rates
            const forward = volume * chanceToClose(rates, stage) * dealSize;
            // at least the target, up to the float noise rounding forgives (1e-9 of a deal or of the volume) ...
            expect(forward).toBeGreaterThanOrEqual(revenue - 1e-8 * Math.max(revenue, dealSize));
            // ... and above it by less than one deal per rounding on the way down (each rounding adds
            // under one lead at its stage, which is under one deal after the rates below it)
            const roundings = rates.length - stage + 1;
            expect(forward).toBeLessThan(revenue * (1 + 1e-8) + roundings * dealSize);
          });
        },
      ),
      { numRuns: 500 },
    );
  });
});
