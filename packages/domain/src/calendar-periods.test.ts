import { describe, expect, it } from 'vitest';
import { calendarPeriod, calendarPeriods } from './calendar-periods.js';

describe('calendar periods', () => {
  it('a quarter and a month run from local midnight to the next one', () => {
    expect(calendarPeriod('2026-Q3', 'Europe/Berlin')).toEqual({ label: '2026-Q3', startMs: Date.parse('2026-06-30T22:00:00Z'), endMs: Date.parse('2026-09-30T22:00:00Z') });
    expect(calendarPeriod('2026-02', 'UTC')).toEqual({ label: '2026-02', startMs: Date.parse('2026-02-01T00:00:00Z'), endMs: Date.parse('2026-03-01T00:00:00Z') });
  });

  it('the periods before one cross the year, oldest first', () => {
    expect(calendarPeriods('2026-Q1', 2, 'UTC')?.map((p) => p.label)).toEqual(['2025-Q3', '2025-Q4', '2026-Q1']);
    expect(calendarPeriods('2026-01', 1, 'UTC')?.map((p) => p.label)).toEqual(['2025-12', '2026-01']);
  });

  it('anything else is no period', () => {
    for (const text of ['2026-Q5', '2026-13', '2026', 'Q3-2026', '2026-07-01']) expect(calendarPeriod(text, 'UTC')).toBeUndefined();
  });
});
