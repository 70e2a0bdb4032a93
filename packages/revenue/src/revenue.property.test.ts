import { instantOf } from '@sluice/domain';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pipelineAsOf } from './pipeline.js';
import { MAX_TICK, model, streamArb, tickMs } from './test-opportunities.js';
import { WATERFALL_TERMS, identityEnd, waterfall } from './waterfall.js';

const tickArb = fc.integer({ min: 0, max: MAX_TICK + 1 });
/** A half-day after a tick too, so instants between events are asked as well as instants on them. */
const instantArb = fc.tuple(tickArb, fc.boolean()).map(([t, half]) => tickMs(t) + (half ? 43_200_000 : 0));

/** A log and the same events in another arrival order. */
const withArrivalOrder = streamArb.chain((events) => fc.tuple(fc.constant(events), fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length })));

describe('pipeline as of an instant, on random logs', () => {
  it('equals the pipeline of the log prefix that had occurred by then, in any arrival order', () => {
    fc.assert(
      fc.property(withArrivalOrder, fc.constantFrom(null, 'stage', 'category', 'owner', 'segment' as const), ([events, shuffled], groupBy) => {
        for (let tick = 0; tick <= MAX_TICK + 1; tick++) {
          for (const asOf of [tickMs(tick), tickMs(tick) + 1]) {
            const whole = pipelineAsOf(events, asOf, model, groupBy);
            expect(pipelineAsOf(events.filter((e) => instantOf(e.occurredAt) < asOf), asOf, model, groupBy)).toEqual(whole);
            expect(pipelineAsOf(shuffled, asOf, model, groupBy)).toEqual(whole);
          }
        }
      }),
      { numRuns: 150 },
    );
  });
});

describe('waterfall, on random logs', () => {
  it('holds start + created + pulled in + up - down - pushed out - lost - won = end per group and currency, start and end being the pipeline as of from and to', () => {
    fc.assert(
      fc.property(streamArb, instantArb, instantArb, fc.constantFrom(null, 'owner', 'segment' as const), (events, a, b, groupBy) => {
        fc.pre(a !== b);
        const [from, to] = a < b ? [a, b] : [b, a];
        const w = waterfall(events, from, to, model, groupBy);
        const inPeriodAt = (at: number) => pipelineAsOf(events, at, model).opportunities.filter((o) => o.closeDateMs >= from && o.closeDateMs < to);
        for (const row of w.rows) {
          expect(identityEnd(row)).toBe(row.end.amount);
          for (const t of WATERFALL_TERMS) {
            expect(row[t].amount).toBe(row[t].opportunities.reduce((s, o) => s + o.amount, 0));
            for (const o of row[t].opportunities) expect(o.amount).toBeGreaterThanOrEqual(0);
          }
        }
        for (const [at, point] of [[from, 'start'], [to, 'end']] as const) {
          const open = inPeriodAt(at);
          for (const currency of ['EUR', 'USD']) {
            const ofCurrency = open.filter((o) => o.currency === currency);
            const rows = w.rows.filter((r) => r.currency === currency);
            expect(rows.reduce((s, r) => s + r[point].amount, 0)).toBe(ofCurrency.reduce((s, o) => s + o.amount, 0));
            expect(rows.reduce((s, r) => s + r[point].count, 0)).toBe(ofCurrency.length);
          }
        }
      }),
      { numRuns: 400 },
    );
  });
});
