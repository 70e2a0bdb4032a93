import { DAY_MS } from '@sluice/domain';
import type { OpportunityModel, SluiceEvent } from '@sluice/schemas';
import { type OpportunityJourney, opportunityJourneys, quantileExact } from './opportunity-analytics.js';
import { type OpenOpportunity, pipelineAsOf } from './pipeline.js';

/**
 * The revenue forecast of a period (issue 17, item 6), made as of an instant
 * from the log as it stood then (the fold of its prefix), so a past period
 * can be forecast exactly as it could have been and compared with what was
 * won: the back-test.
 *
 * Revenue of the period = won so far in it + the open pipeline's wins + the
 * wins of opportunities not yet created, per currency (never added across
 * currencies).
 *
 * Open pipeline: each opportunity open at the instant that is expected to
 * close in the period (at its close date, or at the instant if that date has
 * passed: an overdue deal is still open, so still expected) wins its amount
 * with a learned probability. The prior is the
 * probability frozen when it entered its stage (the stage model's, or the
 * rep's), as a Beta distribution of strength k centred on it:
 * Beta(k x p0, k x (1 - p0)). The evidence is the opportunities closed in the
 * lookback before the instant, of the same segment, that were in the same
 * stage at least as long as this one has been (its age-in-stage bucket's
 * lower bound: 0, 30 or 90 days): `won` of them were won, `lost` lost. The
 * probability is the posterior mean, (k x p0 + won) / (k + won + lost): the
 * configured probability while history is thin, history's rate once it is
 * not. k = 0 is history alone (the prior when there is none).
 *
 * Not yet created: over the lookback, the creation rate (opportunities
 * created per day), the win rate (won / closed) and the won deals themselves
 * (amount, currency, days from creation to win). New opportunities arrive as
 * a Poisson process over what is left of the period (from the later of its
 * start and the instant); each wins with the win
 * rate, as one of the won deals drawn at random, and counts if its cycle ends
 * before the period does. Its expected value is exact:
 * rate x win rate x mean over won deals of amount x max(0, D - cycle), D the
 * days left.
 *
 * Bands: P10 / P50 / P90 of `runs` Monte Carlo draws from a seeded generator
 * (mulberry32), so the same log, instant and seed give the same bands;
 * percentiles are quantileExact's (opportunity-analytics.ts). `expected` is
 * the exact mean, not the draws' mean.
 */

export interface ForecastOptions {
  /** the prior's strength k, in opportunities */
  priorStrength: number;
  lookbackDays: number;
  runs: number;
  seed: number;
}

export const DEFAULT_FORECAST_OPTIONS: ForecastOptions = { priorStrength: 10, lookbackDays: 365, runs: 2000, seed: 1 };

/** Age-in-stage buckets (days): an opportunity is compared with those that stayed in its stage at least as long as its bucket's lower bound. */
export const AGE_BUCKET_DAYS = [0, 30, 90] as const;

export interface Band {
  expected: number;
  p10: number;
  p50: number;
  p90: number;
}

export interface ForecastRow extends Band {
  currency: string;
  wonSoFar: number;
  /** expected wins of the open pipeline */
  pipeline: number;
  /** expected wins of opportunities not yet created */
  notYetCreated: number;
}

export interface ForecastGroupRow extends Band {
  /** a forecast category (closed: won so far; new: not yet created) or an owner (null: none, or not yet created) */
  group: string | null;
  currency: string;
}

export interface ForecastOpportunity {
  opportunityId: string;
  stage: string;
  category: string;
  ownerId: string | null;
  segment: string | null;
  amount: number;
  currency: string;
  closeDateMs: number;
  daysInStage: number;
  /** the bucket's lower bound in days */
  ageBucketDays: number;
  prior: number;
  won: number;
  lost: number;
  probability: number;
}

export interface Forecast {
  startMs: number;
  endMs: number;
  asOfMs: number;
  options: ForecastOptions;
  rows: ForecastRow[];
  byCategory: ForecastGroupRow[];
  byOwner: ForecastGroupRow[];
  opportunities: ForecastOpportunity[];
  notYetCreated: { creationsPerDay: number; winRate: number | null; wonDeals: number; daysLeft: number };
}

/** mulberry32: a small seeded generator, uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The learned win probability of an open opportunity: the posterior mean of its stage's Beta prior updated with the closed history like it. */
export function learnedProbability(o: Pick<OpenOpportunity, 'stage' | 'segment' | 'probability' | 'daysInStage'>, closed: readonly OpportunityJourney[], priorStrength: number) {
  const ageBucketDays = [...AGE_BUCKET_DAYS].reverse().find((lower) => o.daysInStage >= lower) ?? 0;
  let won = 0;
  let lost = 0;
  for (const j of closed) {
    if (j.segment !== o.segment) continue;
    if (!j.stays.some((s) => s.stage === o.stage && s.leftAtMs !== null && (s.leftAtMs - s.enteredAtMs) / DAY_MS >= ageBucketDays)) continue;
    if (j.status === 'won') won++;
    else lost++;
  }
  const weight = priorStrength + won + lost;
  const probability = weight === 0 ? o.probability : (priorStrength * o.probability + won) / weight;
  return { ageBucketDays, prior: o.probability, won, lost, probability };
}

const byText = (a: string | null, b: string | null) => (a === b ? 0 : a === null ? 1 : b === null ? -1 : a < b ? -1 : 1);
const key = (group: string | null, currency: string) => JSON.stringify([group, currency]);

/** Sums per key, one array of draws per key (a key missing from a draw drew 0). */
class Draws {
  readonly expected = new Map<string, number>();
  readonly draws = new Map<string, Float64Array>();
  constructor(private readonly runs: number) {}
  expect(k: string, amount: number) {
    this.expected.set(k, (this.expected.get(k) ?? 0) + amount);
    if (!this.draws.has(k)) this.draws.set(k, new Float64Array(this.runs));
  }
  add(k: string, run: number, amount: number) {
    this.draws.get(k)![run]! += amount;
  }
  band(k: string): Band {
    const values = [...(this.draws.get(k) ?? [])];
    return { expected: this.expected.get(k) ?? 0, p10: quantileExact(values, 0.1) ?? 0, p50: quantileExact(values, 0.5) ?? 0, p90: quantileExact(values, 0.9) ?? 0 };
  }
}

/**
 * What a forecast reads, as of an instant: every opportunity's journey and
 * the open pipeline. Folded from events here (forecastSourceOfEvents), or by
 * ClickHouse (@sluice/analytics), held equal to this fold by property tests.
 */
export interface ForecastSource {
  journeysBefore(beforeMs: number): Promise<OpportunityJourney[]>;
  openAsOf(asOfMs: number): Promise<OpenOpportunity[]>;
}

export const forecastSourceOfEvents = (events: readonly SluiceEvent[], model: OpportunityModel): ForecastSource => ({
  journeysBefore: async (beforeMs) => opportunityJourneys(events, beforeMs),
  openAsOf: async (asOfMs) => pipelineAsOf(events, asOfMs, model).opportunities,
});

/** The forecast of [startMs, endMs) as of `asOfMs`, from the log as it stood then. */
export async function forecastPeriod(source: ForecastSource, period: { startMs: number; endMs: number }, asOfMs: number, options: ForecastOptions = DEFAULT_FORECAST_OPTIONS): Promise<Forecast> {
  return forecastOf(await source.journeysBefore(asOfMs), await source.openAsOf(asOfMs), period, asOfMs, options);
}

/** The forecast from the journeys and the open opportunities as of `asOfMs`. */
export function forecastOf(journeys: readonly OpportunityJourney[], openAtAsOf: readonly OpenOpportunity[], period: { startMs: number; endMs: number }, asOfMs: number, options: ForecastOptions): Forecast {
  const { startMs, endMs } = period;
  const { priorStrength, lookbackDays, runs, seed } = options;
  const lookbackFromMs = asOfMs - lookbackDays * DAY_MS;
  const closed = journeys.filter((j) => j.status !== 'open' && j.closedAtMs! >= lookbackFromMs);
  const won = closed.filter((j) => j.status === 'won');
  const wonSoFar = journeys.filter((j) => j.status === 'won' && j.closedAtMs! >= startMs && j.closedAtMs! < endMs);

  // expected to close at its close date, or now if that has passed
  const open = openAtAsOf.filter((o) => Math.max(o.closeDateMs, asOfMs) >= startMs && Math.max(o.closeDateMs, asOfMs) < endMs);
  const opportunities: ForecastOpportunity[] = open.map((o) => ({
    opportunityId: o.opportunityId,
    stage: o.stage,
    category: o.category,
    ownerId: o.ownerId,
    segment: o.segment,
    amount: o.amount,
    currency: o.currency,
    closeDateMs: o.closeDateMs,
    daysInStage: o.daysInStage,
    ...learnedProbability(o, closed, priorStrength),
  }));

  const daysLeft = Math.max(0, (endMs - Math.max(asOfMs, startMs)) / DAY_MS);
  const creationsPerDay = journeys.filter((j) => j.createdAtMs >= lookbackFromMs).length / lookbackDays;
  const winRate = closed.length === 0 ? null : won.length / closed.length;
  const wonDeals = won.map((j) => ({ amount: j.amount, currency: j.currency, cycleDays: (j.closedAtMs! - j.createdAtMs) / DAY_MS }));
  const newArrive = winRate !== null && winRate > 0 && creationsPerDay > 0 && daysLeft > 0 && wonDeals.length > 0;

  const totals = new Draws(runs);
  const pipelineExpected = new Map<string, number>();
  const newExpected = new Map<string, number>();
  const categories = new Draws(runs);
  const owners = new Draws(runs);
  const expectAll = (currency: string, category: string, owner: string | null, amount: number) => {
    totals.expect(key(null, currency), amount);
    categories.expect(key(category, currency), amount);
    owners.expect(key(owner, currency), amount);
  };
  const addAll = (run: number, currency: string, category: string, owner: string | null, amount: number) => {
    totals.add(key(null, currency), run, amount);
    categories.add(key(category, currency), run, amount);
    owners.add(key(owner, currency), run, amount);
  };
  for (const j of wonSoFar) expectAll(j.currency, 'closed', j.ownerId, j.amount);
  for (const o of opportunities) {
    expectAll(o.currency, o.category, o.ownerId, o.probability * o.amount);
    pipelineExpected.set(o.currency, (pipelineExpected.get(o.currency) ?? 0) + o.probability * o.amount);
  }
  if (newArrive) {
    for (const d of wonDeals) {
      const amount = (creationsPerDay * winRate * d.amount * Math.max(0, daysLeft - d.cycleDays)) / wonDeals.length;
      expectAll(d.currency, 'new', null, amount);
      newExpected.set(d.currency, (newExpected.get(d.currency) ?? 0) + amount);
    }
  }

  const random = seededRandom(seed);
  for (let run = 0; run < runs; run++) {
    for (const j of wonSoFar) addAll(run, j.currency, 'closed', j.ownerId, j.amount);
    for (const o of opportunities) if (random() < o.probability) addAll(run, o.currency, o.category, o.ownerId, o.amount);
    if (!newArrive) continue;
    // a Poisson process over the days left: exponential gaps between creations
    for (let day = -Math.log(1 - random()) / creationsPerDay; day < daysLeft; day += -Math.log(1 - random()) / creationsPerDay) {
      if (random() >= winRate) continue;
      const deal = wonDeals[Math.floor(random() * wonDeals.length)]!;
      if (day + deal.cycleDays < daysLeft) addAll(run, deal.currency, 'new', null, deal.amount);
    }
  }

  const groupRows = (draws: Draws): ForecastGroupRow[] =>
    [...draws.expected.keys()]
      .map((k) => JSON.parse(k) as [string | null, string])
      .sort(([g1, c1], [g2, c2]) => byText(c1, c2) || byText(g1, g2))
      .map(([group, currency]) => ({ group, currency, ...draws.band(key(group, currency)) }));
  const rows = groupRows(totals).map(({ currency, ...band }) => ({
    currency,
    wonSoFar: wonSoFar.filter((j) => j.currency === currency).reduce((s, j) => s + j.amount, 0),
    pipeline: pipelineExpected.get(currency) ?? 0,
    notYetCreated: newExpected.get(currency) ?? 0,
    expected: band.expected,
    p10: band.p10,
    p50: band.p50,
    p90: band.p90,
  }));
  return {
    startMs,
    endMs,
    asOfMs,
    options,
    rows,
    byCategory: groupRows(categories),
    byOwner: groupRows(owners),
    opportunities,
    notYetCreated: { creationsPerDay, winRate, wonDeals: wonDeals.length, daysLeft },
  };
}

export interface BacktestPeriod {
  label: string;
  startMs: number;
  endMs: number;
  rows: Array<{ currency: string; forecast: number; p10: number; p50: number; p90: number; actual: number; absolutePercentageError: number | null }>;
}

export interface Backtest {
  periods: BacktestPeriod[];
  /** per currency: the mean of the periods' |forecast - actual| / actual, over periods where something was won (null: none) */
  meanAbsolutePercentageError: Array<{ currency: string; value: number | null; periods: number }>;
}

/**
 * Each past period forecast as of its start from the log as it then stood
 * (the fold of the events before that instant), beside what was won in it
 * (the fold as of its end). The error of a period is |expected - actual| /
 * actual, per currency; undefined (null) when nothing was won in it.
 */
export async function backtest(source: ForecastSource, periods: ReadonlyArray<{ label: string; startMs: number; endMs: number }>, options: ForecastOptions = DEFAULT_FORECAST_OPTIONS): Promise<Backtest> {
  const results: BacktestPeriod[] = [];
  for (const p of periods) {
    const forecast = await forecastPeriod(source, p, p.startMs, options);
    const actual = new Map<string, number>();
    for (const j of await source.journeysBefore(p.endMs)) {
      if (j.status === 'won' && j.closedAtMs! >= p.startMs && j.closedAtMs! < p.endMs) actual.set(j.currency, (actual.get(j.currency) ?? 0) + j.amount);
    }
    const currencies = [...new Set([...forecast.rows.map((r) => r.currency), ...actual.keys()])].sort();
    results.push({
      label: p.label,
      startMs: p.startMs,
      endMs: p.endMs,
      rows: currencies.map((currency) => {
        const f = forecast.rows.find((r) => r.currency === currency);
        const a = actual.get(currency) ?? 0;
        const expected = f?.expected ?? 0;
        return { currency, forecast: expected, p10: f?.p10 ?? 0, p50: f?.p50 ?? 0, p90: f?.p90 ?? 0, actual: a, absolutePercentageError: a === 0 ? null : Math.abs(expected - a) / a };
      }),
    });
  }
  const currencies = [...new Set(results.flatMap((p) => p.rows.map((r) => r.currency)))].sort();
  return {
    periods: results,
    meanAbsolutePercentageError: currencies.map((currency) => {
      const errors = results.flatMap((p) => p.rows.filter((r) => r.currency === currency && r.absolutePercentageError !== null).map((r) => r.absolutePercentageError!));
      return { currency, value: errors.length === 0 ? null : errors.reduce((s, e) => s + e, 0) / errors.length, periods: errors.length };
    }),
  };
}
