import type { FunnelSpec, FunnelStepCount, FunnelTimeToConvert } from './queries/funnel/reference.js';
import { instantMs, parseActorId } from '@sluice/domain';
import { ACCOUNT_UNIT_PREFIX, ATTEMPT_POSITION_DIGITS, breakdownKeys, breakdownText, funnelStepCounts, funnelTimeToConvert, optionalMask, skippedSteps } from './queries/funnel/reference.js';
import type { AnalyticsClient } from './client.js';
import { settingsClause } from './client.js';
import type { FunnelDefinition, FunnelLeadsQuery, FunnelQueryOptions } from './funnel-definition.js';
import { FunnelLeadsQuerySchema, FunnelQueryOptionsSchema, funnelSpecOf } from './funnel-definition.js';
import { Params, funnelActorsSql, hasFunnelValues } from './funnel-sql.js';

/** A breakdown value as ClickHouse returns it: the value, or the values of several keys. */
type BreakdownCell = string | string[];

/** What a unit row of funnelActorsSql carries for counting. */
interface UnitRow {
  reached: number | string;
  breakdown: BreakdownCell;
  /** with optional steps: a mask of the optional steps below `reached` it does not count at */
  skipped?: number | string;
  reached_at?: Array<number | string>;
}

/** The steps of a mask, in order. */
const stepsOfMask = (mask: number | string): number[] => [...BigInt(mask).toString(2)].reverse().flatMap((b, k) => (b === '1' ? [k] : []));

/** A unit's reach as the reference states it: the optional steps it skipped (with optional steps), when it first took each step (null where skipped). */
function reachOf(r: UnitRow): { skipped?: number[]; reachedAtMs?: Array<number | null> } {
  const skipped = r.skipped === undefined ? undefined : stepsOfMask(r.skipped);
  return {
    ...(skipped === undefined ? {} : { skipped }),
    ...(r.reached_at === undefined ? {} : { reachedAtMs: r.reached_at.map((ms, k) => (skipped?.includes(k) ? null : Number(ms))) }),
  };
}

/** A value_reach entry's reach: with optional steps its third element is the mask of the steps it counts at (32 bits at most). */
function valueReachOf(spec: FunnelSpec, reached: number, taken: number | string | undefined): { reached: number; skipped?: number[] } {
  return taken === undefined ? { reached } : { reached, skipped: skippedSteps(spec, reached, Number(taken)) };
}

const textOf = (spec: FunnelSpec, cell: BreakdownCell) => (typeof cell === 'string' ? cell : breakdownText(spec, cell));

/** The result's names for the breakdown: `key` (several keys joined by commas) and `keys`. */
function breakdownKeysOf(spec: FunnelSpec): { key: string; keys: string[] } {
  const keys = [...breakdownKeys(spec)!];
  return { key: keys.join(','), keys };
}

/** A `breakdownValue` of a breakdown by several keys: their values' JSON array, as the groups name it. */
function breakdownValuesOf(text: string): string[] {
  const values: unknown = (() => {
    try {
      return JSON.parse(text);
    } catch {
      return undefined;
    }
  })();
  if (!Array.isArray(values) || !values.every((v) => typeof v === 'string')) throw new RangeError('with several breakdown keys, breakdownValue is the JSON array of their values, as the groups name it');
  return values as string[];
}

export interface FunnelStepResult extends FunnelStepCount {
  type: string;
  label?: string;
  /** A chain may skip it; its conversion and drop-off, and the next step's, are measured from the previous required step. */
  optional?: true;
}

export interface FunnelResult extends FunnelCountsResult {
  /** What `leads` counts in every step: actors (`leads`), accounts or attempts (`totals`). */
  unit: FunnelDefinition['unit'];
  /** With `timeToConvert`: between consecutive steps and from the first to the last, in total and per breakdown value. */
  timeToConvert?: FunnelTimeToConvert;
  /** With `compareTo`: the same funnel over the other date range. */
  comparison?: FunnelCountsResult & { dateRange: FunnelDefinition['dateRange'] };
}

/** The counts of one date range. */
export interface FunnelCountsResult {
  steps: FunnelStepResult[];
  breakdown?: {
    /** The breakdown key; several are joined by commas (see `keys`) and each group's value is the JSON array of their values. */
    key: string;
    keys: string[];
    /** Largest first (leads at step 0), then by value; at most `breakdownLimit`. */
    groups: Array<{ value: string; steps: FunnelStepCount[] }>;
    /** True when more groups exist than were returned (the totals still count them). */
    truncated: boolean;
    /** all_values attribution: a unit counts in several groups, which may add up to more than the totals. */
    overlapping?: true;
  };
}

export interface FunnelLead {
  /** What was counted (the paging key): the lead or `anon~<id>`; under `accounts` `account~<id>` (or an actor without an account); under `totals` `<actor>~<anchor position>`. */
  unitId: string;
  leadId: string | null;
  /** Set under `accounts` for an account. */
  accountId: string | null;
  /** Set for an anonymous visitor no lead has claimed yet. */
  anonymousId: string | null;
  /** Steps reached (1 = step 0 only). */
  reachedSteps: number;
  /** With optional steps: those below reachedSteps it does not count at. */
  skippedSteps?: number[];
  /** Breakdown value this lead is counted under ('' without a breakdown). */
  breakdownValue: string;
  /** When the lead's best chain started (its step-0 event), ISO 8601 UTC. */
  enteredAt: string;
  /** all_values attribution: every value the unit counts under and how far, by value. */
  values?: Array<{ value: string; reachedSteps: number; skippedSteps?: number[] }>;
  /** With timeToConvert: when the counted attempt first reached each step, ISO 8601 UTC, one per step reached (null: a skipped optional step). */
  reachedAt?: Array<string | null>;
}

/** A page of the leads at a step. */
export interface FunnelLeadPage {
  leads: FunnelLead[];
  /** the paging cursor of the next page; null on the last */
  nextAfter: string | null;
}

interface CountRow {
  breakdown: BreakdownCell;
  reached_per_step: Array<number | string>;
  total_per_step: Array<number | string>;
}

/** Counts a funnel: units reaching each step, conversion and drop-off, optionally per breakdown value, and beside a second date range with `compareTo`. */
export async function runFunnel(client: AnalyticsClient, definition: FunnelDefinition, options: Partial<FunnelQueryOptions> = {}): Promise<FunnelResult> {
  const opts = FunnelQueryOptionsSchema.parse(options);
  const counted = { ...(await countFunnelRange(client, definition, opts)), ...(definition.timeToConvert ? { timeToConvert: await timeToConvertOf(client, definition, opts) } : {}) };
  if (definition.compareTo === undefined) return { unit: definition.unit, ...counted };
  const dateRange = comparedRange(definition);
  return { unit: definition.unit, ...counted, comparison: { dateRange, ...(await countFunnelRange(client, { ...definition, dateRange }, opts)) } };
}

/**
 * Time to convert between the steps: the units' first-reach times from
 * ClickHouse, the statistics by the reference's own function (one row per
 * unit crosses the wire: it is asked for, not the default).
 */
async function timeToConvertOf(client: AnalyticsClient, definition: FunnelDefinition, opts: FunnelQueryOptions): Promise<FunnelTimeToConvert> {
  const spec = funnelSpecOf(definition);
  const p = new Params();
  const skipped = optionalMask(spec) === 0 ? '' : ', skipped';
  const rows = await client.rows<UnitRow>(`SELECT reached, breakdown, reached_at${skipped} FROM (${funnelActorsSql(spec, p)}) ${settingsClause({ max_execution_time: opts.timeoutSeconds })}`, p.values);
  const outcomes = rows.map((r) => ({ actorId: '', enteredAtMs: 0, reached: Number(r.reached), breakdown: textOf(spec, r.breakdown), ...reachOf(r) }));
  return funnelTimeToConvert(outcomes, spec);
}

/** The range `compareTo` names: the one given, or the period of the same length just before the funnel's. */
function comparedRange(definition: FunnelDefinition): FunnelDefinition['dateRange'] {
  if (definition.compareTo !== 'previous_period') return definition.compareTo!;
  const from = instantMs(definition.dateRange.from);
  return { from: new Date(from - (instantMs(definition.dateRange.to) - from)).toISOString(), to: new Date(from).toISOString() };
}

async function countFunnelRange(client: AnalyticsClient, definition: FunnelDefinition, opts: FunnelQueryOptions): Promise<FunnelCountsResult> {
  const spec = funnelSpecOf(definition);
  const p = new Params();
  const actors = funnelActorsSql(spec, p);
  const n = p.bind('n_steps', 'UInt64', spec.steps.length);
  const limit = p.bind('group_limit', 'UInt32', opts.breakdownLimit);
  const counted = optionalMask(spec) === 0 ? 'reached > k' : 'reached > k AND NOT bitTest(skipped, k)';
  const perStep = `sumForEach(arrayMap(k -> toUInt64(${counted}), range(${n})))`;
  const settings = settingsClause({ max_execution_time: opts.timeoutSeconds });
  if (hasFunnelValues(spec)) return countOverlappingGroups(client, definition, spec, actors, p, { perStep, limit, settings });
  // The totals ride on every group row as a window over the groups (computed
  // before LIMIT), not WITH TOTALS: chDB garbles JSON output with totals and
  // no rows.
  const sql = `
    SELECT breakdown, ${perStep} AS reached_per_step, sumForEach(reached_per_step) OVER () AS total_per_step
    FROM (${actors})
    GROUP BY breakdown
    ORDER BY reached_per_step[1] DESC, breakdown
    LIMIT ${limit}
    ${settings}`;
  const rows = await client.rows<CountRow>(sql, p.values);
  const steps = stepResults(definition, spec, rows[0]?.total_per_step);
  if (spec.breakdown === undefined) return { steps };
  const groups = rows.map((r) => ({ value: textOf(spec, r.breakdown), steps: funnelStepCounts(perStepCounts(definition, r.reached_per_step), spec) }));
  const grouped = groups.reduce((sum, g) => sum + g.steps[0]!.leads, 0);
  return { steps, breakdown: { ...breakdownKeysOf(spec), groups, truncated: grouped < steps[0]!.leads } };
}

const perStepCounts = (definition: FunnelDefinition, perStep: ReadonlyArray<number | string> | undefined) => Array.from({ length: definition.steps.length }, (_, k) => Number(perStep?.[k] ?? 0));

function stepResults(definition: FunnelDefinition, spec: FunnelSpec, perStep: ReadonlyArray<number | string> | undefined): FunnelStepResult[] {
  return funnelStepCounts(perStepCounts(definition, perStep), spec).map((s, k) => {
    const step = definition.steps[k]!;
    return { ...s, type: step.type, ...(step.label === undefined ? {} : { label: step.label }), ...(step.optional ? { optional: true as const } : {}) };
  });
}

/**
 * all_values: a unit is in the group of every value it counts under, so the
 * totals are their own query and a group count says whether LIMIT cut some.
 */
async function countOverlappingGroups(
  client: AnalyticsClient,
  definition: FunnelDefinition,
  spec: FunnelSpec,
  actors: string,
  p: Params,
  sql: { perStep: string; limit: string; settings: string },
): Promise<FunnelCountsResult> {
  const [totals, rows] = await Promise.all([
    client.rows<{ total_per_step: Array<number | string> }>(`SELECT ${sql.perStep} AS total_per_step FROM (${actors}) ${sql.settings}`, p.values),
    client.rows<{ breakdown: BreakdownCell; reached_per_step: Array<number | string>; group_count: number | string }>(
      `SELECT breakdown, ${sql.perStep} AS reached_per_step, count() OVER () AS group_count
       FROM (SELECT tupleElement(v, 1) AS breakdown, tupleElement(v, 2) AS reached${optionalMask(spec) === 0 ? '' : ', bitAnd(bitShiftLeft(toUInt64(1), reached) - 1, bitNot(tupleElement(v, 3))) AS skipped'} FROM (${actors}) ARRAY JOIN value_reach AS v)
       GROUP BY breakdown
       ORDER BY reached_per_step[1] DESC, breakdown
       LIMIT ${sql.limit}
       ${sql.settings}`,
      p.values,
    ),
  ]);
  const groups = rows.map((r) => ({ value: textOf(spec, r.breakdown), steps: funnelStepCounts(perStepCounts(definition, r.reached_per_step), spec) }));
  return {
    steps: stepResults(definition, spec, totals[0]?.total_per_step),
    breakdown: { ...breakdownKeysOf(spec), groups, truncated: Number(rows[0]?.group_count ?? 0) > rows.length, overlapping: true },
  };
}

/** The leads at a step of a funnel (or dropping out after it), by lead id, paged. */
export async function listFunnelLeads(
  client: AnalyticsClient,
  definition: FunnelDefinition,
  query: Partial<FunnelLeadsQuery> & Pick<FunnelLeadsQuery, 'stepIndex'>,
): Promise<FunnelLeadPage> {
  const q = FunnelLeadsQuerySchema.parse(query);
  if (q.stepIndex >= definition.steps.length) throw new RangeError(`stepIndex ${q.stepIndex} is past the funnel's last step (${definition.steps.length - 1})`);
  const spec = funnelSpecOf(definition);
  const p = new Params();
  const actors = funnelActorsSql(spec, p);
  const optional = optionalMask(spec) !== 0;
  const stepIndex = p.bind('step_index', 'UInt64', q.stepIndex);
  const conditions = [`reached > ${stepIndex}`, ...(optional ? [`NOT bitTest(skipped, ${stepIndex})`] : [])];
  if (q.status === 'dropped') conditions.push(`reached = ${p.bind('step_reached', 'UInt64', q.stepIndex + 1)}`);
  const allValues = hasFunnelValues(spec);
  if (q.breakdownValue !== undefined) {
    const value = typeof spec.breakdown === 'string' ? p.bind('breakdown_value', 'String', q.breakdownValue) : p.bind('breakdown_value', 'Array(String)', breakdownValuesOf(q.breakdownValue));
    conditions.push(allValues ? `arrayExists(v -> v.1 = ${value}, value_reach)` : `breakdown = ${value}`);
  }
  if (q.after !== undefined) conditions.push(`actor_id > ${p.bind('after', 'String', q.after)}`);
  const sql = `
    SELECT actor_id, reached, breakdown, entered_ms${optional ? ', skipped' : ''}${allValues ? ', value_reach' : ''}${spec.timeToConvert ? ', reached_at' : ''}
    FROM (${actors})
    WHERE ${conditions.join(' AND ')}
    ORDER BY actor_id
    LIMIT ${p.bind('page_limit', 'UInt32', q.limit + 1)}
    ${settingsClause({ max_execution_time: q.timeoutSeconds })}`;
  const rows = await client.rows<UnitRow & { actor_id: string; entered_ms: number | string; value_reach?: Array<[BreakdownCell, number | string, (number | string)?]> }>(sql, p.values);
  const page = rows.slice(0, q.limit);
  return {
    leads: page.map((r) => {
      const { skipped, reachedAtMs } = reachOf(r);
      return {
        unitId: r.actor_id,
        ...unitOf(r.actor_id),
        reachedSteps: Number(r.reached),
        ...(skipped === undefined ? {} : { skippedSteps: skipped }),
        breakdownValue: textOf(spec, r.breakdown),
        enteredAt: new Date(Number(r.entered_ms)).toISOString(),
        ...(reachedAtMs === undefined ? {} : { reachedAt: reachedAtMs.map((ms) => (ms === null ? null : new Date(ms).toISOString())) }),
        ...(r.value_reach === undefined
          ? {}
          : {
              values: r.value_reach.map(([value, reached, taken]) => {
                const reach = valueReachOf(spec, Number(reached), taken);
                return { value: textOf(spec, value), reachedSteps: reach.reached, ...(reach.skipped === undefined ? {} : { skippedSteps: reach.skipped }) };
              }),
            }),
      };
    }),
    nextAfter: rows.length > q.limit ? page[page.length - 1]!.actor_id : null,
  };
}

const ATTEMPT_SUFFIX = new RegExp(`~\\d{${ATTEMPT_POSITION_DIGITS}}$`);

/** The lead, visitor or account a unit id names (an attempt's id names its actor). */
function unitOf(unitId: string): { leadId: string | null; anonymousId: string | null; accountId: string | null } {
  if (unitId.startsWith(ACCOUNT_UNIT_PREFIX)) return { leadId: null, anonymousId: null, accountId: unitId.slice(ACCOUNT_UNIT_PREFIX.length) };
  const attempt = ATTEMPT_SUFFIX.exec(unitId);
  return { ...parseActorId(attempt ? unitId.slice(0, attempt.index) : unitId), accountId: null };
}
