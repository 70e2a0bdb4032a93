import { z } from 'zod';
import type { FunnelAttribution, FunnelSpec } from './queries/funnel/reference.js';
import { ENVELOPE_KEYS, PROPERTY_KEY_PREFIX, instantMs, scalarText } from '@sluice/domain';
import { FUNNEL_OPTION_DEFAULTS, MAX_FUNNEL_EXCLUSIONS, MAX_FUNNEL_STEPS, MAX_UNORDERED_FUNNEL_STEPS, attributionStep } from './queries/funnel/reference.js';
import { ACTORLESS_TYPES, EVENT_TYPES, Label, OffsetDateTime, Text, text } from '@sluice/schemas';
import { DEFAULT_QUERY_TIMEOUT_SECONDS, MAX_QUERY_TIMEOUT_SECONDS } from './client.js';

/**
 * What an API caller sends to ask for a funnel, validated at the edge. The
 * semantics (order modes, window, ties, exclusions, breakdown attribution) are
 * documented with the reference implementation beside its declaration
 * (queries/funnel/reference.ts); `funnelSpecOf` turns a parsed definition into it.
 *
 * Example:
 *   { "steps": [ { "type": "visit", "where": [{ "key": "source", "op": "in", "values": ["google", "bing"] }] },
 *                { "type": "form_submit" },
 *                { "type": "demo_held", "where": [{ "key": "properties.x.segment", "op": "eq", "value": "enterprise" }] } ],
 *     "order": "ordered", "window": { "value": 30, "unit": "days" },
 *     "dateRange": { "from": "2026-01-01T00:00:00Z", "to": "2026-04-01T00:00:00Z" },
 *     "exclusions": [ { "type": "unsubscribe", "afterStep": 1, "beforeStep": 2 } ],
 *     "breakdown": "channel" }
 */

export const FUNNEL_LIMITS = {
  maxSteps: MAX_FUNNEL_STEPS,
  maxUnorderedSteps: MAX_UNORDERED_FUNNEL_STEPS,
  /**
   * Steps of one event type in an unordered funnel: an event may take any of
   * them, and the sets of steps an attempt can have taken grow with their
   * binomial count (over one actor's 1,000 such events, 6 steps took 1.4 s
   * here, 7 steps 7.5 s).
   */
  maxUnorderedStepsPerType: 6,
  maxExclusions: MAX_FUNNEL_EXCLUSIONS,
  maxConditionsPerStep: 10,
  maxHoldConstantKeys: 5,
  maxValuesPerCondition: 100,
  maxValueLength: 500,
  maxWindowDays: 3650,
  maxTieGraceSeconds: 3600,
  maxDateRangeDays: 3660,
  maxBreakdownGroups: 1000,
  maxBreakdownKeys: 3,
  maxLeadsPerPage: 10_000,
  maxTimeoutSeconds: MAX_QUERY_TIMEOUT_SECONDS,
} as const;

const WINDOW_UNIT_MS = { seconds: 1000, minutes: 60_000, hours: 3_600_000, days: 86_400_000 } as const;
const DAY_MS = WINDOW_UNIT_MS.days;

const KEY_MESSAGE = `must be one of ${ENVELOPE_KEYS.join(', ')} or properties.<path> (e.g. properties.x.utm_term)`;
export const Key = text({ error: KEY_MESSAGE })
  .max(200)
  .refine((k) => (ENVELOPE_KEYS as readonly string[]).includes(k) || (k.startsWith(PROPERTY_KEY_PREFIX) && k.length > PROPERTY_KEY_PREFIX.length), { message: KEY_MESSAGE });

/** Strings as they are; numbers and booleans as their JSON text, matching how properties are flattened. */
const Value = z
  .union([Text.max(FUNNEL_LIMITS.maxValueLength), z.number().finite(), z.boolean()], { error: `must be a string (at most ${FUNNEL_LIMITS.maxValueLength} characters), a number or a boolean` })
  .transform(scalarText);

const Condition = z.discriminatedUnion(
  'op',
  [
    z.strictObject({ key: Key, op: z.literal('eq'), value: Value }),
    z.strictObject({ key: Key, op: z.literal('in'), values: z.array(Value).min(1, { message: 'needs at least one value' }).max(FUNNEL_LIMITS.maxValuesPerCondition) }),
  ],
  { error: 'op must be "eq" (with value) or "in" (with values)' },
);

/** Types a person can do: spend is about no one (its touchpoint rows have no actor), so no step or cohort may name it. */
const ACTOR_EVENT_TYPES: readonly string[] = EVENT_TYPES.filter((t) => !ACTORLESS_TYPES.has(t));
export const EventType = z.string({ error: 'must be an event type (a string)' }).refine((t) => ACTOR_EVENT_TYPES.includes(t), {
  error: (issue) => `unknown event type "${String(issue.input).slice(0, 60)}"; known types: ${ACTOR_EVENT_TYPES.join(', ')}`,
});

const Matcher = {
  type: EventType,
  where: z.array(Condition).max(FUNNEL_LIMITS.maxConditionsPerStep).default([]),
};

const Step = z.strictObject({
  ...Matcher,
  label: Label.optional(),
  /** A chain may skip it (ordered and strict; never step 0): see "Optional steps" in the reference. */
  optional: z.boolean().default(false),
});

/** An event type with conditions, as a funnel step has (time to convert between touchpoint steps uses it too). */
export const StepMatcherSchema = z.strictObject(Matcher);

/** The normalised conditions (an `eq` is an `in` of one value) both the SQL and the reference match with. */
export const conditionsOf = (conditions: z.output<typeof StepMatcherSchema>['where']) => conditions.map((c) => ({ key: c.key, values: c.op === 'eq' ? [c.value] : c.values }));

const Exclusion = z.strictObject({
  ...Matcher,
  afterStep: z.number().int().nonnegative(),
  beforeStep: z.number().int().positive(),
});

// zod runs these object-level checks even when a field already failed, so
// each one passes when its inputs are unusable (that field's own issue is reported).
const Window = z
  .strictObject({ value: z.number().int().positive(), unit: z.enum(['seconds', 'minutes', 'hours', 'days']) })
  .refine((w) => !(w.value * (WINDOW_UNIT_MS[w.unit] ?? 0) > FUNNEL_LIMITS.maxWindowDays * DAY_MS), { message: `must be at most ${FUNNEL_LIMITS.maxWindowDays} days` });

const spanMs = (r: { from: unknown; to: unknown }) => (typeof r.from === 'string' && typeof r.to === 'string' ? Date.parse(r.to) - Date.parse(r.from) : Number.NaN);
const DateRange = z
  .strictObject({ from: OffsetDateTime, to: OffsetDateTime })
  .refine((r) => !(spanMs(r) <= 0), { message: 'from must be before to', path: ['to'] })
  .refine((r) => !(spanMs(r) > FUNNEL_LIMITS.maxDateRangeDays * DAY_MS), { message: `must span at most ${FUNNEL_LIMITS.maxDateRangeDays} days`, path: ['to'] });

const TIE_GRACE_MESSAGE = `must be a whole number of seconds, 0 to ${FUNNEL_LIMITS.maxTieGraceSeconds}`;

const Attribution = z
  .string({ error: 'must be first_touch, last_touch, all_values or step:N' })
  .regex(/^(first_touch|last_touch|all_values|step:(0|[1-9][0-9]?))$/, { message: 'must be first_touch, last_touch, all_values or step:N (N a 0-based step index)' })
  .transform((a) => a as FunnelAttribution);

export const FunnelDefinitionSchema = z
  .strictObject({
    steps: z.array(Step).min(1, { message: 'a funnel needs at least one step' }).max(FUNNEL_LIMITS.maxSteps, { message: `a funnel has at most ${FUNNEL_LIMITS.maxSteps} steps` }),
    /** ordered (default): steps in order, other events may come between; strict: nothing between; unordered: any order. */
    order: z.enum(['ordered', 'strict', 'unordered']).default('ordered'),
    /** Conversion window, measured from the step-0 event (inclusive). */
    window: Window,
    /** Range the funnel's first event must fall in: [from, to). */
    dateRange: DateRange,
    exclusions: z.array(Exclusion).max(FUNNEL_LIMITS.maxExclusions).default([]),
    /** Key to break down by, or up to 3 at once (a group per combination of values); each unit counts once, under the value `attribution` picks. */
    breakdown: z.union([Key, z.array(Key).min(1).max(FUNNEL_LIMITS.maxBreakdownKeys)], { error: `must be a key or a list of 1 to ${FUNNEL_LIMITS.maxBreakdownKeys} keys` }).optional(),
    /** Count the same funnel over a second range too: the period of equal length just before `dateRange`, or any range. */
    compareTo: z.union([z.literal('previous_period'), DateRange], { error: 'must be "previous_period" or a date range { from, to }' }).optional(),
    /** Add time to convert between consecutive steps and overall (mean, median, p90, histogram), in total and per breakdown value. */
    timeToConvert: z.boolean().default(false),
    /** Keys every step of a chain must share with its first event (the same deal, the same campaign): `["properties.dealId"]`. */
    holdConstant: z.array(Key).max(FUNNEL_LIMITS.maxHoldConstantKeys).default([]),
    // The counting choices: each is documented with the reference (queries/funnel/reference.ts) and in the README's "Funnel semantics".
    /** first_step: every step within the window of the step-0 event; per_step: of the previous step's event (ordered and strict). */
    windowAnchor: z.enum(['first_step', 'per_step']).default(FUNNEL_OPTION_DEFAULTS.windowAnchor),
    /** log_order: events at the same instant follow the log; funnel_order: the funnel (by the first step each matches), then the log. */
    ties: z.enum(['log_order', 'funnel_order']).default(FUNNEL_OPTION_DEFAULTS.ties),
    /** Read times at this resolution: each event's time floored to its N-second slot (from the epoch); events of one slot are at the same instant. */
    tieGraceSeconds: z
      .number({ error: TIE_GRACE_MESSAGE })
      .int({ error: TIE_GRACE_MESSAGE })
      .min(0, { error: TIE_GRACE_MESSAGE })
      .max(FUNNEL_LIMITS.maxTieGraceSeconds, { error: `must be at most ${FUNNEL_LIMITS.maxTieGraceSeconds} seconds (an hour)` })
      .default(FUNNEL_OPTION_DEFAULTS.tieGraceMs / 1000),
    /** first_step: only step 0 must lie in the date range; all_steps: every step (nothing at or after `to` is looked at). */
    dateScope: z.enum(['first_step', 'all_steps']).default(FUNNEL_OPTION_DEFAULTS.dateScope),
    /** drop_out: the actor stops before the exclusion's beforeStep; remove: an attempt touched by an exclusion counts at no step. */
    exclusionEffect: z.enum(['drop_out', 'remove']).default(FUNNEL_OPTION_DEFAULTS.exclusionEffect),
    /** best: the attempt reaching furthest counts (the earliest among equals); first: the first attempt in the range. */
    entry: z.enum(['best', 'first']).default(FUNNEL_OPTION_DEFAULTS.entry),
    /** false: a new attempt starts only after the previous one's window. */
    reentry: z.boolean().default(FUNNEL_OPTION_DEFAULTS.reentry),
    /** leads: unique actors; accounts: an account converts when any one of its leads does (best lead); accounts_pooled: its people's events pooled, a step done by any contact counts; totals: every attempt. */
    unit: z.enum(['leads', 'accounts', 'accounts_pooled', 'totals']).default(FUNNEL_OPTION_DEFAULTS.unit),
    /** Which event's value a unit is broken down by: first_touch (the step-0 event), last_touch (the furthest step's), step:N, or all_values (every attempt's first touch; groups overlap). */
    attribution: Attribution.default(FUNNEL_OPTION_DEFAULTS.attribution),
  })
  .superRefine((def, ctx) => {
    if (def.order === 'unordered' && def.steps.length > FUNNEL_LIMITS.maxUnorderedSteps) {
      ctx.addIssue({ code: 'custom', path: ['steps'], message: `an unordered funnel has at most ${FUNNEL_LIMITS.maxUnorderedSteps} steps (its exact count keeps every set of steps taken)` });
    }
    if (def.order === 'unordered') {
      const ofType = new Map<string, number>();
      def.steps.forEach((step, k) => {
        const count = (ofType.get(step.type) ?? 0) + 1;
        ofType.set(step.type, count);
        if (count === FUNNEL_LIMITS.maxUnorderedStepsPerType + 1) {
          ctx.addIssue({
            code: 'custom',
            path: ['steps', k, 'type'],
            message: `an unordered funnel has at most ${FUNNEL_LIMITS.maxUnorderedStepsPerType} steps of one event type (an event may take any of them, and the sets of steps taken grow combinatorially)`,
          });
        }
      });
    }
    if (def.order === 'unordered' && def.windowAnchor === 'per_step') {
      ctx.addIssue({ code: 'custom', path: ['windowAnchor'], message: 'per_step needs an order ("ordered" or "strict"): an unordered funnel has no previous step' });
    }
    if (def.order === 'unordered' && (def.attribution === 'last_touch' || def.attribution.startsWith('step:'))) {
      ctx.addIssue({ code: 'custom', path: ['attribution'], message: 'last_touch and step:N need an order ("ordered" or "strict")' });
    }
    const nth = attributionStep(def.attribution);
    if (nth !== undefined && nth >= def.steps.length) ctx.addIssue({ code: 'custom', path: ['attribution'], message: `step:N needs N below ${def.steps.length}` });
    if (def.order === 'unordered' && def.exclusions.length > 0) {
      ctx.addIssue({ code: 'custom', path: ['exclusions'], message: 'exclusions need an order ("ordered" or "strict"): in an unordered funnel no event is between two steps' });
    }
    def.exclusions.forEach((e, i) => {
      if (e.beforeStep >= def.steps.length) ctx.addIssue({ code: 'custom', path: ['exclusions', i, 'beforeStep'], message: `must be a step index below ${def.steps.length}` });
      if (e.afterStep >= e.beforeStep) ctx.addIssue({ code: 'custom', path: ['exclusions', i, 'afterStep'], message: 'must be below beforeStep' });
      for (const end of ['afterStep', 'beforeStep'] as const) {
        if (def.steps[e[end]]?.optional) ctx.addIssue({ code: 'custom', path: ['exclusions', i, end], message: `step ${e[end]} is optional: an exclusion runs between required steps` });
      }
    });
    def.steps.forEach((step, k) => {
      if (!step.optional) return;
      if (k === 0) ctx.addIssue({ code: 'custom', path: ['steps', 0, 'optional'], message: 'step 0 cannot be optional: it starts every attempt' });
      else if (def.order === 'unordered') ctx.addIssue({ code: 'custom', path: ['steps', k, 'optional'], message: 'optional steps need an order ("ordered" or "strict")' });
      else if (nth === k) ctx.addIssue({ code: 'custom', path: ['attribution'], message: `step:${k} names an optional step; step:N needs a required step` });
    });
  });

export type FunnelDefinitionInput = z.input<typeof FunnelDefinitionSchema>;
export type FunnelDefinition = z.output<typeof FunnelDefinitionSchema>;

const TIMEOUT_DESCRIPTION = `1 to ${FUNNEL_LIMITS.maxTimeoutSeconds} (default ${DEFAULT_QUERY_TIMEOUT_SECONDS}): the request's queries answer within it together, else 504 query-timeout`;
/** A whole number that may arrive as text: the options below travel in the API's query string. */
const OptionNumber = () => z.coerce.number().int();

export const FunnelQueryOptionsSchema = z.strictObject({
  /** The request answers 504 after this long, its queries together (each also stops at ClickHouse's max_execution_time). */
  timeoutSeconds: OptionNumber().min(1).max(FUNNEL_LIMITS.maxTimeoutSeconds).default(DEFAULT_QUERY_TIMEOUT_SECONDS).describe(TIMEOUT_DESCRIPTION),
  /** Breakdown groups returned (largest first); the totals still count everyone. */
  breakdownLimit: OptionNumber().min(1).max(FUNNEL_LIMITS.maxBreakdownGroups).default(50).describe('breakdown groups returned, largest first; the totals still count everyone'),
});
export type FunnelQueryOptions = z.output<typeof FunnelQueryOptionsSchema>;

export const FunnelLeadsQuerySchema = z.strictObject({
  /** 0-based step. */
  stepIndex: OptionNumber().min(0).max(FUNNEL_LIMITS.maxSteps - 1).describe('the step, 0-based'),
  /** reached: leads who got at least to this step; dropped: got to this step and no further. */
  status: z.enum(['reached', 'dropped']).default('reached'),
  /** Only leads counted under this breakdown value. */
  breakdownValue: Text.max(FUNNEL_LIMITS.maxValueLength).optional(),
  limit: OptionNumber().min(1).max(FUNNEL_LIMITS.maxLeadsPerPage).default(100),
  /** Paging cursor: the `nextAfter` of the previous page. */
  after: Text.max(300).optional().describe('paging cursor: the nextAfter of the previous page'),
  timeoutSeconds: OptionNumber().min(1).max(FUNNEL_LIMITS.maxTimeoutSeconds).default(DEFAULT_QUERY_TIMEOUT_SECONDS).describe(TIMEOUT_DESCRIPTION),
});
export type FunnelLeadsQuery = z.output<typeof FunnelLeadsQuerySchema>;

export interface FieldIssue {
  /** dotted path, e.g. `steps.1.where.0.key`; empty for the definition itself */
  field: string;
  message: string;
}

/**
 * Parses with `schema`, naming every bad field. The input is reported with
 * each issue so a missing field ("required") is told apart from one of the
 * wrong type, whose message says what was expected.
 */
export function parseFields<T>(schema: z.ZodType<T>, input: unknown): { ok: true; value: T } | { ok: false; issues: FieldIssue[] } {
  const parsed = schema.safeParse(input, { reportInput: true });
  if (parsed.success) return { ok: true, value: parsed.data };
  return { ok: false, issues: parsed.error.issues.map((i) => ({ field: i.path.map(String).join('.'), message: describe(i) })) };
}

function describe(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return `unknown propert${issue.keys.length > 1 ? 'ies' : 'y'}: ${issue.keys.join(', ')}`;
  if (issue.code === 'invalid_type' && issue.input === undefined) return 'required';
  return issue.message;
}

/** Validates a funnel definition, naming every bad field (for a 400 problem+json). */
export function parseFunnelDefinition(input: unknown): { ok: true; definition: FunnelDefinition } | { ok: false; issues: FieldIssue[] } {
  const parsed = parseFields(FunnelDefinitionSchema, input);
  return parsed.ok ? { ok: true, definition: parsed.value } : parsed;
}

/** The normalised form both the SQL and the reference count. */
export function funnelSpecOf(def: FunnelDefinition): FunnelSpec {
  return {
    steps: def.steps.map((s) => ({ type: s.type, where: conditionsOf(s.where), ...(s.optional ? { optional: true } : {}) })),
    order: def.order,
    windowMs: def.window.value * WINDOW_UNIT_MS[def.window.unit],
    fromMs: instantMs(def.dateRange.from),
    toMs: instantMs(def.dateRange.to),
    exclusions: def.exclusions.map((e) => ({ type: e.type, where: conditionsOf(e.where), afterStep: e.afterStep, beforeStep: e.beforeStep })),
    breakdown: def.breakdown,
    holdConstant: def.holdConstant,
    timeToConvert: def.timeToConvert,
    options: {
      windowAnchor: def.windowAnchor,
      ties: def.ties,
      tieGraceMs: def.tieGraceSeconds * 1000,
      dateScope: def.dateScope,
      exclusionEffect: def.exclusionEffect,
      entry: def.entry,
      reentry: def.reentry,
      unit: def.unit,
      attribution: def.attribution,
    },
  };
}
