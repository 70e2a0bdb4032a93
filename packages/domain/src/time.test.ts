import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { instantOf } from './time.js';

describe('instantOf', () => {
  it.each([
    '2026-03-01T10:00Z',
    '2026-03-01T10:00:00+08:00',
    '2028-02-29T23:59:59-05:30',
    '1969-12-31T23:59:59.999Z',
    '2026-03-01T10:00:00.5+08:00',
    '2026-03-01T10:00:00.123456789Z',
    '0001-01-01T00:00:00Z',
  ])('agrees with Date.parse on %s', (text) => {
    expect(instantOf(text)).toBe(Date.parse(text));
  });

  it('agrees with Date.parse on any instant in any offset', () => {
    // the offsets real zones have: -12:00 to +14:00
    const offsets = fc.integer({ min: -12 * 4, max: 14 * 4 }).map((quarters) => [quarters < 0 ? '-' : '+', Math.floor(Math.abs(quarters) / 4), (Math.abs(quarters) % 4) * 15] as const);
    fc.assert(
      fc.property(fc.integer({ min: -62_135_596_800_000 + 86_400_000, max: 253_402_300_799_000 - 86_400_000 }), offsets, fc.boolean(), (ms, [sign, h, m], fraction) => {
        const utc = new Date(ms).toISOString();
        const shifted = new Date(ms + (sign === '+' ? 1 : -1) * (h * 60 + m) * 60_000).toISOString().slice(0, fraction ? 23 : 19);
        const text = `${shifted}${sign}${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`;
        expect(instantOf(utc)).toBe(ms);
        expect(instantOf(text)).toBe(Date.parse(text));
      }),
      { seed: 7, numRuns: 2000 },
    );
  });

  it('rejects text that is not an instant', () => {
    expect(() => instantOf('yesterday')).toThrow(/not an ISO 8601 instant/);
  });

  it.each(['2026-03-01T10:00:00+24:00', '2026-03-01T10:00:00+99:99', '2026-03-01T10:00:00-12:30', '2026-03-01T10:00:00+14:01', '2026-13-01T10:00:00Z', '2026-02-29T10:00:00Z', '2026-03-01T24:00:00Z', '2026-03-01T10:60:00Z', '2026-03-01T10:00:60Z'])(
    'rejects %s: no zone has that offset, or no calendar that field, as the event schema says',
    (text) => {
      expect(() => instantOf(text)).toThrow(/not an ISO 8601 instant/);
    },
  );
});
