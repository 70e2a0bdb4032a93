import { DateTime } from 'luxon';

const DAY_MS = 86_400_000;

interface LocalDay {
  /** epoch ms of the day's first instant in the zone (luxon startOf('day'), DST-aware) */
  readonly start: number;
  /** epoch ms of the next day's first instant */
  readonly end: number;
  /** the calendar date, YYYY-MM-DD */
  readonly date: string;
}

/**
 * The calendar date of an instant in one IANA zone (luxon decides, so DST days
 * of 23 or 25 hours are right). luxon takes microseconds per call and a replay
 * asks for every stage entry, so each local day is computed once and found
 * again by the UTC day numbers it overlaps.
 */
export class LocalDays {
  readonly #zone: string;
  readonly #byUtcDay = new Map<number, LocalDay[]>();

  constructor(zone: string) {
    if (!DateTime.local().setZone(zone).isValid) throw new Error(`unknown time zone ${zone}`);
    this.#zone = zone;
  }

  dateOf(at: number): string {
    const candidates = this.#byUtcDay.get(Math.floor(at / DAY_MS));
    if (candidates !== undefined) for (const d of candidates) if (at >= d.start && at < d.end) return d.date;
    return this.#remember(at).date;
  }

  #remember(at: number): LocalDay {
    const local = DateTime.fromMillis(at, { zone: this.#zone });
    const start = local.startOf('day');
    const day: LocalDay = { start: start.toMillis(), end: start.plus({ days: 1 }).toMillis(), date: local.toISODate()! };
    for (let utcDay = Math.floor(day.start / DAY_MS); utcDay <= Math.floor((day.end - 1) / DAY_MS); utcDay++) {
      const list = this.#byUtcDay.get(utcDay);
      if (list === undefined) this.#byUtcDay.set(utcDay, [day]);
      else list.push(day);
    }
    return day;
  }
}
