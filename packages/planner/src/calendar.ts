import { DateTime } from 'luxon';
import type { DayDistribution } from './lag.js';
import type { StageCalendar } from './plan-output.js';
import { PERIOD_LABEL } from './plan-input.js';

/**
 * Calendar work for the plan, in the business time zone. Instants (asOf,
 * period boundaries) are mapped to local calendar dates once; after that,
 * shifting by a lag is arithmetic on calendar days ("a day" is a date, not 24
 * hours), so DST days of 23 or 25 hours cannot move an arrival into the wrong
 * day or month.
 */

export interface Period {
  label: string;
  kind: 'month' | 'quarter';
  /** local midnight the period starts, in the business zone */
  start: DateTime;
  /** local midnight the next period starts (exclusive) */
  end: DateTime;
}

export function parsePeriod(label: string, zone: string): Period {
  const match = PERIOD_LABEL.exec(label);
  if (match === null) throw new RangeError(`not a period label: ${label}`);
  const year = Number(match[1]);
  const month = match[2] === undefined ? undefined : Number(match[2]);
  const quarter = match[3] === undefined ? undefined : Number(match[3]);
  const startMonth = month ?? ((quarter as number) - 1) * 3 + 1;
  const start = DateTime.fromObject({ year, month: startMonth, day: 1 }, { zone });
  return {
    label,
    kind: month === undefined ? 'quarter' : 'month',
    start,
    end: start.plus({ months: month === undefined ? 3 : 1 }),
  };
}

/** An instant from the input, read in the business zone (a bare date means local midnight). */
export function instantInZone(iso: string, zone: string): DateTime {
  return DateTime.fromISO(iso, { zone });
}

const MS_PER_DAY = 86_400_000;

/**
 * Calendar dates as consecutive integers (days since 1970-01-01), taken from
 * the local date in the DateTime's own zone. Consecutive dates differ by
 * exactly 1 whatever the zone's offsets do.
 */
export function dayNumber(local: DateTime): number {
  return Math.round(DateTime.utc(local.year, local.month, local.day).toMillis() / MS_PER_DAY);
}

/** The calendar date of a day number (as a UTC DateTime, whose fields are that date). */
function dateOfDay(day: number): DateTime {
  return DateTime.fromMillis(day * MS_PER_DAY, { zone: 'utc' });
}

/** `yyyy-MM` of a day number. */
export function monthOfDay(day: number): string {
  const date = dateOfDay(day);
  return `${date.year}-${String(date.month).padStart(2, '0')}`;
}

/**
 * Local dates of a period as day numbers: every date from the local date
 * it starts on up to (not including) the local date the next period starts.
 */
export function daysOf(period: Period): number[] {
  const first = dayNumber(period.start);
  return Array.from({ length: dayNumber(period.end) - first }, (_, i) => first + i);
}

export interface MonthShare {
  month: string;
  /** share of the stage's volume due to arrive in this month, on days before asOf */
  beforeAsOf: number;
  /** share due in this month on asOf's day or later */
  fromAsOf: number;
}

/**
 * When a stage's volume must arrive, as shares per month: deals close evenly
 * over the days of the period (the target says nothing finer), and a lead
 * entering this stage reaches the deal after `lagToDeal` days, so each
 * closing day pulls its volume back by that lag.
 */
export function arrivalShares(period: Period, lagToDeal: DayDistribution, asOfDay: number): MonthShare[] {
  const days = daysOf(period);
  const first = days[0] as number;
  const perDay = 1 / days.length;
  const lags = lagToDeal.weights;
  // cumulative lag weights: atMost(k) = chance the lag is k days or fewer
  const cumulative = new Float64Array(lags.length);
  lags.reduce((sum, weight, k) => (cumulative[k] = sum + weight), 0);
  const atMost = (k: number): number => (k < 0 ? 0 : (cumulative[Math.min(k, lags.length - 1)] as number));

  const months: MonthShare[] = [];
  let current: MonthShare | undefined;
  let nextMonthDay = Number.NEGATIVE_INFINITY;
  for (let arrival = first - (lags.length - 1); arrival < first + days.length; arrival++) {
    // an arrival on this day serves the closing days its lags reach inside the period
    const share = perDay * (atMost(first + days.length - 1 - arrival) - atMost(first - 1 - arrival));
    if (share <= 0) continue;
    if (current === undefined || arrival >= nextMonthDay) {
      current = { month: monthOfDay(arrival), beforeAsOf: 0, fromAsOf: 0 };
      months.push(current);
      nextMonthDay = dayNumber(dateOfDay(arrival).startOf('month').plus({ months: 1 }));
    }
    if (arrival < asOfDay) current.beforeAsOf += share;
    else current.fromAsOf += share;
  }
  return months;
}

/**
 * Chance that a lead entering a stage on asOf's day reaches the deal inside
 * the period, given only its lag to the deal (the rates are applied apart).
 */
export function shareClosingInPeriod(period: Period, lagToDeal: DayDistribution, asOfDay: number): number {
  const first = dayNumber(period.start);
  const last = dayNumber(period.end); // exclusive
  let share = 0;
  lagToDeal.weights.forEach((weight, lag) => {
    const closing = asOfDay + lag;
    if (closing >= first && closing < last) share += weight;
  });
  return share;
}

/**
 * Split a whole volume over buckets in proportion to their shares, in whole
 * units that add up to the volume exactly (largest remainder; ties go to the
 * earlier bucket).
 */
export function allocateWhole(total: number, shares: readonly number[]): number[] {
  const sum = shares.reduce((acc, share) => acc + share, 0);
  if (total === 0 || sum === 0) return shares.map(() => 0);
  const exact = shares.map((share) => (total * share) / sum);
  const whole = exact.map(Math.floor);
  let left = total - whole.reduce((acc, value) => acc + value, 0);
  const order = exact
    .map((value, index) => ({ index, remainder: value - Math.floor(value) }))
    .sort((a, b) => b.remainder - a.remainder || a.index - b.index);
  for (const { index } of order) {
    if (left <= 0) break;
    whole[index] = (whole[index] as number) + 1;
    left--;
  }
  return whole;
}

/** A stage's whole volume laid out over the months it must arrive in. */
export function stageCalendar(stage: string, volume: number, shares: readonly MonthShare[]): StageCalendar {
  const parts = allocateWhole(
    volume,
    shares.flatMap((share) => [share.beforeAsOf, share.fromAsOf]),
  );
  const months = shares
    .map((share, i) => {
      const dueBeforeAsOf = parts[2 * i] as number;
      return { month: share.month, volume: dueBeforeAsOf + (parts[2 * i + 1] as number), dueBeforeAsOf };
    })
    .filter((month) => month.volume > 0);
  return { stage, months, dueBeforeAsOf: months.reduce((sum, month) => sum + month.dueBeforeAsOf, 0) };
}

/** ISO text of a DateTime built from validated input. */
export function isoOf(dateTime: DateTime): string {
  const text = dateTime.toISO();
  if (text === null) throw new RangeError(`invalid date-time: ${dateTime.invalidExplanation ?? 'unknown reason'}`);
  return text;
}
