import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import {
  allocateWhole,
  arrivalShares,
  daysOf,
  dayNumber,
  instantInZone,
  isoOf,
  parsePeriod,
  shareClosingInPeriod,
  stageCalendar,
} from './calendar.js';
import type { DayDistribution } from './lag.js';

const fixedLag = (days: number): DayDistribution => ({ weights: [...new Array<number>(days).fill(0), 1] });
const localDay = (iso: string, zone: string): number => dayNumber(DateTime.fromISO(iso, { zone }));
const LONG_AGO = localDay('2000-01-01', 'UTC');

/** Volumes per month for a stage of `volume` whose lag to the deal is `lag`. */
function monthsFor(label: string, zone: string, lag: DayDistribution, volume: number, asOfDay = LONG_AGO) {
  return stageCalendar('mql', volume, arrivalShares(parsePeriod(label, zone), lag, asOfDay));
}

describe('given period labels in a business time zone', () => {
  it('when parsing a quarter in Europe/Berlin, then it runs from local midnight to local midnight across the DST change', () => {
    const q1 = parsePeriod('2027-Q1', 'Europe/Berlin');

    expect(q1.kind).toBe('quarter');
    expect(isoOf(q1.start)).toBe('2027-01-01T00:00:00.000+01:00');
    expect(isoOf(q1.end)).toBe('2027-04-01T00:00:00.000+02:00'); // summer time began on 28 March
    expect(daysOf(q1)).toHaveLength(90); // 31 + 28 + 31
  });

  it('when parsing a month holding a DST change, then it has its calendar days, not hours / 24', () => {
    const march = parsePeriod('2027-03', 'Europe/Berlin');

    expect(march.end.diff(march.start, 'hours').hours).toBe(743); // one hour short
    expect(daysOf(march)).toHaveLength(31);
    const november = parsePeriod('2026-11', 'America/New_York');
    expect(isoOf(november.start)).toBe('2026-11-01T00:00:00.000-04:00');
    expect(isoOf(november.end)).toBe('2026-12-01T00:00:00.000-05:00');
    expect(daysOf(november)).toHaveLength(30);
  });

  it('when reading asOf, then an instant is moved into the zone and a bare date means local midnight', () => {
    expect(isoOf(instantInZone('2027-03-31T22:30:00Z', 'Europe/Berlin'))).toBe('2027-04-01T00:30:00.000+02:00');
    expect(isoOf(instantInZone('2027-01-15', 'Europe/Berlin'))).toBe('2027-01-15T00:00:00.000+01:00');
    expect(dayNumber(instantInZone('2027-01-01T03:00:00Z', 'America/New_York'))).toBe(localDay('2026-12-31', 'UTC'));
  });
});

describe('given volumes that must arrive ahead of their deals', () => {
  it('when the lag is zero, then a quarter spreads its volume over its months by days', () => {
    // deals close evenly over 90 days: January 31/90, February 28/90, March 31/90
    expect(monthsFor('2027-Q1', 'Europe/Berlin', fixedLag(0), 90).months).toEqual([
      { month: '2027-01', volume: 31, dueBeforeAsOf: 0 },
      { month: '2027-02', volume: 28, dueBeforeAsOf: 0 },
      { month: '2027-03', volume: 31, dueBeforeAsOf: 0 },
    ]);
  });

  it('when a January deal has a 45-day lag, then its volume arrives in November and December of the year before', () => {
    // closing days 1..31 January 2027 minus 45 days = 17 November .. 17 December 2026:
    // 14 days in November (17..30), 17 days in December (1..17)
    expect(monthsFor('2027-01', 'Europe/Berlin', fixedLag(45), 31).months).toEqual([
      { month: '2026-11', volume: 14, dueBeforeAsOf: 0 },
      { month: '2026-12', volume: 17, dueBeforeAsOf: 0 },
    ]);
  });

  it('when shifting back across the spring DST change in Berlin, then a 30-day lag from 31 March lands on 1 March, not 28 February', () => {
    // closing days 1..31 March 2027 minus 30 days = 30 January .. 1 March:
    // January 2 days (30, 31), February 28 days, March 1 day (from 31 March).
    // Subtracting 30 x 24 h from local midnights after 28 March would land at 23:00 the day before,
    // moving 29..31 March's volume into February and leaving March empty.
    expect(monthsFor('2027-03', 'Europe/Berlin', fixedLag(30), 31).months).toEqual([
      { month: '2027-01', volume: 2, dueBeforeAsOf: 0 },
      { month: '2027-02', volume: 28, dueBeforeAsOf: 0 },
      { month: '2027-03', volume: 1, dueBeforeAsOf: 0 },
    ]);
  });

  it('when shifting back across the spring DST change in New York, then April deals with a 31-day lag all need March arrivals', () => {
    // closing days 1..30 April 2027 minus 31 days = 1..30 March; DST began 14 March 2027
    expect(monthsFor('2027-04', 'America/New_York', fixedLag(31), 30).months).toEqual([
      { month: '2027-03', volume: 30, dueBeforeAsOf: 0 },
    ]);
  });

  it('when asOf falls inside the arrival window, then the days before it are due before asOf', () => {
    // arrivals 17 November .. 17 December 2026 (see above), asOf 1 December 2026:
    // November's 14 of 31 days are late; volume 62 splits 28 / 34
    const calendar = monthsFor('2027-01', 'Europe/Berlin', fixedLag(45), 62, localDay('2026-12-01', 'Europe/Berlin'));

    expect(calendar.months).toEqual([
      { month: '2026-11', volume: 28, dueBeforeAsOf: 28 },
      { month: '2026-12', volume: 34, dueBeforeAsOf: 0 },
    ]);
    expect(calendar.dueBeforeAsOf).toBe(28);
  });

  it('when the lag is a distribution, then each month gets its weighted share and months add up to the volume', () => {
    // a 1 February deal with lag 0 (half) or 1 day (half): half arrives 1 February, half 31 January;
    // February 2027 has 28 closing days, so January gets 0.5 / 28 of the volume
    const lag: DayDistribution = { weights: [0.5, 0.5] };
    const calendar = monthsFor('2027-02', 'UTC', lag, 560);

    expect(calendar.months).toEqual([
      { month: '2027-01', volume: 10, dueBeforeAsOf: 0 }, // 560 x 0.5 / 28
      { month: '2027-02', volume: 550, dueBeforeAsOf: 0 },
    ]);
  });
});

describe('given a lead held in a stage on asOf', () => {
  const asOfDay = localDay('2026-12-01', 'Europe/Berlin');

  it('when its lag to the deal lands inside the period, then it can close in time', () => {
    // 1 December + 45 days = 15 January
    expect(shareClosingInPeriod(parsePeriod('2027-01', 'Europe/Berlin'), fixedLag(45), asOfDay)).toBe(1);
    expect(shareClosingInPeriod(parsePeriod('2027-02', 'Europe/Berlin'), fixedLag(45), asOfDay)).toBe(0);
  });

  it('when only part of its lag distribution lands inside the period, then that part is its chance', () => {
    // lags 20, 45, 70 days equally likely: 21 December, 15 January, 9 February; one of three is in January
    const weights = new Array<number>(71).fill(0);
    weights[20] = 1 / 3;
    weights[45] = 1 / 3;
    weights[70] = 1 / 3;
    expect(shareClosingInPeriod(parsePeriod('2027-01', 'Europe/Berlin'), { weights }, asOfDay)).toBeCloseTo(1 / 3, 12);
  });
});

describe('given a whole volume to split by shares', () => {
  it('when shares do not divide it evenly, then largest remainders get the extra units and the total is kept', () => {
    // 7 x (0.5, 0.25, 0.25) = 3.5, 1.75, 1.75 -> floors 3, 1, 1; two units left go to the .75 remainders
    expect(allocateWhole(7, [0.5, 0.25, 0.25])).toEqual([3, 2, 2]);
  });

  it('when remainders tie, then the earlier bucket gets the unit', () => {
    expect(allocateWhole(10, [1, 1, 1])).toEqual([4, 3, 3]);
  });

  it('when there is nothing to split, then every bucket gets zero', () => {
    expect(allocateWhole(0, [0.2, 0.8])).toEqual([0, 0]);
  });
});
