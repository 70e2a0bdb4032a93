import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { comparisonRange, dateRange, lastMonths, nextQuarter, previousRange } from './time.js';

describe('month ranges in the business time zone', () => {
  const now = DateTime.fromISO('2026-11-30T23:30:00Z');

  it('given the last instant of November in UTC, then in Berlin it is December already and the year ends there', () => {
    expect(lastMonths(12, 'UTC', now)).toEqual({ from: '2025-12', to: '2026-11' });
    expect(lastMonths(12, 'Europe/Berlin', now)).toEqual({ from: '2026-01', to: '2026-12' });
  });

  it('given a range, then the comparison is as many months just before it, across a year end', () => {
    expect(previousRange({ from: '2026-01', to: '2026-06' }, 'UTC')).toEqual({ from: '2025-07', to: '2025-12' });
    expect(previousRange({ from: '2026-03', to: '2026-03' }, 'UTC')).toEqual({ from: '2026-02', to: '2026-02' });
  });

  it('given no comparison typed, then it follows the range: the previous months of equal length, not the range it was first set beside', () => {
    const twelve = { from: '2025-12', to: '2026-11' };
    expect(comparisonRange(twelve, 'UTC', null)).toEqual({ from: '2024-12', to: '2025-11' });
    // the analyst narrows the range to a quarter: the comparison is the quarter before, with data, not last year's twelve months
    expect(comparisonRange({ from: '2026-07', to: '2026-09' }, 'UTC', null)).toEqual({ from: '2026-04', to: '2026-06' });
  });

  it('given a comparison the analyst typed, then it stays as typed whatever the range', () => {
    const typed = { from: '2025-07', to: '2025-09' };
    expect(comparisonRange({ from: '2026-07', to: '2026-09' }, 'UTC', typed)).toEqual(typed);
    expect(comparisonRange({ from: '2026-01', to: '2026-06' }, 'UTC', typed)).toEqual(typed);
  });

  it('given months across a DST change, then the API range runs from local midnight to local midnight with each side its own offset', () => {
    expect(dateRange({ from: '2026-03', to: '2026-03' }, 'Europe/Berlin')).toEqual({ from: '2026-03-01T00:00:00+01:00', to: '2026-04-01T00:00:00+02:00' });
    expect(dateRange({ from: '2025-12', to: '2026-11' }, 'UTC')).toEqual({ from: '2025-12-01T00:00:00Z', to: '2026-12-01T00:00:00Z' });
  });

  it('given the last quarter of a year, then the planner defaults to the first of the next', () => {
    expect(nextQuarter('UTC', now)).toBe('2027-Q1');
    expect(nextQuarter('UTC', DateTime.fromISO('2026-02-10T00:00:00Z'))).toBe('2026-Q2');
  });
});
