import { z } from 'zod';
import { COHORT_PERIODS, PROPERTY_KEY_PREFIX, SEGMENT_KEYS, STAGE_COUNTING_UNITS, STAGE_PAIR_DEFINITIONS, instantMs, stagePairs } from '@sluice/domain';
import type { StageConversionSpec, StagePair } from '@sluice/domain';
import type { CloseRateOptions, CloseRateSpec } from './queries/close-rates/reference.js';
import { ACTORLESS_TYPES, EVENT_TYPES, LEAD_ONLY_TYPES, OffsetDateTime, StageIdSchema, Text, TimeZoneSchema, text } from '@sluice/schemas';
import { MAX_QUERY_TIMEOUT_SECONDS } from './client.js';
import type { FieldIssue } from './funnel-definition.js';
import { parseFields } from './funnel-definition.js';

/**
 * What an API caller sends for stage-level questions (stage conversion and
 * activity close rates), validated at the edge. The semantics are written down
 * with the reference implementations in @sluice/domain
 * (@sluice/domain reference/stage-conversion.ts, queries/close-rates/reference.ts).
 *
 * Stage conversion example:
 *   { "configVersion": "v7", "stages": ["visitor", "lead", "mql", "sql", "customer"],
 *     "pairs": "step_to_step", "period": "week", "timeZone": "Europe/Berlin",
 *     "dateRange": { "from": "2026-01-01T00:00:00+01:00", "to": "2026-04-01T00:00:00+02:00" },
 *     "window": { "value": 30, "unit": "days" }, "segment": "channel",
 *     "filters": [{ "key": "businessUnit", "values": ["emea"] }] }
 *
 * Activity close rates example:
 *   { "configVersion": "v7", "populationStage": "lead", "customerStage": "customer",
 *     "dateRange": { "from": "2025-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z" },
 *     "property": "properties.pageType", "types": ["page_view"] }
 */

export const STAGE_QUERY_LIMITS = {
  maxStages: 32,
  maxPairs: 64,
  maxWindowDays: 3650,
  maxDateRangeDays: 3660,
  /** Cohort periods in the date range (e.g. about 2.7 years of days). */
  maxPeriods: 1000,
  maxSegments: 500,
  maxFilters: 8,
  maxValuesPerFilter: 100,
  maxValueLength: 500,
  /** pairs x periods x segments a conversion query may return. */
  maxResultRows: 200_000,
  maxActivities: 5000,
  maxTimeoutSeconds: MAX_QUERY_TIMEOUT_SECONDS,
} as const;

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
/** Cohort periods are cut as calendar dates (ClickHouse Date): the range must stay inside 1970-2148. */
const EARLIEST_MS = Date.UTC(1970, 0, 2);
const LATEST_MS = Date.UTC(2149, 0, 1);
/** Shortest length of each period, for the period-count limit. */
const PERIOD_MIN_DAYS = { day: 1, week: 7, month: 28, quarter: 90, year: 365 } as const;

const spanMs = (r: { from: unknown; to: unknown }) => (typeof r.from === 'string' && typeof r.to === 'string' ? Date.parse(r.to) - Date.parse(r.from) : Number.NaN);
const inCalendar = (t: unknown) => typeof t !== 'string' || Number.isNaN(Date.parse(t)) || (Date.parse(t) >= EARLIEST_MS && Date.parse(t) <= LATEST_MS);
const CALENDAR_MESSAGE = 'must be between 1970-01-02 and 2149-01-01';

/**
 * How many periods a date range may touch (an upper bound, from the shortest
 * period of the kind), with the message for the `period` field when that is
 * over the limit; undefined when the range or the period did not parse (their
 * own issues say why).
 */
export function periodsInRange(dateRange: unknown, period: unknown): { count: number; tooMany: string | undefined } | undefined {
  const span = typeof dateRange === 'object' && dateRange !== null ? spanMs(dateRange as { from: unknown; to: unknown }) : Number.NaN;
  if (!(span > 0) || typeof period !== 'string' || !Object.hasOwn(PERIOD_MIN_DAYS, period)) return undefined;
  const count = Math.ceil(span / (PERIOD_MIN_DAYS[period as keyof typeof PERIOD_MIN_DAYS] * DAY_MS)) + 1;
  const tooMany = count > STAGE_QUERY_LIMITS.maxPeriods ? `the date range holds up to ${count} ${period} periods, at most ${STAGE_QUERY_LIMITS.maxPeriods}: choose a longer period or a shorter range` : undefined;
  return { count, tooMany };
}

export const DateRange = z
  .strictObject({ from: OffsetDateTime.refine(inCalendar, { message: CALENDAR_MESSAGE }), to: OffsetDateTime.refine(inCalendar, { message: CALENDAR_MESSAGE }) })
  .refine((r) => !(spanMs(r) <= 0), { message: 'from must be before to', path: ['to'] })
  .refine((r) => !(spanMs(r) > STAGE_QUERY_LIMITS.maxDateRangeDays * DAY_MS), { message: `must span at most ${STAGE_QUERY_LIMITS.maxDateRangeDays} days`, path: ['to'] });

export const ConfigVersion = text({ error: 'required: the rule configuration version whose transitions to read' }).min(1).max(100);
export const TimeoutSeconds = z.number().int().min(1).max(STAGE_QUERY_LIMITS.maxTimeoutSeconds).default(30);

export const SegmentKey = z.enum(SEGMENT_KEYS, { error: `must be one of ${SEGMENT_KEYS.join(', ')}` });

const Pair = z.strictObject({ from: StageIdSchema, to: StageIdSchema });

/** A fixed length in ms (a day is 24 h, as every duration in rules). */
export const windowMsOf = (w: { value: number; unit: 'hours' | 'days' }): number => w.value * (w.unit === 'hours' ? HOUR_MS : DAY_MS);

export const Window = z
  .strictObject({ value: z.number().int().nonnegative(), unit: z.enum(['hours', 'days']) })
  .refine((w) => !(windowMsOf(w) > STAGE_QUERY_LIMITS.maxWindowDays * DAY_MS), { message: `must be at most ${STAGE_QUERY_LIMITS.maxWindowDays} days` });

/** Only leads whose profile value under each key is one of the values. */
export const Filters = z
  .array(z.strictObject({ key: SegmentKey, values: z.array(Text.max(STAGE_QUERY_LIMITS.maxValueLength)).min(1, { message: 'needs at least one value' }).max(STAGE_QUERY_LIMITS.maxValuesPerFilter) }))
  .max(STAGE_QUERY_LIMITS.maxFilters)
  .default([]);

export const StageConversionQuerySchema = z
  .strictObject({
    configVersion: ConfigVersion,
    /** The stage model's stage ids, in order. */
    stages: z.array(StageIdSchema).min(2, { message: 'a stage model has at least two stages' }).max(STAGE_QUERY_LIMITS.maxStages),
    /** step_to_step (default): each stage to the next; from_first: the first stage to each later one; or explicit pairs. */
    pairs: z
      .union([z.enum(STAGE_PAIR_DEFINITIONS), z.array(Pair).min(1).max(STAGE_QUERY_LIMITS.maxPairs)], {
        error: `must be "step_to_step", "from_first" or a list of { from, to } stage pairs (at most ${STAGE_QUERY_LIMITS.maxPairs})`,
      })
      .default('step_to_step'),
    /** Cohort = the period in which a lead entered `from`, in timeZone. */
    period: z.enum(COHORT_PERIODS).default('month'),
    timeZone: TimeZoneSchema.default('UTC'),
    /** Entries into `from` in [from, to) form the cohorts. */
    dateRange: DateRange,
    /** `to` must be reached within this long after entering `from` (inclusive); absent: any time. */
    window: Window.optional(),
    segment: SegmentKey.optional(),
    filters: Filters,
    /** Ignore transitions after this instant; with a window, rows report the leads still open. */
    asOf: OffsetDateTime.optional(),
    /** Segments returned: the largest by cohort entries. */
    segmentLimit: z.number().int().min(1).max(STAGE_QUERY_LIMITS.maxSegments).default(50),
    /** lead (default): each lead counts; account: an account reaches a stage when any of its leads does, at the earliest time. */
    unit: z.enum(STAGE_COUNTING_UNITS).default('lead'),
    timeoutSeconds: TimeoutSeconds,
  })
  // runs even when fields failed (when: always), so one round reports every problem; it reads only what parsed
  .superRefine(
    (q, ctx) => {
      const stages: unknown[] = Array.isArray(q.stages) ? q.stages : [];
      const index = new Map<unknown, number>();
      stages.forEach((s, i) => {
        if (index.has(s)) ctx.addIssue({ code: 'custom', path: ['stages', i], message: `duplicate stage "${String(s)}"` });
        else index.set(s, i);
      });
      const known = stages.map(String).join(', ');
      if (Array.isArray(q.pairs) && stages.length > 0) {
        (q.pairs as unknown[]).forEach((p, i) => {
          if (typeof p !== 'object' || p === null) return;
          const { from: f, to: t } = p as { from?: unknown; to?: unknown };
          const from = index.get(f);
          const to = index.get(t);
          if (typeof f === 'string' && from === undefined) ctx.addIssue({ code: 'custom', path: ['pairs', i, 'from'], message: `unknown stage "${f}"; stages: ${known}` });
          if (typeof t === 'string' && to === undefined) ctx.addIssue({ code: 'custom', path: ['pairs', i, 'to'], message: `unknown stage "${t}"; stages: ${known}` });
          if (from !== undefined && to !== undefined && to <= from) ctx.addIssue({ code: 'custom', path: ['pairs', i, 'to'], message: `must come after "${String(f)}" in stages` });
        });
      }
      const periods = periodsInRange(q.dateRange, q.period);
      if (periods === undefined) return;
      if (periods.tooMany !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['period'], message: periods.tooMany });
        return;
      }
      const pairs = Array.isArray(q.pairs) ? q.pairs.length : Math.max(1, stages.length - 1);
      const segments = q.segment === undefined ? 1 : typeof q.segmentLimit === 'number' ? q.segmentLimit : 0;
      const rows = pairs * periods.count * segments;
      if (rows > STAGE_QUERY_LIMITS.maxResultRows) {
        ctx.addIssue({ code: 'custom', path: ['segmentLimit'], message: `pairs x periods x segments could reach ${rows} rows, at most ${STAGE_QUERY_LIMITS.maxResultRows}: lower segmentLimit, ask fewer pairs or a longer period` });
      }
    },
    { when: () => true },
  );
export type StageConversionQueryInput = z.input<typeof StageConversionQuerySchema>;
export type StageConversionQuery = z.output<typeof StageConversionQuerySchema>;

/**
 * What a lead does, as opposed to what is known about it (identify), what
 * sales decided (sales_accepted, disqualified, ...) or what marketing spent
 * (spend belongs to a source, never to a lead).
 */
const ACTIVITY_TYPES = EVENT_TYPES.filter((t) => !LEAD_ONLY_TYPES.has(t) && !ACTORLESS_TYPES.has(t));

/** Split each touchpoint type by this property's value: properties.<path>, e.g. properties.pageType. */
export const ActivityProperty = Text.max(200)
  .refine((k) => k.startsWith(PROPERTY_KEY_PREFIX) && k.length > PROPERTY_KEY_PREFIX.length, { message: 'must be properties.<path>, e.g. properties.pageType' });

/** Only these touchpoint types; by default every touchpoint, not profile facts (identify) or sales decisions, which are outcomes rather than activities. */
export const ActivityTypes = z
  .array(
    z.string().refine((t) => (EVENT_TYPES as readonly string[]).includes(t), {
      error: (issue) => `unknown event type "${String(issue.input).slice(0, 60)}"; known types: ${EVENT_TYPES.join(', ')}`,
    }),
  )
  .min(1)
  .max(EVENT_TYPES.length)
  .default(() => [...ACTIVITY_TYPES]);

export const Confidence = z.union([z.literal(0.9), z.literal(0.95), z.literal(0.99)], { error: 'must be 0.9, 0.95 or 0.99' }).default(0.95);

export const ActivityCloseRatesQuerySchema = z
  .strictObject({
    configVersion: ConfigVersion,
    /** Who is counted: the leads that entered this stage in dateRange (e.g. lead). */
    populationStage: StageIdSchema,
    /** The stage that means won (the model's customerStage). */
    customerStage: StageIdSchema,
    dateRange: DateRange,
    asOf: OffsetDateTime.optional(),
    property: ActivityProperty.optional(),
    types: ActivityTypes,
    /** Activities returned (most leads first), then ranked. */
    activityLimit: z.number().int().min(1).max(STAGE_QUERY_LIMITS.maxActivities).default(200),
    confidence: Confidence,
    /** Suggestions need at least this many leads behind an activity. */
    minLeads: z.number().int().min(1).max(1_000_000).default(30),
    /** MQL-rule candidates close at least this many times the average. */
    mqlLiftAtLeast: z.number().min(1).max(100).default(3),
    pointsPerLift: z.number().min(0).max(1000).default(10),
    maxWeight: z.number().int().min(0).max(1000).default(50),
    timeoutSeconds: TimeoutSeconds,
  })
  .superRefine(
    (q, ctx) => {
      if (typeof q.customerStage === 'string' && q.populationStage === q.customerStage) ctx.addIssue({ code: 'custom', path: ['customerStage'], message: 'must differ from populationStage' });
    },
    { when: () => true },
  );
export type ActivityCloseRatesQueryInput = z.input<typeof ActivityCloseRatesQuerySchema>;
export type ActivityCloseRatesQuery = z.output<typeof ActivityCloseRatesQuerySchema>;

export type Parsed<T> = { ok: true; query: T } | { ok: false; issues: FieldIssue[] };

export function parseWith<T>(schema: z.ZodType<T>, input: unknown): Parsed<T> {
  const parsed = parseFields(schema, input);
  return parsed.ok ? { ok: true, query: parsed.value } : parsed;
}

/** Validates a stage conversion query, naming every bad field (for a 400 problem+json). */
export const parseStageConversionQuery = (input: unknown): Parsed<StageConversionQuery> => parseWith(StageConversionQuerySchema, input);
/** Validates an activity close-rates query, naming every bad field. */
export const parseActivityCloseRatesQuery = (input: unknown): Parsed<ActivityCloseRatesQuery> => parseWith(ActivityCloseRatesQuerySchema, input);

/** The pairs a query asks about. */
export function pairsOf(q: Pick<StageConversionQuery, 'stages' | 'pairs'>): StagePair[] {
  return Array.isArray(q.pairs) ? q.pairs.map((p) => ({ from: p.from, to: p.to })) : stagePairs(q.stages, q.pairs);
}

/** The normalised form the reference computes (segments and filters are applied by the caller). */
export function stageConversionSpecOf(q: StageConversionQuery): StageConversionSpec {
  return {
    pairs: pairsOf(q),
    period: q.period,
    timeZone: q.timeZone,
    fromMs: instantMs(q.dateRange.from),
    toMs: instantMs(q.dateRange.to),
    windowMs: q.window === undefined ? undefined : windowMsOf(q.window),
    asOfMs: q.asOf === undefined ? undefined : instantMs(q.asOf),
    segmentLimit: q.segmentLimit,
    unit: q.unit,
  };
}

export function closeRateSpecOf(q: ActivityCloseRatesQuery): CloseRateSpec {
  return {
    populationStage: q.populationStage,
    customerStage: q.customerStage,
    fromMs: instantMs(q.dateRange.from),
    toMs: instantMs(q.dateRange.to),
    asOfMs: q.asOf === undefined ? undefined : instantMs(q.asOf),
    property: q.property === undefined ? undefined : q.property.slice(PROPERTY_KEY_PREFIX.length),
    types: q.types,
    activityLimit: q.activityLimit,
  };
}

export function closeRateOptionsOf(q: ActivityCloseRatesQuery): CloseRateOptions {
  return { confidence: q.confidence, minLeads: q.minLeads, mqlLiftAtLeast: q.mqlLiftAtLeast, pointsPerLift: q.pointsPerLift, maxWeight: q.maxWeight };
}
