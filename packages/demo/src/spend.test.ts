import { describe, expect, it } from 'vitest';
import { generateDemoSpend } from './spend.js';

const options = { seed: 9, start: '2026-01-15', months: 3, timeZone: 'Europe/Berlin', scale: 1 };

describe('demo spend', () => {
  it('given a seed, then the same rows: one per paid campaign and calendar month, covering the month in the zone', () => {
    const rows = [...generateDemoSpend(options)];
    expect([...generateDemoSpend(options)]).toEqual(rows);
    // paid search 2 sources x 4 themes, social 4 x 3, review sites 4 x 1, partners 3 x 2, events 3 x 2: 36 a month
    expect(rows).toHaveLength(3 * 36);
    expect(new Set(rows.map((r) => r.id)).size).toBe(rows.length);
    expect(rows[0]).toMatchObject({ id: 'demo-9-spend-1', source: 'google', channel: 'paid_search', campaign: '2026-q1-brand', properties: { currency: 'USD', periodStart: '2026-01-01T00:00:00+01:00', periodEnd: '2026-02-01T00:00:00+01:00' } });
    expect(rows.filter((r) => r.channel === 'organic_search')).toEqual([]);
  });

  it('given twice the scale, then twice the budget (to the cent)', () => {
    const single = [...generateDemoSpend(options)];
    const double = [...generateDemoSpend({ ...options, scale: 2 })];
    double.forEach((r, i) => expect(r.properties.amount).toBeCloseTo(2 * single[i]!.properties.amount, 1));
  });

  it('given an end in the second month, then that month is billed pro rata up to the end and later months not at all', () => {
    const end = '2026-02-15T00:00:00+01:00';
    const rows = [...generateDemoSpend({ ...options, end })];
    const whole = [...generateDemoSpend(options)];
    expect(rows).toHaveLength(2 * 36);
    expect(rows.slice(0, 36)).toEqual(whole.slice(0, 36));
    const february = rows[36]!;
    expect(february.properties).toMatchObject({ periodStart: '2026-02-01T00:00:00+01:00', periodEnd: end });
    expect(february.occurredAt).toBe(end);
    expect(february.properties.amount).toBeCloseTo((whole[36]!.properties.amount * 14) / 28, 1);
  });
});
