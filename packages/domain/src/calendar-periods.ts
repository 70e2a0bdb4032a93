import { DateTime } from 'luxon';

/** A named calendar period in a time zone: [startMs, endMs). */
export interface CalendarPeriod {
  /** as named: 2026-Q3 or 2026-07 */
  label: string;
  startMs: number;
  endMs: number;
}

const QUARTER = /^(\d{4})-[Qq]([1-4])$/;
const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;

/** What a period is written as, for messages. */
export const CALENDAR_PERIOD_FORMATS = 'a quarter (YYYY-Qn) or a month (YYYY-MM)';

/**
 * A quarter (YYYY-Qn) or a month (YYYY-MM) from its local midnight in
 * `timeZone` to the next one's, or undefined when the text is neither.
 */
export function calendarPeriod(text: string, timeZone: string): CalendarPeriod | undefined {
  return calendarPeriods(text, 0, timeZone)?.[0];
}

/**
 * The period `text` names and the `before` periods of the same kind just
 * before it, oldest first (the period itself last): a back-test's periods.
 */
export function calendarPeriods(text: string, before: number, timeZone: string): CalendarPeriod[] | undefined {
  const quarter = QUARTER.exec(text);
  const month = MONTH.exec(text);
  if (!quarter && !month) return undefined;
  const months = quarter ? 3 : 1;
  const start = quarter
    ? DateTime.fromObject({ year: Number(quarter[1]), month: (Number(quarter[2]) - 1) * 3 + 1, day: 1 }, { zone: timeZone })
    : DateTime.fromObject({ year: Number(month![1]), month: Number(month![2]), day: 1 }, { zone: timeZone });
  if (!start.isValid) return undefined;
  const periods: CalendarPeriod[] = [];
  for (let i = before; i >= 0; i--) {
    const s = start.minus({ months: i * months });
    const label = quarter ? `${s.year}-Q${Math.floor((s.month - 1) / 3) + 1}` : s.toFormat('yyyy-MM');
    periods.push({ label, startMs: s.toMillis(), endMs: s.plus({ months }).toMillis() });
  }
  return periods;
}
