import { DateTime } from 'luxon';

/** A run of whole months, both ends included, as `<input type="month">` values (YYYY-MM). */
export interface MonthRange {
  from: string;
  to: string;
}

const month = (s: string, zone: string) => DateTime.fromFormat(s, 'yyyy-MM', { zone });

/** The last `n` months up to and including the current one, in the business time zone. */
export function lastMonths(n: number, zone: string, now: DateTime = DateTime.now()): MonthRange {
  const current = now.setZone(zone).startOf('month');
  return { from: current.minus({ months: n - 1 }).toFormat('yyyy-MM'), to: current.toFormat('yyyy-MM') };
}

/** The same number of months just before `range`: what "compare with the previous period" means. */
export function previousRange(range: MonthRange, zone: string): MonthRange {
  const from = month(range.from, zone);
  const length = month(range.to, zone).diff(from, 'months').months + 1;
  return { from: from.minus({ months: length }).toFormat('yyyy-MM'), to: from.minus({ months: 1 }).toFormat('yyyy-MM') };
}

/**
 * The range a comparison sets beside `range`: the one the analyst typed, when
 * they typed one, else the previous range of equal length, so it follows the
 * range as it changes rather than staying on the months it was first set
 * beside (which, after narrowing the range, are often months without data).
 */
export function comparisonRange(range: MonthRange, zone: string, typed: MonthRange | null): MonthRange {
  return typed ?? previousRange(range, zone);
}

/** The API's date range: local midnight of the first month's first day to that of the month after the last, [from, to). */
export function dateRange(range: MonthRange, zone: string): { from: string; to: string } {
  const iso = (d: DateTime) => d.toISO({ suppressMilliseconds: true }) ?? '';
  return { from: iso(month(range.from, zone)), to: iso(month(range.to, zone).plus({ months: 1 })) };
}

export const isMonth = (s: string) => /^\d{4}-\d{2}$/.test(s) && DateTime.fromFormat(s, 'yyyy-MM').isValid;

/** The quarter after the current one (2027-Q1): the planner's default target period. */
export function nextQuarter(zone: string, now: DateTime = DateTime.now()): string {
  const next = now.setZone(zone).startOf('quarter').plus({ months: 3 });
  return `${next.year}-Q${next.quarter}`;
}

export const nowIso = (zone: string) => DateTime.now().setZone(zone).toISO({ suppressMilliseconds: true }) ?? '';
