import type { FunnelStepCount } from '@sluice/domain';
import { ACCOUNT_UNIT_PREFIX, ATTEMPT_POSITION_DIGITS, funnelStepCounts, parseActorId } from '@sluice/domain';
import type { AnalyticsClient } from './client.js';
import { settingsClause } from './client.js';
import type { FunnelDefinition, FunnelLeadsQuery, FunnelQueryOptions } from './funnel-definition.js';
import { FunnelLeadsQuerySchema, FunnelQueryOptionsSchema, funnelSpecOf } from './funnel-definition.js';
import { Params, funnelActorsSql } from './funnel-sql.js';

export interface FunnelStepResult extends FunnelStepCount {
  type: string;
  label?: string;
}

export interface FunnelResult {
  /** What `leads` counts in every step: actors (`leads`), accounts or attempts (`totals`). */
  unit: FunnelDefinition['unit'];
  steps: FunnelStepResult[];
  breakdown?: {
    key: string;
    /** Largest first (leads at step 0), then by value; at most `breakdownLimit`. */
    groups: Array<{ value: string; steps: FunnelStepCount[] }>;
    /** True when more groups exist than were returned (the totals still count them). */
    truncated: boolean;
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
  /** Breakdown value this lead is counted under ('' without a breakdown). */
  breakdownValue: string;
  /** When the lead's best chain started (its step-0 event), ISO 8601 UTC. */
  enteredAt: string;
}

interface CountRow {
  breakdown: string;
  reached_per_step: Array<number | string>;
  total_per_step: Array<number | string>;
}

/** Counts a funnel: leads reaching each step, conversion and drop-off, optionally per breakdown value. */
export async function runFunnel(client: AnalyticsClient, definition: FunnelDefinition, options: Partial<FunnelQueryOptions> = {}): Promise<FunnelResult> {
  const opts = FunnelQueryOptionsSchema.parse(options);
  const spec = funnelSpecOf(definition);
  const p = new Params();
  const actors = funnelActorsSql(spec, p);
  const n = p.bind('n_steps', 'UInt64', spec.steps.length);
  const limit = p.bind('group_limit', 'UInt32', opts.breakdownLimit);
  // The totals ride on every group row as a window over the groups (computed
  // before LIMIT), not WITH TOTALS: chDB garbles JSON output with totals and
  // no rows.
  const sql = `
    SELECT breakdown, sumForEach(arrayMap(k -> toUInt64(reached > k), range(${n}))) AS reached_per_step, sumForEach(reached_per_step) OVER () AS total_per_step
    FROM (${actors})
    GROUP BY breakdown
    ORDER BY reached_per_step[1] DESC, breakdown
    LIMIT ${limit}
    ${settingsClause({ max_execution_time: opts.timeoutSeconds })}`;
  const rows = await client.rows<CountRow>(sql, p.values);
  const counts = (perStep: ReadonlyArray<number | string> | undefined) => Array.from({ length: spec.steps.length }, (_, k) => Number(perStep?.[k] ?? 0));
  const steps = funnelStepCounts(counts(rows[0]?.total_per_step)).map((s, k) => {
    const step = definition.steps[k]!;
    return { ...s, type: step.type, ...(step.label === undefined ? {} : { label: step.label }) };
  });
  if (spec.breakdown === undefined) return { unit: definition.unit, steps };
  const groups = rows.map((r) => ({ value: r.breakdown, steps: funnelStepCounts(counts(r.reached_per_step)) }));
  const grouped = groups.reduce((sum, g) => sum + g.steps[0]!.leads, 0);
  return { unit: definition.unit, steps, breakdown: { key: spec.breakdown, groups, truncated: grouped < steps[0]!.leads } };
}

/** The leads at a step of a funnel (or dropping out after it), by lead id, paged. */
export async function listFunnelLeads(
  client: AnalyticsClient,
  definition: FunnelDefinition,
  query: Partial<FunnelLeadsQuery> & Pick<FunnelLeadsQuery, 'stepIndex'>,
): Promise<{ leads: FunnelLead[]; nextAfter: string | null }> {
  const q = FunnelLeadsQuerySchema.parse(query);
  if (q.stepIndex >= definition.steps.length) throw new RangeError(`stepIndex ${q.stepIndex} is past the funnel's last step (${definition.steps.length - 1})`);
  const spec = funnelSpecOf(definition);
  const p = new Params();
  const actors = funnelActorsSql(spec, p);
  const conditions = [`reached > ${p.bind('step_index', 'UInt64', q.stepIndex)}`];
  if (q.status === 'dropped') conditions.push(`reached = ${p.bind('step_reached', 'UInt64', q.stepIndex + 1)}`);
  if (q.breakdownValue !== undefined) conditions.push(`breakdown = ${p.bind('breakdown_value', 'String', q.breakdownValue)}`);
  if (q.after !== undefined) conditions.push(`actor_id > ${p.bind('after', 'String', q.after)}`);
  const sql = `
    SELECT actor_id, reached, breakdown, entered_ms
    FROM (${actors})
    WHERE ${conditions.join(' AND ')}
    ORDER BY actor_id
    LIMIT ${p.bind('page_limit', 'UInt32', q.limit + 1)}
    ${settingsClause({ max_execution_time: q.timeoutSeconds })}`;
  const rows = await client.rows<{ actor_id: string; reached: number | string; breakdown: string; entered_ms: number | string }>(sql, p.values);
  const page = rows.slice(0, q.limit);
  return {
    leads: page.map((r) => ({
      unitId: r.actor_id,
      ...unitOf(r.actor_id),
      reachedSteps: Number(r.reached),
      breakdownValue: r.breakdown,
      enteredAt: new Date(Number(r.entered_ms)).toISOString(),
    })),
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
