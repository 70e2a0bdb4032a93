import { describe, expect, it } from 'vitest';
import { dealLine, sluiceOverImported } from './test-support.js';

const sluice = sluiceOverImported('sluice-revenue-cli-', () => [
  dealLine('a1', 'opportunity_created', '2026-03-10T09:00:00Z', { opportunityId: 'A', stage: 'proposal', amount: 100, currency: 'EUR', closeDate: '2026-05-15T00:00:00Z', ownerId: 'ann' }),
  dealLine('a2', 'opportunity_close_date_changed', '2026-04-20T10:00:00Z', { opportunityId: 'A', closeDate: '2026-08-15T00:00:00Z' }),
  dealLine('c1', 'opportunity_created', '2026-04-05T00:00:00Z', { opportunityId: 'C', stage: 'discovery', amount: 30, currency: 'EUR', closeDate: '2026-06-30T00:00:00Z', ownerId: 'bob' }, 'initech'),
  dealLine('c2', 'opportunity_won', '2026-06-01T00:00:00Z', { opportunityId: 'C' }, 'initech'),
]);

describe('sluice pipeline and sluice waterfall', () => {
  it('given two deals, when the pipeline is asked as of a day, then JSON with both open deals by owner, and a text table', () => {
    const json = sluice('pipeline', '--as-of', '2026-04-10', '--by', 'owner', '--json');
    expect(json.code).toBe(0);
    const answer = JSON.parse(json.stdout);
    expect(answer.rows).toEqual([
      { group: 'ann', currency: 'EUR', count: 1, amount: 100, weightedAmount: 50, meanDaysInStage: 30.625, maxDaysInStage: 30.625 },
      { group: 'bob', currency: 'EUR', count: 1, amount: 30, weightedAmount: 3, meanDaysInStage: 5, maxDaysInStage: 5 },
    ]);
    const text = sluice('pipeline', '--as-of', '2026-04-10T00:00:00Z', '--by', 'stage');
    expect(text.stdout).toContain('open pipeline as of 2026-04-10T00:00:00.000Z by stage: 2 opportunities');
    expect(text.stdout).toMatch(/discovery\s+EUR\s+1\s+30\s+3/);
  });

  it('given the second quarter, then the waterfall shows A pushed out and C created and won, as text and JSON', () => {
    const text = sluice('waterfall', '--from', '2026-04-01T00:00:00Z', '--to', '2026-07-01T00:00:00Z');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/- pushed out\s+100\s+1\s+A/);
    expect(text.stdout).toMatch(/\+ created\s+30\s+1\s+C/);
    expect(text.stdout).toMatch(/- won\s+30\s+1\s+C/);
    const answer = JSON.parse(sluice('waterfall', '--from', '2026-04-01T00:00:00Z', '--to', '2026-07-01T00:00:00Z', '--json').stdout);
    expect(answer.rows[0]).toMatchObject({ currency: 'EUR', start: { count: 1, amount: 100 }, end: { count: 0, amount: 0 } });
    // a quarter given to both flags is the whole quarter (--to takes its end), not an empty range
    const quarter = JSON.parse(sluice('waterfall', '--from', '2026-Q2', '--to', '2026-Q2', '--json').stdout);
    expect(Date.parse(quarter.to) - Date.parse(quarter.from)).toBe(91 * 86_400_000);
  });

  it('given bad flags, then the flag is named and the exit is non-zero', () => {
    const missing = sluice('waterfall', '--from', '2026-04-01');
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('--to: required');
    const backwards = sluice('waterfall', '--from', '2026-07-01', '--to', '2026-04-01');
    expect(backwards.stderr).toContain('--to: must be after from');
    const by = sluice('pipeline', '--by', 'region');
    expect(by.code).not.toBe(0);
    expect(by.stderr).toContain('--by');
  });
});
