import { describe, expect, it } from 'vitest';
import type { FunnelTouchpoint, StageFact } from '@sluice/domain';
import type { TimeToConvertSpec } from './reference.js';
import { AUTO_HISTOGRAM_EDGES_MS, durationLabel, histogramBucketOf, histogramBuckets, timeToConvert, touchpointTimeToConvert } from './reference.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const t0 = Date.parse('2026-03-02T09:00:00Z');
const fact = (leadId: string, stage: string, enteredAtMs: number, skipped = false): StageFact => ({ leadId, stage, enteredAtMs, skipped });
const spec = (more: Partial<TimeToConvertSpec> = {}): TimeToConvertSpec => ({
  from: 'lead',
  to: 'mql',
  fromMs: Date.parse('2026-03-01T00:00:00Z'),
  toMs: Date.parse('2026-04-01T00:00:00Z'),
  edgesMs: [HOUR, DAY],
  ...more,
});

describe('time to convert reference, by example', () => {
  it('given four leads, when three convert, then count, mean, R-7 median and p90 and the histogram are over the three', () => {
    const facts = [
      fact('A', 'lead', t0),
      fact('A', 'mql', t0 + 30 * 60_000), // 0.5 h: bucket [0, 1h)
      fact('B', 'lead', t0),
      fact('B', 'mql', t0 + 2 * HOUR), // 2 h: bucket [1h, 1d)
      fact('C', 'lead', t0),
      fact('C', 'mql', t0 + 3 * DAY), // 72 h: bucket [1d, inf)
      fact('D', 'lead', t0), // never converts
    ];
    const { buckets, rows } = timeToConvert(facts, spec());
    expect(buckets.map((b) => b.label)).toEqual(['0-1h', '1h-1d', '>=1d']);
    // durations sorted: 0.5h, 2h, 72h; mean (0.5 + 2 + 72) / 3 h = 24.8333 h
    // median: h = 0.5 * 2 + 1 = 2 -> the 2nd value, 2 h
    // p90: h = 0.9 * 2 + 1 = 2.8 -> 2 h + 0.8 * (72 h - 2 h) = 58 h (less a rounding step: 2.8 - 2 is 0.7999999999999998 in floating point, as in ClickHouse)
    expect(rows).toEqual([
      {
        segment: '',
        entered: 4,
        converted: 3,
        meanMs: (0.5 * HOUR + 2 * HOUR + 72 * HOUR) / 3,
        medianMs: 2 * HOUR,
        p90Ms: 2 * HOUR + (2.8 - 2) * 70 * HOUR,
        histogram: [1, 1, 1],
      },
    ]);
  });

  it('given a duration exactly on an edge, then it falls in the bucket starting there; a window end is inclusive', () => {
    const facts = [fact('A', 'lead', t0), fact('A', 'mql', t0 + HOUR), fact('B', 'lead', t0), fact('B', 'mql', t0 + DAY), fact('C', 'lead', t0), fact('C', 'mql', t0 + DAY + 1)];
    // window 1 day: A (1 h) and B (exactly 1 day) convert, C (1 day + 1 ms) does not
    const [row] = timeToConvert(facts, spec({ windowMs: DAY })).rows;
    expect(row).toMatchObject({ entered: 3, converted: 2, histogram: [0, 1, 1] });
  });

  it('given skipped stages and a to before the from, then a skip converts in 0 ms and the earlier to never converts', () => {
    // B jumped lead -> sql: mql is skipped at the jump's time, so B converted in 0 ms
    const facts = [fact('B', 'lead', t0 + HOUR), fact('B', 'mql', t0 + HOUR, true), fact('E', 'mql', t0), fact('E', 'lead', t0 + HOUR)];
    const [row] = timeToConvert(facts, spec()).rows;
    expect(row).toMatchObject({ entered: 2, converted: 1, meanMs: 0, medianMs: 0, p90Ms: 0, histogram: [1, 0, 0] });
  });

  it('given entries outside [from, to) and facts after asOf, then they are left out', () => {
    const facts = [
      fact('A', 'lead', Date.parse('2026-02-28T23:59:59.999Z')), // before the range
      fact('A', 'mql', t0),
      fact('B', 'lead', Date.parse('2026-03-01T00:00:00Z')), // the range's first millisecond
      fact('B', 'mql', t0),
      fact('C', 'lead', Date.parse('2026-04-01T00:00:00Z')), // the range's end: out
    ];
    expect(timeToConvert(facts, spec()).rows).toEqual([expect.objectContaining({ entered: 1, converted: 1 })]);
    // as of just before B's mql, B has not converted yet
    expect(timeToConvert(facts, spec({ asOfMs: t0 - 1 })).rows).toEqual([expect.objectContaining({ entered: 1, converted: 0, meanMs: null, medianMs: null, histogram: [0, 0, 0] })]);
  });

  it('given automatic buckets, then the ladder is trimmed to the buckets used in any segment', () => {
    const facts = [fact('A', 'lead', t0), fact('A', 'mql', t0 + 3 * HOUR), fact('B', 'lead', t0), fact('B', 'mql', t0 + 10 * DAY), fact('C', 'lead', t0)];
    const segments: Record<string, string> = { A: 'x', B: 'y', C: 'z' };
    const { buckets, rows } = timeToConvert(facts, spec({ edgesMs: 'auto' }), (lead) => segments[lead]!);
    // 3 h lies in [1h, 6h), 10 d in [7d, 14d): the buckets 1h-6h .. 7d-14d are kept
    expect(buckets.map((b) => b.label)).toEqual(['1h-6h', '6h-1d', '1d-2d', '2d-7d', '7d-14d']);
    expect(rows.map((r) => [r.segment, r.entered, r.histogram])).toEqual([
      ['x', 1, [1, 0, 0, 0, 0]],
      ['y', 1, [0, 0, 0, 0, 1]],
      ['z', 1, [0, 0, 0, 0, 0]],
    ]);
    // nothing converted at all: no buckets
    expect(timeToConvert([fact('C', 'lead', t0)], spec({ edgesMs: 'auto' })).buckets).toEqual([]);
  });

  it('given a segment limit, then the segments with the most entries are kept', () => {
    const facts = [fact('A', 'lead', t0), fact('B', 'lead', t0), fact('C', 'lead', t0)];
    const segments: Record<string, string> = { A: 'b', B: 'b', C: 'a' };
    expect(timeToConvert(facts, spec({ segmentLimit: 1 }), (lead) => segments[lead]!).rows.map((r) => [r.segment, r.entered])).toEqual([['b', 2]]);
  });

  it('labels durations in the largest unit that divides them, and buckets by edges at or below', () => {
    expect([0, 1500, 90 * 60_000, 7 * DAY, 36 * HOUR].map(durationLabel)).toEqual(['0', '1500ms', '90m', '7d', '36h']);
    expect(histogramBuckets([HOUR])).toEqual([
      { fromMs: 0, toMs: HOUR, label: '0-1h' },
      { fromMs: HOUR, toMs: null, label: '>=1h' },
    ]);
    expect([0, HOUR - 1, HOUR, DAY].map((d) => histogramBucketOf([HOUR, DAY], d))).toEqual([0, 0, 1, 2]);
    expect(AUTO_HISTOGRAM_EDGES_MS.map(durationLabel).join(' ')).toBe('1m 5m 15m 1h 6h 1d 2d 7d 14d 30d 60d 90d 180d 365d 730d');
  });
});

describe('time to convert trend per period, by example', () => {
  // Two months in Europe/Berlin (UTC+1 in winter), leads in segments x and y, edges 1 h and 1 d:
  //   A (x) lead 5 Jan 10:00,  mql 2 h later                      -> January, 2 h   (bucket 1h-1d)
  //   B (x) lead 10 Jan 10:00, mql 1 d later                      -> January, 24 h  (bucket >=1d: on the edge)
  //   C (y) lead 20 Jan 10:00, never converts                     -> January, entered only
  //   D (x) lead 31 Jan 23:30 UTC = 1 Feb 00:30 Berlin, mql 6 h   -> FEBRUARY in Berlin (January in UTC), 6 h
  //   E (x) lead 10 Feb 10:00, mql 15 Mar (after the range ends)  -> February, 33 d: the entry's period keeps it
  //   F (y) lead 20 Feb 10:00, mql 30 min later                   -> February, 30 min (bucket 0-1h)
  const facts = [
    fact('A', 'lead', Date.parse('2026-01-05T09:00:00Z')),
    fact('A', 'mql', Date.parse('2026-01-05T11:00:00Z')),
    fact('B', 'lead', Date.parse('2026-01-10T09:00:00Z')),
    fact('B', 'mql', Date.parse('2026-01-11T09:00:00Z')),
    fact('C', 'lead', Date.parse('2026-01-20T09:00:00Z')),
    fact('D', 'lead', Date.parse('2026-01-31T23:30:00Z')),
    fact('D', 'mql', Date.parse('2026-02-01T05:30:00Z')),
    fact('E', 'lead', Date.parse('2026-02-10T09:00:00Z')),
    fact('E', 'mql', Date.parse('2026-03-15T09:00:00Z')),
    fact('F', 'lead', Date.parse('2026-02-20T09:00:00Z')),
    fact('F', 'mql', Date.parse('2026-02-20T09:30:00Z')),
  ];
  const segments: Record<string, string> = { A: 'x', B: 'x', C: 'y', D: 'x', E: 'x', F: 'y' };
  const segmentOf = (lead: string) => segments[lead]!;
  const twoMonths = spec({ fromMs: Date.parse('2026-01-01T00:00:00+01:00'), toMs: Date.parse('2026-03-01T00:00:00+01:00'), period: 'month', timeZone: 'Europe/Berlin' });

  it('given two months and a segment, when asked per month in Berlin, then each (month, segment) has its own statistics, by period', () => {
    const { buckets, rows } = timeToConvert(facts, twoMonths, segmentOf);
    expect(buckets.map((b) => b.label)).toEqual(['0-1h', '1h-1d', '>=1d']);
    expect(rows).toEqual([
      // A 2 h, B 24 h: mean 13 h; median h = 1.5: 2 h + 0.5 x 22 h = 13 h; p90 h = 1.9: 2 h + 0.9 x 22 h (0.9 as 1.9 - 1, as computed)
      { period: '2026-01-01', periodLabel: '2026-01', segment: 'x', entered: 2, converted: 2, meanMs: 13 * HOUR, medianMs: 13 * HOUR, p90Ms: 2 * HOUR + (1.9 - 1) * (22 * HOUR), histogram: [0, 1, 1] },
      { period: '2026-01-01', periodLabel: '2026-01', segment: 'y', entered: 1, converted: 0, meanMs: null, medianMs: null, p90Ms: null, histogram: [0, 0, 0] },
      // D 6 h, E 33 d = 792 h: mean and median 399 h; p90 6 h + 0.9 x 786 h
      { period: '2026-02-01', periodLabel: '2026-02', segment: 'x', entered: 2, converted: 2, meanMs: 399 * HOUR, medianMs: 399 * HOUR, p90Ms: 6 * HOUR + (1.9 - 1) * (786 * HOUR), histogram: [0, 1, 1] },
      { period: '2026-02-01', periodLabel: '2026-02', segment: 'y', entered: 1, converted: 1, meanMs: 30 * 60_000, medianMs: 30 * 60_000, p90Ms: 30 * 60_000, histogram: [1, 0, 0] },
    ]);
  });

  it('given the same log cut in UTC, then D enters in January instead', () => {
    const x = timeToConvert(facts, { ...twoMonths, timeZone: 'UTC' }, segmentOf).rows.filter((r) => r.segment === 'x');
    // January: A, B and D (31 Jan 23:30 UTC); February: E alone
    expect(x.map((r) => [r.periodLabel, r.entered, r.converted])).toEqual([
      ['2026-01', 3, 3],
      ['2026-02', 1, 1],
    ]);
  });

  it('given a segment limit, then segments are ranked by their entries over all periods', () => {
    // x entered 4 times over both months, y twice: x is kept in both
    expect(timeToConvert(facts, { ...twoMonths, segmentLimit: 1 }, segmentOf).rows.map((r) => [r.periodLabel, r.segment, r.entered])).toEqual([
      ['2026-01', 'x', 2],
      ['2026-02', 'x', 2],
    ]);
  });

  it('given automatic buckets, then they are trimmed over every period at once', () => {
    // durations 30 min (February) to 33 d (February), 2 h and 24 h (January): 15m-30d in the ladder, shared by all rows
    const { buckets, rows } = timeToConvert(facts, { ...twoMonths, edgesMs: 'auto' }, segmentOf);
    expect(buckets.map((b) => b.label)).toEqual(['15m-1h', '1h-6h', '6h-1d', '1d-2d', '2d-7d', '7d-14d', '14d-30d', '30d-60d']);
    expect(rows.map((r) => r.histogram)).toEqual([
      [0, 1, 0, 1, 0, 0, 0, 0],
      [0, 0, 0, 0, 0, 0, 0, 0],
      [0, 0, 1, 0, 0, 0, 0, 1],
      [1, 0, 0, 0, 0, 0, 0, 0],
    ]);
  });

  it('given no period, then rows are per segment only and carry no period fields', () => {
    const rows = timeToConvert(facts, { ...twoMonths, period: undefined }, segmentOf).rows;
    expect(rows.map((r) => [r.segment, r.entered, 'period' in r, 'periodLabel' in r])).toEqual([
      ['x', 4, false, false],
      ['y', 2, false, false],
    ]);
  });
});

describe('time to convert between touchpoint steps, by example', () => {
  let position = 0;
  const tp = (actorId: string, type: string, occurredAtMs: number, source = ''): FunnelTouchpoint => ({
    actorId,
    occurredAtMs,
    position: ++position,
    type,
    fields: { source, channel: '', campaign: '', accountId: '' },
    properties: {},
  });
  const steps = { from: { type: 'visit', where: [{ key: 'source', values: ['google'] }] }, to: { type: 'form_submit', where: [] } };
  const range = { fromMs: t0, toMs: t0 + 10 * DAY, edgesMs: [HOUR] };

  it('given actors with several visits, when they submit forms, then each counts once, from its first matching visit in range', () => {
    const log = [
      tp('A', 'visit', t0 - 1, 'google'), // before the range: not A's entry
      tp('A', 'visit', t0 + HOUR, 'google'), // A enters here
      tp('A', 'visit', t0 + 2 * HOUR, 'google'),
      tp('A', 'form_submit', t0 + 3 * HOUR), // 2 h after the entry
      tp('B', 'visit', t0, 'bing'), // does not match the step
      tp('B', 'visit', t0 + HOUR, 'google'),
      tp('B', 'form_submit', t0 + HOUR), // the same millisecond counts: 0 ms
      tp('C', 'form_submit', t0), // a form before the visit
      tp('C', 'visit', t0 + DAY, 'google'), // never converts after it
    ];
    // A: 2 h (bucket >=1h), B: 0 ms (bucket 0-1h), C: entered, not converted
    // mean 1 h; median (h = 1.5) 1 h; p90 (h = 1.9) 0.9 x 2 h
    const { rows } = touchpointTimeToConvert(log, { ...steps, ...range, breakdown: 'source' });
    expect(rows).toEqual([{ segment: 'google', entered: 3, converted: 2, meanMs: HOUR, medianMs: HOUR, p90Ms: (1.9 - 1) * 2 * HOUR, histogram: [1, 1] }]);
    // a window of 1 h leaves A out; as of just before A's form, A has not converted
    expect(touchpointTimeToConvert(log, { ...steps, ...range, windowMs: HOUR }).rows[0]).toMatchObject({ converted: 1, histogram: [1, 0] });
    expect(touchpointTimeToConvert(log, { ...steps, ...range, asOfMs: t0 + 3 * HOUR - 1 }).rows[0]).toMatchObject({ converted: 1 });
  });

  it('given a period, then actors fall in the ISO week of their entry in the zone', () => {
    // Sunday 3 Jan 2027 22:00 in New York is Monday 4 Jan 03:00 UTC: ISO week 53 of 2026 there (2026 starts on a Thursday), week 1 of 2027 in UTC
    const sunday = Date.parse('2027-01-04T03:00:00Z');
    const log = [tp('A', 'visit', sunday, 'google'), tp('A', 'form_submit', sunday + HOUR)];
    const weekly = { ...steps, fromMs: sunday - DAY, toMs: sunday + DAY, edgesMs: [HOUR], period: 'week' as const };
    expect(touchpointTimeToConvert(log, { ...weekly, timeZone: 'America/New_York' }).rows).toEqual([
      { period: '2026-12-28', periodLabel: '2026-W53', segment: '', entered: 1, converted: 1, meanMs: HOUR, medianMs: HOUR, p90Ms: HOUR, histogram: [0, 1] },
    ]);
    expect(touchpointTimeToConvert(log, { ...weekly, timeZone: 'UTC' }).rows.map((r) => [r.period, r.periodLabel])).toEqual([['2027-01-04', '2027-W01']]);
  });

  it('given a step that is both from and to, then the entry event does not convert itself', () => {
    const visits = { from: { type: 'visit', where: [] }, to: { type: 'visit', where: [] } };
    const log = [tp('A', 'visit', t0), tp('A', 'visit', t0 + HOUR), tp('B', 'visit', t0)];
    expect(touchpointTimeToConvert(log, { ...visits, ...range }).rows).toEqual([expect.objectContaining({ entered: 2, converted: 1, histogram: [0, 1] })]);
  });
});
