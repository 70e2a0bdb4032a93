import { describe, expect, it } from 'vitest';
import { dealLine, sluiceOverImported } from './test-support.js';

// A won by ann in 20 days at a signed 120 EUR, B lost by bob, C won by ann in 40 days at 30 EUR
const sluice = sluiceOverImported('sluice-opportunities-cli-', () => [
  dealLine('a1', 'opportunity_created', '2026-03-01T00:00:00Z', { opportunityId: 'A', stage: 'proposal', amount: 100, currency: 'EUR', closeDate: '2026-05-15T00:00:00Z', ownerId: 'ann' }),
  dealLine('a2', 'opportunity_won', '2026-03-21T00:00:00Z', { opportunityId: 'A', amount: 120, currency: 'EUR' }),
  dealLine('b1', 'opportunity_created', '2026-03-02T00:00:00Z', { opportunityId: 'B', stage: 'discovery', amount: 50, currency: 'EUR', closeDate: '2026-05-15T00:00:00Z', ownerId: 'bob' }, 'globex'),
  dealLine('b2', 'opportunity_lost', '2026-03-20T00:00:00Z', { opportunityId: 'B', reason: 'price' }, 'globex'),
  dealLine('c1', 'opportunity_created', '2026-03-05T00:00:00Z', { opportunityId: 'C', stage: 'discovery', amount: 30, currency: 'EUR', closeDate: '2026-06-30T00:00:00Z', ownerId: 'ann' }, 'initech'),
  dealLine('c2', 'opportunity_won', '2026-04-14T00:00:00Z', { opportunityId: 'C' }, 'initech'),
]);

describe('sluice query win-rates | sales-cycle | velocity | deal-sizes', () => {
  it('given three deals, then win rates by owner as JSON and deal sizes and the cycle as text', () => {
    const json = sluice('query', 'win-rates', '--from', '2026-03-01', '--to', '2026-05-01', '--by', 'owner', '--json');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout).rows).toEqual([
      { group: 'ann', closed: 2, won: 2, lost: 0, winRate: 1 },
      { group: 'bob', closed: 1, won: 0, lost: 1, winRate: 0 },
    ]);
    const sizes = sluice('query', 'deal-sizes', '--from', '2026-Q1', '--to', '2026-Q2');
    expect(sizes.code).toBe(0);
    expect(sizes.stdout).toMatch(/EUR\s+2\s+150\s+75\s+120\s+120/);
    const cycle = sluice('query', 'sales-cycle', '--from', '2026-03-01', '--to', '2026-05-01');
    expect(cycle.stdout).toMatch(/all\s+2\s+30\.0 d\s+40\.0 d\s+40\.0 d/);
  });

  it('given bad flags, then the flag is named and the exit is non-zero', () => {
    const by = sluice('query', 'velocity', '--from', '2026-03-01', '--to', '2026-05-01', '--by', 'owner');
    expect(by.code).not.toBe(0);
    expect(by.stderr).toContain('takes no --by');
    const group = sluice('query', 'win-rates', '--from', '2026-03-01', '--to', '2026-05-01', '--by', 'region');
    expect(group.code).not.toBe(0);
    expect(group.stderr).toContain('groupBy');
  });
});

describe('sluice forecast', () => {
  it('given Q2 after its end, then what was won in it; the back-test of Q1 forecast 0 as of its start against 120 won: a 100% error', () => {
    const json = sluice('forecast', '--period', '2026-Q2', '--backtest', '1', '--as-of', '2026-07-01T00:00:00Z', '--json');
    expect(json.code).toBe(0);
    const answer = JSON.parse(json.stdout);
    expect(answer.rows).toEqual([{ currency: 'EUR', wonSoFar: 30, pipeline: 0, notYetCreated: 0, expected: 30, p10: 30, p50: 30, p90: 30 }]);
    expect(answer.backtest.meanAbsolutePercentageError).toEqual([{ currency: 'EUR', value: 1, periods: 1 }]);
    const text = sluice('forecast', '--period', '2026-Q2', '--backtest', '1', '--as-of', '2026-07-01T00:00:00Z');
    expect(text.stdout).toMatch(/2026-Q1\s+EUR\s+0\s+0\s+0\s+120\s+100\.0%/);
    expect(text.stdout).toContain('mean absolute percentage error: EUR 100.0% over 1 period');
  });

  it('given a period that is not a quarter or a month, then --period is named and the exit is non-zero', () => {
    const bad = sluice('forecast', '--period', '2026-W30');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('--period');
  });
});
