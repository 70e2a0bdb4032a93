import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { Prng } from './prng.js';
import { BusinessClock, DURATION } from './time.js';

const offsetOf = (iso: string) => iso.slice(19);
const luxonIso = (ms: number, zone: string) => DateTime.fromMillis(ms, { zone }).set({ millisecond: 0 }).toISO({ suppressMilliseconds: true });

describe('BusinessClock', () => {
  it('given Europe/Berlin, when formatting around the March 2026 DST change, then the offset moves from +01:00 to +02:00 at 01:00 UTC', () => {
    const clock = new BusinessClock('Europe/Berlin', '2026-03-01', 1);
    const change = Date.parse('2026-03-29T01:00:00Z');
    expect(clock.format(change - 1000)).toBe('2026-03-29T01:59:59+01:00');
    expect(clock.format(change)).toBe('2026-03-29T03:00:00+02:00');
    expect(clock.format(Date.parse('2026-03-02T08:15:00Z'))).toBe('2026-03-02T09:15:00+01:00');
    expect(offsetOf(clock.format(Date.parse('2026-03-31T12:00:00Z')))).toBe('+02:00');
  });

  it.each([
    ['Europe/Berlin', '2025-01-01'],
    ['America/New_York', '2025-01-01'],
    ['Asia/Kolkata', '2025-01-01'],
    ['Australia/Lord_Howe', '2025-01-01'],
    ['America/St_Johns', '2025-01-01'],
    ['UTC', '2025-01-01'],
  ])('formats every 97 minutes of a year in %s exactly as luxon does', (zone, start) => {
    const clock = new BusinessClock(zone, start, 12);
    for (let ms = clock.startMs; ms < clock.endMs; ms += 97 * DURATION.MINUTE) {
      const expected = luxonIso(ms, zone)!.replace('Z', '+00:00');
      const actual = clock.format(ms);
      if (actual !== expected) expect(actual).toBe(expected);
    }
  });

  it('starts at local midnight of the start date and spans calendar months', () => {
    const clock = new BusinessClock('Europe/Berlin', '2026-01-15', 3);
    expect(clock.format(clock.startMs)).toBe('2026-01-15T00:00:00+01:00');
    expect(clock.format(clock.endMs)).toBe('2026-04-15T00:00:00+02:00');
    expect(clock.days).toBe(90);
  });

  it('moves a time outside working hours to the next working morning, keeping working times as they are', () => {
    const clock = new BusinessClock('Europe/Berlin', '2026-03-01', 1);
    const fridayEvening = Date.parse('2026-03-27T19:30:00+01:00');
    expect(clock.format(clock.nextWorkingTime(fridayEvening, 15))).toBe('2026-03-30T08:15:00+02:00');
    const tuesdayMorning = Date.parse('2026-03-03T10:00:00+01:00');
    expect(clock.nextWorkingTime(tuesdayMorning, 15)).toBe(tuesdayMorning);
    const mondayBeforeWork = Date.parse('2026-03-02T06:00:00+01:00');
    expect(clock.format(clock.nextWorkingTime(mondayBeforeWork, 0))).toBe('2026-03-02T08:00:00+01:00');
  });

  it('counts working days across a weekend and a DST change, keeping the time of day', () => {
    const clock = new BusinessClock('Europe/Berlin', '2026-03-01', 1);
    const thursday = Date.parse('2026-03-26T10:00:00+01:00');
    expect(clock.format(clock.afterWorkingDays(thursday, 2, new Prng(1)))).toBe('2026-03-30T10:00:00+02:00');
  });

  it('never goes back in time for zero working days, even from an evening', () => {
    const clock = new BusinessClock('Europe/Berlin', '2026-03-01', 1);
    const rng = new Prng(2);
    const wednesdayEvening = Date.parse('2026-03-04T21:00:00+01:00');
    for (let i = 0; i < 200; i++) {
      const next = clock.afterWorkingDays(wednesdayEvening, 0, rng);
      expect(clock.format(next).slice(0, 10)).toBe('2026-03-05');
    }
  });

  it('draws visit starts inside the window, weekdays busier than weekends', () => {
    const clock = new BusinessClock('America/New_York', '2026-01-01', 2);
    const rng = new Prng(5);
    let weekend = 0;
    for (let i = 0; i < 10_000; i++) {
      const at = clock.randomVisitStart(rng);
      expect(at >= clock.startMs && at < clock.endMs).toBe(true);
      const day = DateTime.fromMillis(at, { zone: 'America/New_York' }).weekday;
      if (day >= 6) weekend += 1;
    }
    // 2 of 7 days at about a third of the weekday traffic: ~12%
    expect(weekend / 10_000).toBeGreaterThan(0.08);
    expect(weekend / 10_000).toBeLessThan(0.16);
  });

  it('rejects an unknown zone, a bad start date and a non-positive number of months', () => {
    expect(() => new BusinessClock('Europe/Atlantis', '2026-01-01', 1)).toThrow(/unknown time zone/);
    expect(() => new BusinessClock('Europe/Berlin', 'March', 1)).toThrow(/start must be an ISO date/);
    expect(() => new BusinessClock('Europe/Berlin', '2026-01-01', 0)).toThrow(/months/);
  });
});
