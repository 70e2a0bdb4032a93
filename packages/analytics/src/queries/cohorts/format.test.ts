import { describe, expect, it } from 'vitest';
import { RetentionCohortsQuerySchema } from '../../retention-cohorts.js';
import { formatCohorts } from './format.js';

const query = RetentionCohortsQuerySchema.parse({ dateRange: { from: '2026-01-01T00:00:00Z', to: '2026-03-01T00:00:00Z' }, offsets: 2, asOf: '2026-02-20T00:00:00Z' });

describe('retention cohorts as text', () => {
  it('given periods not yet begun, then their cells read "-", not 0.00% (no one churned in a period that has not happened)', () => {
    const text = formatCohorts({
      query,
      cohorts: [
        { period: '2026-01-01', periodLabel: '2026-01', segment: '', customers: 4, retained: [1, 2, null], rates: [0.25, 0.5, null] },
        { period: '2026-02-01', periodLabel: '2026-02', segment: '', customers: 2, retained: [0, null, null], rates: [0, null, null] },
      ],
      segments: 1,
      truncated: false,
    });
    const cells = text
      .split('\n')
      .filter((line) => /^2026-0/.test(line))
      .map((line) => line.trim().split(/\s+/));
    expect(cells).toEqual([
      ['2026-01', '4', '25.0%', '50.0%', '-'],
      ['2026-02', '2', '0.00%', '-', '-'],
    ]);
  });
});
