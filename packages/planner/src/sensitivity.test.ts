import { describe, expect, it } from 'vitest';
import { rateSensitivity } from './sensitivity.js';
import { CLASSIC_STAGES } from './test-fixtures.js';

describe('given the classic funnel needing 50 deals (50,000 visits, 2,000 leads, 500 MQLs, 250 SQLs)', () => {
  const improvements = rateSensitivity(CLASSIC_STAGES, 50, [0.04, 0.25, 0.5, 0.2], { points: 0.01, relative: 0.1 });
  const savedBy = (from: string, kind: 'byPoints' | 'byRelative') =>
    improvements.find((entry) => entry.from === from)?.[kind].saved;

  it('when visit -> lead gains one point (4 % -> 5 %), then 2,000 / 0.05 = 40,000 visits suffice: 10,000 saved', () => {
    expect(savedBy('visitor', 'byPoints')).toEqual([{ stage: 'visitor', volume: 10_000 }]);
  });

  it('when SQL -> customer gains one point (20 % -> 21 %), then every stage above it needs less', () => {
    // SQLs ceil(50 / 0.21) = 239 (11 saved); MQLs 478 (22); leads 1,912 (88); visits 47,800 (2,200)
    expect(savedBy('sql', 'byPoints')).toEqual([
      { stage: 'visitor', volume: 2_200 },
      { stage: 'lead', volume: 88 },
      { stage: 'mql', volume: 22 },
      { stage: 'sql', volume: 11 },
    ]);
  });

  it('when each step improves by 10 % relative, then the visits saved are about the same everywhere', () => {
    // visit -> lead 0.044:   ceil(2,000 / 0.044) = 45,455  -> 4,545 saved
    // lead -> MQL   0.275:   leads 1,819, visits 45,475     -> 4,525
    // MQL -> SQL    0.55:    MQLs 455, leads 1,820, 45,500  -> 4,500
    // SQL -> cust.  0.22:    SQLs 228, MQLs 456, ... 45,600 -> 4,400
    expect(improvements.map((entry) => entry.byRelative.saved[0]?.volume)).toEqual([4_545, 4_525, 4_500, 4_400]);
  });

  it('when one point is added, then it is worth most where the rate is smallest (the top of this funnel)', () => {
    const visitsSaved = improvements.map((entry) => entry.byPoints.saved[0]?.volume);

    // visit -> lead 10,000; lead -> MQL 1,900 (leads 1,924); MQL -> SQL 900 (MQLs 491); SQL -> customer 2,200
    expect(visitsSaved).toEqual([10_000, 1_900, 900, 2_200]);
  });

  it('when a rate is already near 100 %, then the improvement stops at 100 % and says it was capped', () => {
    const [step] = rateSensitivity(['sql', 'customer'], 10, [0.995], { points: 0.01, relative: 0.1 });

    expect(step?.byPoints).toEqual({ rate: 1, capped: true, saved: [{ stage: 'sql', volume: 1 }] }); // ceil(10 / 0.995) = 11 -> 10
    expect(step?.byRelative.capped).toBe(true);
  });
});
