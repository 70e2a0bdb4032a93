import { describe, expect, it } from 'vitest';
import { conversionBody, funnelPairs, stageCounts } from './queries.js';
import type { StageConversionRow } from '@sluice/domain';
import type { ConversionResult } from './queries.js';

const rules = { stages: ['visitor', 'lead', 'mql', 'customer'], timeZone: 'UTC', configVersion: 'v1' };
// only the fields the funnel reads; the rest of a row does not change its counts
const row = (pair: number, to: string, segment: string, entered: number, converted: number, from = 'visitor') =>
  ({ pair, from, to, period: '', periodLabel: 'all', segment, entered, converted }) as StageConversionRow;

describe('the funnel from a from_first answer', () => {
  const result: ConversionResult = {
    pairs: [{ from: 'visitor', to: 'lead' }, { from: 'visitor', to: 'mql' }, { from: 'visitor', to: 'customer' }],
    // lead -> mql is a step pair riding in the same answer: it counts nobody into the funnel
    rows: [row(0, 'lead', 'emea', 100, 20), row(1, 'mql', 'emea', 100, 5), row(0, 'lead', 'apac', 10, 1), row(3, 'mql', 'emea', 20, 9, 'lead')],
    segments: 2,
    truncated: false,
    freshness: { position: 1, head: 1, caughtUp: true },
  };

  it('given a segment, then the first stage counts who entered and each later one who of them reached it, absent rows as 0', () => {
    expect(stageCounts(rules.stages, result, 'emea')).toEqual([100, 20, 5, 0]);
    expect(stageCounts(rules.stages, result, 'apac')).toEqual([10, 1, 0, 0]);
  });

  it('given no row for the segment, then there is no funnel (the view says so instead of showing zeros)', () => {
    expect(stageCounts(rules.stages, result, '')).toBeUndefined();
  });
});

describe('the funnel query', () => {
  it('given a stage model, then one query asks the first stage to each later one and each later stage to the next', () => {
    expect(funnelPairs(rules.stages)).toEqual([
      { from: 'visitor', to: 'lead' },
      { from: 'visitor', to: 'mql' },
      { from: 'visitor', to: 'customer' },
      { from: 'lead', to: 'mql' },
      { from: 'mql', to: 'customer' },
    ]);
  });
});

describe('the conversion query a view sends', () => {
  it('given filters with "all" left empty, then only the chosen ones are sent, each as a one-value filter', () => {
    expect(conversionBody(rules, { range: { from: '2026-01', to: '2026-03' }, pairs: 'from_first', filters: { businessUnit: '', channel: 'paid_search' } })).toEqual({
      dateRange: { from: '2026-01-01T00:00:00Z', to: '2026-04-01T00:00:00Z' },
      period: 'all',
      pairs: 'from_first',
      filters: [{ key: 'channel', values: ['paid_search'] }],
    });
  });

  it('given accounts as the unit, then it is sent as unit "account" beside the other choices (the stage funnel and cohorts count accounts)', () => {
    expect(conversionBody(rules, { range: { from: '2026-01', to: '2026-01' }, pairs: 'step_to_step', period: 'quarter', segment: 'channel', unit: 'account' })).toEqual({
      dateRange: { from: '2026-01-01T00:00:00Z', to: '2026-02-01T00:00:00Z' },
      period: 'quarter',
      pairs: 'step_to_step',
      segment: 'channel',
      unit: 'account',
    });
  });

  it('given leads as the unit, then unit "lead" is sent: the page says what it counts rather than leaning on the API default', () => {
    expect(conversionBody(rules, { range: { from: '2025-12', to: '2026-02' }, pairs: 'from_first', unit: 'lead' })).toEqual({
      // December to February inclusive: the range ends where March begins
      dateRange: { from: '2025-12-01T00:00:00Z', to: '2026-03-01T00:00:00Z' },
      period: 'all',
      pairs: 'from_first',
      unit: 'lead',
    });
  });
});
