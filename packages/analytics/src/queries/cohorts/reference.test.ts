import { describe, expect, it } from 'vitest';
import type { FunnelTouchpoint } from '@sluice/domain';
import type { RetentionSpec } from './reference.js';
import { periodIndexOf, retentionCohorts } from './reference.js';

let position = 0;
const tp = (actorId: string, type: string, iso: string, channel = ''): FunnelTouchpoint => ({
  actorId,
  occurredAtMs: Date.parse(iso),
  position: ++position,
  type,
  fields: { source: '', channel, campaign: '', accountId: '' },
  properties: {},
});
const spec = (more: Partial<RetentionSpec> = {}): RetentionSpec => ({
  period: 'month',
  timeZone: 'UTC',
  fromMs: Date.parse('2026-01-01T00:00:00Z'),
  toMs: Date.parse('2027-01-01T00:00:00Z'),
  purchaseTypes: ['payment'],
  retentionTypes: ['renewal', 'upsell'],
  offsets: 3,
  ...more,
});

describe('retention cohorts reference, by example', () => {
  it('given customers of two months, when they renew, then each offset counts a customer once', () => {
    const log = [
      tp('A', 'payment', '2026-01-31T12:00:00Z'),
      tp('A', 'renewal', '2026-02-01T12:00:00Z'), // Jan 31 -> Feb 1: offset 1
      tp('A', 'upsell', '2026-02-20T12:00:00Z'), // offset 1 again: still one customer
      tp('B', 'payment', '2026-01-05T12:00:00Z'),
      tp('B', 'upsell', '2026-01-06T12:00:00Z'), // offset 0
      tp('B', 'renewal', '2026-04-05T12:00:00Z'), // offset 3
      tp('B', 'renewal', '2026-05-05T12:00:00Z'), // offset 4: beyond offsets = 3
      tp('C', 'payment', '2026-02-10T12:00:00Z'),
      tp('C', 'visit', '2026-03-10T12:00:00Z'), // not a retention event
    ];
    // January: A and B (2); offset 0: B, offset 1: A, offset 3: B -> [1, 1, 0, 1] / 2
    // February: C alone, never retained
    expect(retentionCohorts(log, spec())).toEqual([
      { period: '2026-01-01', periodLabel: '2026-01', segment: '', customers: 2, retained: [1, 1, 0, 1], rates: [0.5, 0.5, 0, 0.5] },
      { period: '2026-02-01', periodLabel: '2026-02', segment: '', customers: 1, retained: [0, 0, 0, 0], rates: [0, 0, 0, 0] },
    ]);
  });

  it('given accounts, when counting accounts, then an account is one customer from its first lead to buy, retained by any of its leads', () => {
    const log = [
      tp('A1', 'payment', '2026-01-10T12:00:00Z'),
      tp('A2', 'payment', '2026-01-20T12:00:00Z'),
      tp('A2', 'renewal', '2026-02-03T12:00:00Z'),
      tp('B', 'payment', '2026-01-05T12:00:00Z'),
      tp('C1', 'payment', '2026-02-02T12:00:00Z'),
      tp('C1', 'renewal', '2026-03-01T12:00:00Z'),
      tp('C2', 'payment', '2026-01-28T12:00:00Z'),
    ];
    const accounts: Record<string, string> = { A1: 'acme', A2: 'acme', C1: 'beta', C2: 'beta' };
    const accountOf = (actorId: string) => accounts[actorId] ?? '';
    // by lead: January A1, A2, B, C2 (A2 renewed in February: offset 1); February C1 (renewed in March: offset 1)
    expect(retentionCohorts(log, spec(), undefined, accountOf).map((r) => [r.periodLabel, r.customers, r.retained])).toEqual([
      ['2026-01', 4, [0, 1, 0, 0]],
      ['2026-02', 1, [0, 1, 0, 0]],
    ]);
    // by account: acme first bought Jan 10 (A1), beta Jan 28 (C2), B (no account) Jan 5: three January customers;
    // acme is retained in February by A2's renewal (offset 1), beta in March by C1's (offset 2); C1's own payment is no retention
    expect(retentionCohorts(log, spec({ unit: 'accounts' }), undefined, accountOf).map((r) => [r.periodLabel, r.customers, r.retained])).toEqual([
      ['2026-01', 3, [0, 1, 1, 0]],
    ]);
    // the segment is read from the actor that made the account's first purchase
    const byActor = retentionCohorts(log, spec({ unit: 'accounts' }), (actorId) => actorId, accountOf);
    expect(byActor.map((r) => [r.segment, r.retained])).toEqual([
      ['A1', [0, 1, 0, 0]],
      ['B', [0, 0, 0, 0]],
      ['C2', [0, 0, 1, 0]],
    ]);
  });

  it('given a business zone, then cohorts and offsets follow local dates (New York, around the new year and DST)', () => {
    const log = [
      // 2026-01-01 03:00 UTC is still 2025-12-31 22:00 in New York: December cohort
      tp('A', 'payment', '2026-01-01T03:00:00Z'),
      // 2026-03-01 04:30 UTC is 2026-02-28 23:30 EST: offset 2 (Dec -> Feb)
      tp('A', 'renewal', '2026-03-01T04:30:00Z'),
      // 2026-03-08 (DST begins) 12:00 UTC is 08:00 EDT in March: offset 3
      tp('A', 'upsell', '2026-03-08T12:00:00Z'),
    ];
    const zoned = spec({ timeZone: 'America/New_York', fromMs: Date.parse('2025-12-01T05:00:00Z') });
    expect(retentionCohorts(log, zoned)).toEqual([expect.objectContaining({ periodLabel: '2025-12', customers: 1, retained: [0, 0, 1, 1] })]);
    // in UTC the same customer is a January customer, retained in March only (offset 2)
    expect(retentionCohorts(log, spec())).toEqual([expect.objectContaining({ periodLabel: '2026-01', retained: [0, 0, 1, 0] })]);
  });

  it('given quarters, then offsets are quarter differences of local dates', () => {
    const log = [tp('A', 'payment', '2026-03-31T12:00:00Z'), tp('A', 'renewal', '2026-04-01T12:00:00Z'), tp('A', 'renewal', '2026-12-31T12:00:00Z')];
    // Q1 -> Q2: offset 1; Q1 -> Q4: offset 3
    expect(retentionCohorts(log, spec({ period: 'quarter' }))).toEqual([expect.objectContaining({ period: '2026-01-01', periodLabel: '2026-Q1', retained: [0, 1, 0, 1] })]);
  });

  it('given repeat purchases, then the first one (by time, then log position) places the customer and the others may retain it', () => {
    const log = [
      tp('A', 'payment', '2026-02-01T00:00:00Z'), // position p: first of the two at this millisecond
      tp('A', 'payment', '2026-02-01T00:00:00Z'), // same millisecond, later position: a retention event when payment retains
      tp('B', 'payment', '2025-12-20T00:00:00Z'), // first purchase before the range: no cohort
      tp('B', 'payment', '2026-02-02T00:00:00Z'),
      tp('C', 'renewal', '2026-01-15T00:00:00Z'), // before C's first purchase: not counted
      tp('C', 'payment', '2026-02-03T00:00:00Z'),
    ];
    expect(retentionCohorts(log, spec({ retentionTypes: ['payment', 'renewal'] }))).toEqual([
      { period: '2026-02-01', periodLabel: '2026-02', segment: '', customers: 2, retained: [1, 0, 0, 0], rates: [0.5, 0, 0, 0] },
    ]);
  });

  it('given a segment from the first purchase and a limit, then the largest segments are kept', () => {
    const log = [tp('A', 'payment', '2026-01-02T00:00:00Z', 'ads'), tp('A', 'payment', '2026-01-03T00:00:00Z', 'email'), tp('B', 'payment', '2026-02-02T00:00:00Z', 'ads'), tp('C', 'payment', '2026-01-02T00:00:00Z', 'email')];
    const byChannel = (_: string, first: FunnelTouchpoint) => first.fields.channel;
    // A counts under its first purchase's channel (ads): ads has 2 customers, email 1
    expect(retentionCohorts(log, spec(), byChannel).map((r) => [r.periodLabel, r.segment, r.customers])).toEqual([
      ['2026-01', 'ads', 1],
      ['2026-01', 'email', 1],
      ['2026-02', 'ads', 1],
    ]);
    expect(retentionCohorts(log, spec({ segmentLimit: 1 }), byChannel).map((r) => [r.periodLabel, r.segment])).toEqual([
      ['2026-01', 'ads'],
      ['2026-02', 'ads'],
    ]);
  });

  it('given an as-of instant, then the offsets whose local period begins after it are null, not 0 (they have not happened yet)', () => {
    const log = [tp('A', 'payment', '2026-01-10T12:00:00Z'), tp('A', 'renewal', '2026-02-10T12:00:00Z'), tp('B', 'payment', '2026-02-03T12:00:00Z')];
    // as of Feb 20 in UTC: January's offsets 0 and 1 have begun (Jan, Feb), February's offset 0 only
    expect(retentionCohorts(log, spec({ asOfMs: Date.parse('2026-02-20T00:00:00Z') })).map((r) => [r.periodLabel, r.retained, r.rates])).toEqual([
      ['2026-01', [0, 1, null, null], [0, 1, null, null]],
      ['2026-02', [0, null, null, null], [0, null, null, null]],
    ]);
    // 2026-03-01 03:00 UTC is still February in New York: March (offset 2 of January) has not begun there
    const zoned = spec({ timeZone: 'America/New_York', asOfMs: Date.parse('2026-03-01T03:00:00Z') });
    expect(retentionCohorts(log, zoned).map((r) => r.retained)).toEqual([
      [0, 1, null, null],
      [0, null, null, null],
    ]);
    // the first instant of a period: it has begun
    expect(retentionCohorts(log, spec({ asOfMs: Date.parse('2026-03-01T00:00:00Z') })).map((r) => r.retained)).toEqual([
      [0, 1, 0, null],
      [0, 0, null, null],
    ]);
  });

  it('counts months and quarters since year 0 in the zone', () => {
    expect(periodIndexOf(Date.parse('2026-01-01T03:00:00Z'), 'month', 'America/New_York')).toBe(2025 * 12 + 11);
    expect(periodIndexOf(Date.parse('2026-01-01T03:00:00Z'), 'quarter', 'UTC')).toBe(2026 * 4);
  });
});
