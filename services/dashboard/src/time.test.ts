import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { dateRange, lastMonths, nextQuarter, previousRange } from './time.js';

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

  it('given months across a DST change, then the API range runs from local midnight to local midnight with each side its own offset', () => {
    expect(dateRange({ from: '2026-03', to: '2026-03' }, 'Europe/Berlin')).toEqual({ from: '2026-03-01T00:00:00+01:00', to: '2026-04-01T00:00:00+02:00' });
    expect(dateRange({ from: '2025-12', to: '2026-11' }, 'UTC')).toEqual({ from: '2025-12-01T00:00:00Z', to: '2026-12-01T00:00:00Z' });
  });

  it('given the last quarter of a year, then the planner defaults to the first of the next', () => {
    expect(nextQuarter('UTC', now)).toBe('2027-Q1');
    expect(nextQuarter('UTC', DateTime.fromISO('2026-02-10T00:00:00Z'))).toBe('2026-Q2');
  });
});
