import { describe, expect, it } from 'vitest';
import { LocalDays } from './local-day.js';

describe('local days', () => {
  it('given instants around midnight and DST changes in Berlin, when bucketed, then each gets its local calendar date', () => {
    const days = new LocalDays('Europe/Berlin');
    const at = (iso: string) => days.dateOf(Date.parse(iso));
    expect(at('2026-03-01T22:59:59.999Z')).toBe('2026-03-01');
    expect(at('2026-03-01T23:00:00.000Z')).toBe('2026-03-02');
    // 2026-03-29 has 23 hours (CET -> CEST at 02:00 local)
    expect(at('2026-03-28T23:00:00.000Z')).toBe('2026-03-29');
    expect(at('2026-03-29T21:59:59.999Z')).toBe('2026-03-29');
    expect(at('2026-03-29T22:00:00.000Z')).toBe('2026-03-30');
    // 2026-10-25 has 25 hours
    expect(at('2026-10-24T22:00:00.000Z')).toBe('2026-10-25');
    expect(at('2026-10-25T22:59:59.999Z')).toBe('2026-10-25');
    expect(at('2026-10-25T23:00:00.000Z')).toBe('2026-10-26');
    // asked again, from the cache
    expect(at('2026-03-29T21:59:59.999Z')).toBe('2026-03-29');
  });

  it('given a zone east of UTC by more than half a day, when bucketed, then the dates still follow the zone', () => {
    const days = new LocalDays('Pacific/Kiritimati'); // UTC+14
    expect(days.dateOf(Date.parse('2026-03-01T09:59:59Z'))).toBe('2026-03-01');
    expect(days.dateOf(Date.parse('2026-03-01T10:00:00Z'))).toBe('2026-03-02');
    expect(() => new LocalDays('Mars/Olympus')).toThrow(/unknown time zone/);
  });
});
