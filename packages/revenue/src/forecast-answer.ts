import { CALENDAR_PERIOD_FORMATS, calendarPeriods } from '@sluice/domain';
import { OffsetDateTime, TimeZoneSchema } from '@sluice/schemas';
import { z } from 'zod';
import { type Backtest, DEFAULT_FORECAST_OPTIONS, type Forecast, type ForecastSource, backtest, forecastPeriod } from './forecast.js';

/*
 * The forecast question and answer as the API and the CLI exchange them
 * (GET /v1/forecast, sluice forecast): numbers in the query string are
 * coerced, instants are ISO text.
 */

const whole = (min: number, max: number, fallback: number) => z.coerce.number().int().min(min).max(max).default(fallback);

export const ForecastQuerySchema = z
  .strictObject({
    /** a quarter (2026-Q3) or a month (2026-07), in timeZone */
    period: z.string().describe(`the period to forecast: ${CALENDAR_PERIOD_FORMATS}`),
    timeZone: TimeZoneSchema.default('UTC'),
    /** the forecast is made as of this instant (default now; never after the period's end) */
    asOf: OffsetDateTime.optional(),
    /** how many periods before this one to back-test (0: none) */
    backtest: whole(0, 24, 0),
    seed: whole(0, 2 ** 31 - 1, DEFAULT_FORECAST_OPTIONS.seed),
    runs: whole(100, 20_000, DEFAULT_FORECAST_OPTIONS.runs),
    priorStrength: z.coerce.number().min(0).max(1000).default(DEFAULT_FORECAST_OPTIONS.priorStrength),
    lookbackDays: whole(30, 3650, DEFAULT_FORECAST_OPTIONS.lookbackDays),
  })
  .superRefine((q, ctx) => {
    if (typeof q.timeZone === 'string' && calendarPeriods(q.period, 0, q.timeZone) === undefined) {
      ctx.addIssue({ code: 'custom', path: ['period'], input: q.period, message: `must be ${CALENDAR_PERIOD_FORMATS}, e.g. 2026-Q3` });
    }
  });
export type ForecastQuery = z.infer<typeof ForecastQuerySchema>;

const Band = { expected: z.number(), p10: z.number(), p50: z.number(), p90: z.number() };
const GroupRow = z.object({ group: z.string().nullable(), currency: z.string(), ...Band });
const PeriodSchema = z.object({ label: z.string(), start: z.string(), end: z.string() });

export const ForecastAnswerSchema = z.object({
  period: PeriodSchema,
  asOf: z.string(),
  options: z.object({ priorStrength: z.number(), lookbackDays: z.number().int(), runs: z.number().int(), seed: z.number().int() }),
  rows: z.array(z.object({ currency: z.string(), wonSoFar: z.number(), pipeline: z.number(), notYetCreated: z.number(), ...Band })),
  byCategory: z.array(GroupRow),
  byOwner: z.array(GroupRow),
  opportunities: z.array(
    z.object({
      opportunityId: z.string(),
      stage: z.string(),
      category: z.string(),
      ownerId: z.string().nullable(),
      segment: z.string().nullable(),
      amount: z.number(),
      currency: z.string(),
      closeDate: z.string(),
      daysInStage: z.number(),
      ageBucketDays: z.number(),
      prior: z.number(),
      won: z.number().int(),
      lost: z.number().int(),
      probability: z.number(),
    }),
  ),
  notYetCreated: z.object({ creationsPerDay: z.number(), winRate: z.number().nullable(), wonDeals: z.number().int(), daysLeft: z.number() }),
  backtest: z
    .object({
      periods: z.array(
        PeriodSchema.extend({
          rows: z.array(z.object({ currency: z.string(), forecast: z.number(), p10: z.number(), p50: z.number(), p90: z.number(), actual: z.number(), absolutePercentageError: z.number().nullable() })),
        }),
      ),
      meanAbsolutePercentageError: z.array(z.object({ currency: z.string(), value: z.number().nullable(), periods: z.number().int() })),
    })
    .nullable(),
});
export type ForecastAnswer = z.infer<typeof ForecastAnswerSchema>;

const iso = (ms: number) => new Date(ms).toISOString();

function answerOf(label: string, f: Forecast, b: Backtest | null): ForecastAnswer {
  return {
    period: { label, start: iso(f.startMs), end: iso(f.endMs) },
    asOf: iso(f.asOfMs),
    options: f.options,
    rows: f.rows,
    byCategory: f.byCategory,
    byOwner: f.byOwner,
    opportunities: f.opportunities.map(({ closeDateMs, ...o }) => ({ ...o, closeDate: iso(closeDateMs) })),
    notYetCreated: f.notYetCreated,
    backtest: b === null ? null : { periods: b.periods.map(({ startMs, endMs, ...p }) => ({ ...p, start: iso(startMs), end: iso(endMs) })), meanAbsolutePercentageError: b.meanAbsolutePercentageError },
  };
}

/**
 * The forecast question answered from a source of journeys and open
 * pipelines (the fold of events, or ClickHouse's): the period as of `asOf`
 * (default now, at most the period's end), and each of the `backtest`
 * periods before it as of its own start.
 */
export async function answerForecast(q: ForecastQuery, nowMs: number, source: ForecastSource): Promise<ForecastAnswer> {
  const periods = calendarPeriods(q.period, q.backtest, q.timeZone)!;
  const period = periods[periods.length - 1]!;
  const asOfMs = Math.min(q.asOf === undefined ? nowMs : Date.parse(q.asOf), period.endMs);
  const past = periods.slice(0, -1);
  const options = { priorStrength: q.priorStrength, lookbackDays: q.lookbackDays, runs: q.runs, seed: q.seed };
  return answerOf(period.label, await forecastPeriod(source, period, asOfMs, options), past.length === 0 ? null : await backtest(source, past, options));
}
