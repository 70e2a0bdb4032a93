import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { forecastPeriod, forecastSourceOfEvents } from './forecast.js';
import { MAX_TICK, model, streamArb, tickMs } from './test-opportunities.js';

/*
 * A forecast as of an instant sees only the log before it: the back-test's
 * premise. On random logs (out of order, redelivered, events after closes),
 * the forecast made from the whole log equals the one made from the events
 * that had occurred by then, and its expected value is the sum of its parts.
 */

const options = { priorStrength: 3, lookbackDays: 20, runs: 200, seed: 11 };

describe('forecast properties', () => {
  it('given random logs, then a forecast as of an instant equals the forecast from the prefix of the log before it', async () => {
    await fc.assert(
      fc.asyncProperty(streamArb, fc.integer({ min: 0, max: MAX_TICK }), fc.integer({ min: 1, max: 20 }), async (events, asOfTick, length) => {
        const asOfMs = tickMs(asOfTick);
        const period = { startMs: tickMs(Math.max(0, asOfTick - 5)), endMs: tickMs(asOfTick + length) };
        const prefix = events.filter((e) => Date.parse(e.occurredAt) < asOfMs);
        const whole = await forecastPeriod(forecastSourceOfEvents(events, model), period, asOfMs, options);
        expect(whole).toEqual(await forecastPeriod(forecastSourceOfEvents(prefix, model), period, asOfMs, options));
        for (const row of whole.rows) {
          expect(row.expected).toBeCloseTo(row.wonSoFar + row.pipeline + row.notYetCreated, 6);
          expect(row.p10).toBeLessThanOrEqual(row.p50);
          expect(row.p50).toBeLessThanOrEqual(row.p90);
        }
      }),
      { numRuns: 100 },
    );
  });
});
