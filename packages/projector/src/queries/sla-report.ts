import { DateTime } from 'luxon';
import { costPeriods, quantileInclusive } from '@sluice/domain';
import type { RuleConfig } from '@sluice/schemas';
import type { ProjectionStore } from '../store/projection-store.js';

/**
 * The marketing <-> sales SLA report for a period, over the SLA facts the
 * projector records per lead (clock start, first sales touch, attempts in
 * the window; see domain). The targets are the rules' `sla` section, the
 * same the planner's SLA draft is given.
 *
 * - The leads: those whose SLA clock started (they entered `sla.startStage`,
 *   skipped or not) in [from, to); anonymous histories merged into a lead
 *   are the lead's, and an anonymous visitor is nobody sales could contact.
 * - Marketing: per business unit, leads delivered against `mqlsPerMonth` x
 *   the months of the range (a partial month counts by its share of time,
 *   in the business zone).
 * - Sales, evaluated at `asOf`: the first touch is met at or before the due
 *   instant (start + firstTouchWithinMinutes; exactly at it is met), breached
 *   after it or when none came by a due instant already past, else pending.
 *   Attempts are met at `atLeast` within the window, breached when the window
 *   closed (at or before asOf) short of it, else pending. Per owner and per
 *   business unit; a breaching lead is listed.
 * - Speed and persistence against conversion: per bucket of minutes to first
 *   touch (and never touched), per attempt count, the leads that reached the
 *   stage after startStage and the customers among them.
 */

export interface SlaReportOptions {
  fromMs: number;
  toMs: number;
  /** the instant statuses are evaluated at */
  asOfMs: number;
  /** breaching leads listed at most (the count is always complete) */
  breachLimit?: number;
}

type Status = 'met' | 'breached' | 'pending';

export interface SlaGroupRow {
  key: string;
  leads: number;
  contacted: number;
  firstTouch: Record<Status, number>;
  /** null when the rules set no attempts target */
  attempts: Record<Status, number> | null;
  breachedLeads: number;
  /** minutes to first touch over the contacted leads (R-7 quantiles); null when none was contacted */
  medianMinutes: number | null;
  p90Minutes: number | null;
}

export interface BreachingLead {
  leadId: string;
  owner: string | null;
  businessUnit: string;
  startedAt: string;
  firstTouchDueAt: string;
  firstTouchAt: string | null;
  minutesToFirstTouch: number | null;
  attempts: number | null;
  attemptsRequired: number | null;
  breaches: Array<'first_touch' | 'attempts'>;
}

export interface ConversionBucket {
  label: string;
  leads: number;
  /** reached the stage after the SLA's start stage */
  converted: number;
  customers: number;
  /** converted / leads; null when the bucket has no leads */
  rate: number | null;
}

export interface SlaReport {
  range: { from: string; to: string };
  asOf: string;
  targets: {
    startStage: string;
    nextStage: string | null;
    firstTouchWithinMinutes: number;
    attempts: { atLeast: number; withinDays: number } | null;
    mqlsPerMonth: Readonly<Record<string, number>> | null;
  };
  marketing: Array<{ businessUnit: string; delivered: number; committed: number | null; met: boolean | null }>;
  sales: { total: SlaGroupRow; byBusinessUnit: SlaGroupRow[]; byOwner: SlaGroupRow[] };
  breaches: { total: number; leads: BreachingLead[]; truncated: boolean };
  speedToLead: ConversionBucket[];
  persistence: ConversionBucket[] | null;
}

/** The rules measure no SLA (`sla: null`, or a custom model without one). */
export class SlaNotConfiguredError extends Error {
  constructor(version: string) {
    super(`the rules ${version} set no SLA (sla is null): there is nothing to report against`);
    this.name = 'SlaNotConfiguredError';
  }
}

/** Speed-to-lead buckets in minutes: the literature's 5 minutes first, then the common hand-off targets. */
const SPEED_EDGES = [5, 60, 240, 1440, 10080] as const;

/** A lead whose SLA clock started, as any adapter selects it for the report (`converted` 1 when it reached the next stage). */
export interface SlaLeadRow {
  subject: string;
  owner: string | null;
  business_unit: string;
  is_customer: number;
  sla_started_at: number;
  sla_first_touch_due_at: number;
  sla_first_touch_at: number | null;
  sla_attempts: number | null;
  sla_attempts_required: number | null;
  sla_attempts_window_ends_at: number | null;
  converted: number;
}

interface Evaluated {
  row: SlaLeadRow;
  minutes: number | null;
  firstTouch: Status;
  attempts: Status | null;
}

const iso = (ms: number) => new Date(ms).toISOString();
const LEAD_PREFIX = 'lead-';

function evaluate(row: SlaLeadRow, asOfMs: number): Evaluated {
  const touched = row.sla_first_touch_at;
  const firstTouch: Status = touched !== null ? (touched <= row.sla_first_touch_due_at ? 'met' : 'breached') : asOfMs > row.sla_first_touch_due_at ? 'breached' : 'pending';
  let attempts: Status | null = null;
  if (row.sla_attempts_required !== null) {
    attempts = (row.sla_attempts ?? 0) >= row.sla_attempts_required ? 'met' : asOfMs >= row.sla_attempts_window_ends_at! ? 'breached' : 'pending';
  }
  return { row, minutes: touched === null ? null : (touched - row.sla_started_at) / 60_000, firstTouch, attempts };
}

const counts = (): Record<Status, number> => ({ met: 0, breached: 0, pending: 0 });
const isBreach = (e: Evaluated) => e.firstTouch === 'breached' || e.attempts === 'breached';

function groupRow(key: string, leads: readonly Evaluated[], withAttempts: boolean): SlaGroupRow {
  const firstTouch = counts();
  const attempts = withAttempts ? counts() : null;
  const minutes: number[] = [];
  for (const e of leads) {
    firstTouch[e.firstTouch] += 1;
    if (attempts !== null && e.attempts !== null) attempts[e.attempts] += 1;
    if (e.minutes !== null) minutes.push(e.minutes);
  }
  return {
    key,
    leads: leads.length,
    contacted: minutes.length,
    firstTouch,
    attempts,
    breachedLeads: leads.filter(isBreach).length,
    medianMinutes: quantileInclusive(minutes, 0.5),
    p90Minutes: quantileInclusive(minutes, 0.9),
  };
}

function groupBy(leads: readonly Evaluated[], keyOf: (e: Evaluated) => string, withAttempts: boolean): SlaGroupRow[] {
  const groups = new Map<string, Evaluated[]>();
  for (const e of leads) groups.set(keyOf(e), [...(groups.get(keyOf(e)) ?? []), e]);
  return [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, rows]) => groupRow(key, rows, withAttempts));
}

function bucket(label: string, leads: readonly Evaluated[]): ConversionBucket {
  const converted = leads.filter((e) => e.row.converted === 1).length;
  return { label, leads: leads.length, converted, customers: leads.filter((e) => e.row.is_customer === 1).length, rate: leads.length === 0 ? null : converted / leads.length };
}

const minutesLabel = (m: number) => (m % 1440 === 0 ? `${m / 1440}d` : m % 60 === 0 ? `${m / 60}h` : `${m}m`);

function speedToLead(leads: readonly Evaluated[]): ConversionBucket[] {
  const out: ConversionBucket[] = [];
  let lower = 0;
  for (const edge of [...SPEED_EDGES, Number.POSITIVE_INFINITY]) {
    const inside = leads.filter((e) => e.minutes !== null && e.minutes >= lower && e.minutes < edge);
    out.push(bucket(edge === Number.POSITIVE_INFINITY ? `>= ${minutesLabel(lower)}` : `${lower === 0 ? '0' : minutesLabel(lower)}-${minutesLabel(edge)}`, inside));
    lower = edge;
  }
  out.push(bucket('never', leads.filter((e) => e.minutes === null)));
  return out;
}

function persistence(leads: readonly Evaluated[], required: number): ConversionBucket[] {
  const out: ConversionBucket[] = [];
  for (let n = 0; n < required; n++) out.push(bucket(String(n), leads.filter((e) => (e.row.sla_attempts ?? 0) === n)));
  out.push(bucket(`>= ${required}`, leads.filter((e) => (e.row.sla_attempts ?? 0) >= required)));
  return out;
}

/** Months of the range in the zone, a partial month by its share of the month's time. */
function monthsIn(fromMs: number, toMs: number, timeZone: string): number {
  return costPeriods(fromMs, toMs, 'month', timeZone).reduce((sum, p) => {
    const month = DateTime.fromMillis(p.startMs, { zone: timeZone }).startOf('month');
    return sum + (p.endMs - p.startMs) / (month.plus({ months: 1 }).toMillis() - month.toMillis());
  }, 0);
}

/** The SLA the rules set and the stage after its start stage (null when it is the last); SlaNotConfiguredError when they set none. */
export function slaTargetsOf(rules: RuleConfig): { sla: NonNullable<RuleConfig['sla']>; nextStage: string | null } {
  const sla = rules.sla;
  if (sla === undefined) throw new SlaNotConfiguredError(rules.version);
  const stages = rules.stageModel.stages.map((s) => s.id);
  return { sla, nextStage: stages[stages.indexOf(sla.startStage) + 1] ?? null };
}

export function slaReport(projections: ProjectionStore, rules: RuleConfig, options: SlaReportOptions): SlaReport {
  const { nextStage } = slaTargetsOf(rules);
  const rows = projections.db
    .prepare(
      `SELECT l.subject, l.owner, l.business_unit, l.is_customer, l.sla_started_at, l.sla_first_touch_due_at, l.sla_first_touch_at,
         l.sla_attempts, l.sla_attempts_required, l.sla_attempts_window_ends_at,
         EXISTS (SELECT 1 FROM stage_transitions t WHERE t.subject = l.subject AND t.to_stage = @next) AS converted
       FROM leads l
       WHERE l.kind = 'lead' AND l.sla_started_at >= @from AND l.sla_started_at < @to
       ORDER BY l.sla_started_at, l.subject`,
    )
    .all({ from: options.fromMs, to: options.toMs, next: nextStage }) as SlaLeadRow[];
  return slaReportOf(rules, options, rows);
}

/** The report from the leads whose clock started in the range, ordered by start and subject, whichever adapter selected them. */
export function slaReportOf(rules: RuleConfig, options: SlaReportOptions, rows: readonly SlaLeadRow[]): SlaReport {
  const { sla, nextStage } = slaTargetsOf(rules);
  const leads = rows.map((r) => evaluate(r, options.asOfMs));
  const withAttempts = sla.attempts !== undefined;

  const delivered = new Map<string, number>(rules.businessUnits.units.map((u) => [u.id, 0]));
  for (const r of rows) delivered.set(r.business_unit, (delivered.get(r.business_unit) ?? 0) + 1);
  const months = monthsIn(options.fromMs, options.toMs, rules.timeZone);
  const marketing = [...delivered.entries()].map(([businessUnit, count]) => {
    const perMonth = sla.mqlsPerMonth?.[businessUnit];
    const committed = perMonth === undefined ? null : perMonth * months;
    return { businessUnit, delivered: count, committed, met: committed === null ? null : count >= committed };
  });

  const breaching = leads.filter(isBreach);
  const limit = options.breachLimit ?? 100;
  return {
    range: { from: iso(options.fromMs), to: iso(options.toMs) },
    asOf: iso(options.asOfMs),
    targets: {
      startStage: sla.startStage,
      nextStage,
      firstTouchWithinMinutes: sla.firstTouchWithinMinutes,
      attempts: sla.attempts === undefined ? null : { atLeast: sla.attempts.atLeast, withinDays: sla.attempts.withinDays },
      mqlsPerMonth: sla.mqlsPerMonth ?? null,
    },
    marketing,
    sales: {
      total: groupRow('all', leads, withAttempts),
      byBusinessUnit: groupBy(leads, (e) => e.row.business_unit, withAttempts),
      byOwner: groupBy(leads, (e) => e.row.owner ?? '', withAttempts),
    },
    breaches: {
      total: breaching.length,
      truncated: breaching.length > limit,
      leads: breaching.slice(0, limit).map((e) => ({
        leadId: e.row.subject.slice(LEAD_PREFIX.length),
        owner: e.row.owner,
        businessUnit: e.row.business_unit,
        startedAt: iso(e.row.sla_started_at),
        firstTouchDueAt: iso(e.row.sla_first_touch_due_at),
        firstTouchAt: e.row.sla_first_touch_at === null ? null : iso(e.row.sla_first_touch_at),
        minutesToFirstTouch: e.minutes,
        attempts: e.row.sla_attempts,
        attemptsRequired: e.row.sla_attempts_required,
        breaches: [...(e.firstTouch === 'breached' ? (['first_touch'] as const) : []), ...(e.attempts === 'breached' ? (['attempts'] as const) : [])],
      })),
    },
    speedToLead: speedToLead(leads),
    persistence: sla.attempts === undefined ? null : persistence(leads, sla.attempts.atLeast),
  };
}
