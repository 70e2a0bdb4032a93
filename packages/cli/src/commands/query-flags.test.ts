import { describe, expect, it } from 'vitest';
import { instantOf } from './query-flags.js';

describe('instantOf: the dates a query flag takes, in the business time zone', () => {
  it('given a day, a month or a quarter, then --from is its first local midnight and --to the midnight after it', () => {
    expect(instantOf('2026-03-29', 'Europe/Berlin', 'from')).toBe('2026-03-29T00:00:00+01:00');
    expect(instantOf('2026-03', 'Europe/Berlin', 'from')).toBe('2026-03-01T00:00:00+01:00');
    // March ends after the switch to summer time: the midnight after it is +02:00
    expect(instantOf('2026-03', 'Europe/Berlin', 'to', 'end')).toBe('2026-04-01T00:00:00+02:00');
    expect(instantOf('2026-Q4', 'America/New_York', 'from')).toBe('2026-10-01T00:00:00-04:00');
    expect(instantOf('2026-q4', 'America/New_York', 'to', 'end')).toBe('2027-01-01T00:00:00-05:00');
    // a day at the end edge is still its own midnight: ranges end exclusive, as they always did
    expect(instantOf('2026-04-01', 'UTC', 'to', 'end')).toBe('2026-04-01T00:00:00Z');
    expect(instantOf('2026-04-01T10:00:00+09:00', 'UTC', 'to', 'end')).toBe('2026-04-01T10:00:00+09:00');
  });

  it('given no real date or another format, then the error names the flag', () => {
    expect(() => instantOf('2026-13', 'UTC', 'from')).toThrow('--from takes YYYY-MM-DD, YYYY-MM, YYYY-Qn');
    expect(() => instantOf('2026-02-30', 'UTC', 'to', 'end')).toThrow('--to takes');
    expect(() => instantOf('2026-Q5', 'UTC', 'as-of')).toThrow('--as-of takes');
    expect(() => instantOf('2026-04-01T10:00:00', 'UTC', 'from')).toThrow('got "2026-04-01T10:00:00"');
  });
});
