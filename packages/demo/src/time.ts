import { OffsetDateTime } from '@sluice/schemas';
import { DateTime, IANAZone } from 'luxon';
import { Weighted, type Prng } from './prng.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** Offsets are tabulated this far past the window, for dates events point at (demo dates, invoice due dates). */
const TABLE_MARGIN_DAYS = 400;

/** Date prefixes cached for formatting: decades of days, a few hundred kB at most. */
const MAX_CACHED_DAYS = 20_000;
const TWO_DIGITS = Array.from({ length: 60 }, (_, n) => String(n).padStart(2, '0'));

/** Sales work Monday to Friday, 08:00-18:00 local time. */
const WORK_START_MINUTE = 8 * 60;
const WORK_END_MINUTE = 18 * 60;

/** When people browse a B2B site, by local hour: office hours dominate, evenings trail off. */
const VISIT_HOUR = new Weighted<number>(
  [0.3, 0.2, 0.1, 0.1, 0.1, 0.3, 0.8, 2, 4.5, 7, 7.5, 7.5, 6, 6.5, 7, 7, 6, 4.5, 3, 2.5, 2.2, 1.8, 1.2, 0.6].map((w, hour) => [hour, w] as const),
);

/** The `end` option as epoch ms; an instant without an offset would mean a different moment in every zone, so it is refused. */
export function endInstantOf(end: string | undefined): number | undefined {
  if (end === undefined) return undefined;
  // the one rule for instants the events themselves follow: a demo ending outside it would write events the API refuses
  if (!OffsetDateTime.safeParse(end).success) throw new RangeError(`end must be an ISO 8601 instant with an offset or Z, e.g. 2026-12-07T12:00:00Z, got "${end}"`);
  return DateTime.fromISO(end, { setZone: true }).toMillis();
}

/**
 * The business's clock: instants are epoch milliseconds inside the simulation
 * and become ISO strings with the zone's offset only when an event is written.
 * Zone offsets are tabulated once (luxon finds the DST transitions), so
 * formatting an instant costs a binary search and a Date.toISOString, not a
 * luxon DateTime per event.
 */
export class BusinessClock {
  readonly zone: string;
  /** First instant of the window: local midnight of the start date. */
  readonly startMs: number;
  /** End of the window (exclusive): start plus `months` calendar months, or the `end` instant when that is earlier. */
  readonly endMs: number;
  /** Local days in the window. */
  readonly days: number;
  private readonly startLocalMs: number;
  private readonly tableFrom: number;
  private readonly tableTo: number;
  /** `changeAt[i]` is the first instant at which `offsetAt[i]` (minutes) applies. */
  private readonly changeAt: number[] = [];
  private readonly offsetAt: number[] = [];
  private readonly offsetText = new Map<number, string>();
  private readonly datePrefix = new Map<number, string>();

  /** `end` (epoch ms) cuts the window short: a demo written today ends now, never in the future. */
  constructor(zone: string, start: string, months: number, end?: number) {
    if (!IANAZone.isValidZone(zone)) throw new RangeError(`unknown time zone "${zone}" (use an IANA name such as Europe/Berlin)`);
    if (!Number.isInteger(months) || months < 1) throw new RangeError(`months must be a positive integer, got ${months}`);
    const first = DateTime.fromISO(start, { zone });
    if (!first.isValid) throw new RangeError(`start must be an ISO date such as 2025-01-01, got "${start}" (${first.invalidExplanation ?? first.invalidReason})`);
    const startDay = first.startOf('day');
    const monthsEnd = startDay.plus({ months }).toMillis();
    if (end !== undefined && !(end > startDay.toMillis())) throw new RangeError(`the demo's end must be after its start (${startDay.toISO()})`);
    this.zone = zone;
    this.startMs = startDay.toMillis();
    this.endMs = Math.min(monthsEnd, end ?? Infinity);
    this.startLocalMs = this.startMs + startDay.offset * MINUTE;
    // the last day may be cut short by `end`: it still counts, its later hours are clipped like any journey past the end
    this.days = Math.ceil(DateTime.fromMillis(this.endMs, { zone }).diff(startDay, 'days').days - 1e-9);
    this.tableFrom = this.startMs - 7 * DAY;
    this.tableTo = this.endMs + TABLE_MARGIN_DAYS * DAY;
    this.tabulateOffsets();
  }

  private tabulateOffsets(): void {
    let at = this.tableFrom;
    let offset = this.lookUpOffset(at);
    this.changeAt.push(at);
    this.offsetAt.push(offset);
    while (at < this.tableTo) {
      const next = at + DAY;
      const nextOffset = this.lookUpOffset(next);
      if (nextOffset !== offset) {
        // the offset changed within this day: bisect to the minute it did
        let lo = at;
        let hi = next;
        while (hi - lo > MINUTE) {
          const mid = lo + Math.floor((hi - lo) / 2 / MINUTE) * MINUTE;
          if (this.lookUpOffset(mid) === offset) lo = mid;
          else hi = mid;
        }
        this.changeAt.push(hi);
        this.offsetAt.push(nextOffset);
        offset = nextOffset;
      }
      at = next;
    }
  }

  private lookUpOffset(ms: number): number {
    return DateTime.fromMillis(ms, { zone: this.zone }).offset;
  }

  /** The zone's UTC offset in minutes at an instant. */
  offsetMinutes(ms: number): number {
    if (ms < this.tableFrom || ms >= this.tableTo) return this.lookUpOffset(ms);
    let lo = 0;
    let hi = this.changeAt.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.changeAt[mid] as number) <= ms) lo = mid;
      else hi = mid - 1;
    }
    return this.offsetAt[lo] as number;
  }

  /** ISO 8601 with the zone's offset at that instant, to the second: 2026-03-02T09:15:00+01:00. */
  format(ms: number): string {
    const offset = this.offsetMinutes(ms);
    const local = ms + offset * MINUTE;
    const day = Math.floor(local / DAY);
    // formatting is the hot path of the generator: a day's date prefix is made once, the time of day by table
    let date = this.datePrefix.get(day);
    if (date === undefined) {
      date = new Date(day * DAY).toISOString().slice(0, 11);
      if (this.datePrefix.size < MAX_CACHED_DAYS) this.datePrefix.set(day, date);
    }
    let seconds = Math.floor((local - day * DAY) / 1000);
    const hours = Math.floor(seconds / 3600);
    seconds -= hours * 3600;
    const minutes = Math.floor(seconds / 60);
    seconds -= minutes * 60;
    return `${date}${TWO_DIGITS[hours]}:${TWO_DIGITS[minutes]}:${TWO_DIGITS[seconds]}${this.offsetString(offset)}`;
  }

  private offsetString(offset: number): string {
    let text = this.offsetText.get(offset);
    if (text === undefined) {
      const abs = Math.abs(offset);
      text = `${offset < 0 ? '-' : '+'}${TWO_DIGITS[Math.floor(abs / 60)]}:${TWO_DIGITS[abs % 60]}`;
      this.offsetText.set(offset, text);
    }
    return text;
  }

  /** Wall-clock time as if it were UTC (for day and hour arithmetic). */
  private toLocal(ms: number): number {
    return ms + this.offsetMinutes(ms) * MINUTE;
  }

  /** The instant a local wall-clock time denotes (a time skipped by DST lands an hour later). */
  private fromLocal(localMs: number): number {
    const guess = localMs - this.offsetMinutes(localMs) * MINUTE;
    return localMs - this.offsetMinutes(guess) * MINUTE;
  }

  /** Local calendar year and month (1-12) of an instant: campaigns and webinars are named by them. */
  localYearMonth(ms: number): { year: number; month: number } {
    const local = new Date(this.toLocal(ms));
    return { year: local.getUTCFullYear(), month: local.getUTCMonth() + 1 };
  }

  /**
   * The instant itself if it falls in working hours, else the next working
   * morning plus `jitterMinutes` (people do not all start at 08:00 sharp).
   */
  nextWorkingTime(ms: number, jitterMinutes: number): number {
    const local = this.toLocal(ms);
    let day = Math.floor(local / DAY);
    const minute = (local - day * DAY) / MINUTE;
    if (weekdayOf(day) < 5 && minute >= WORK_START_MINUTE && minute < WORK_END_MINUTE) return ms;
    if (minute >= WORK_START_MINUTE) day += 1;
    while (weekdayOf(day) >= 5) day += 1;
    return this.fromLocal(day * DAY + (WORK_START_MINUTE + jitterMinutes) * MINUTE);
  }

  /**
   * `days` working days after the instant (or after the next working time,
   * when it falls outside working hours), at the same time of day: the cadence
   * of a lead's next steps. Never earlier than the instant.
   */
  afterWorkingDays(ms: number, days: number, rng: Prng): number {
    const start = this.nextWorkingTime(ms, rng.int(WORK_END_MINUTE - WORK_START_MINUTE));
    const whole = Math.round(days);
    if (whole <= 0) return start;
    const local = this.toLocal(start);
    let day = Math.floor(local / DAY);
    const timeOfDay = local - day * DAY;
    for (let remaining = whole; remaining > 0; ) {
      day += 1;
      if (weekdayOf(day) < 5) remaining -= 1;
    }
    return this.fromLocal(day * DAY + timeOfDay);
  }

  /**
   * When a visitor first shows up: any day of the window (weekdays about three
   * times as busy as weekends, traffic growing over the window), at an hour
   * drawn from the browsing-hours curve.
   */
  randomVisitStart(rng: Prng): number {
    let day: number;
    for (;;) {
      day = rng.int(this.days);
      const weekdayWeight = weekdayOf(Math.floor(this.startLocalMs / DAY) + day) < 5 ? 1 : 0.35;
      const growth = 0.7 + (0.6 * day) / this.days;
      if (rng.next() * 1.3 < weekdayWeight * growth) break;
    }
    const minuteOfDay = VISIT_HOUR.pick(rng) * 60 + rng.int(60);
    return this.fromLocal(this.startLocalMs + day * DAY + minuteOfDay * MINUTE + rng.int(60) * 1000);
  }
}

/** 0 = Monday ... 6 = Sunday, for a count of days since 1970-01-01 (a Thursday). */
function weekdayOf(epochDay: number): number {
  return (((epochDay + 3) % 7) + 7) % 7;
}

export const DURATION = { MINUTE, HOUR, DAY } as const;
