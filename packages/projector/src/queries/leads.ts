import type { EventStore } from '@sluice/event-store';
import { asInstant, compileRules, leadStateAsOf, scoreBreakdown } from '@sluice/domain';
import type { ScoreBreakdown } from '@sluice/domain';
import type { Grade, Quadrant, RuleConfig } from '@sluice/schemas';
import { foldSubjectFromLog } from '../engine/loader.js';
import { parkedPositions } from '../store/parked.js';
import { LEAD_COLUMNS, type StoredStageEntry, leadRow } from '../engine/rows.js';
import type { ProjectionStore } from '../store/projection-store.js';

type SlaStatus = 'met' | 'breached' | 'pending';

/** A lead (or an anonymous visitor) as the API shows it; times are ISO 8601 UTC. */
export interface LeadView {
  /** as-of views only: each rule's points at that instant, adding up to the scores */
  readonly scoreBreakdown?: ScoreBreakdown;
  readonly kind: 'lead' | 'anonymous';
  readonly id: string;
  /** anonymous only: the lead that owns this history */
  readonly mergedInto: string | null;
  readonly configVersion: string;
  /** the instant the view describes: the lead's last event, or the as-of asked for */
  readonly asOf: string | null;
  readonly stage: string | null;
  readonly stageEnteredAt: string | null;
  readonly stages: readonly { readonly stage: string; readonly at: string; readonly skipped: boolean; readonly rule: string }[];
  readonly isCustomer: boolean;
  readonly sideState: { readonly state: string; readonly reason: string; readonly rule: string | null; readonly since: string } | null;
  readonly scores: { readonly fit: number; readonly engagement: number; readonly total: number };
  readonly grade: Grade;
  readonly quadrant: Quadrant;
  readonly nextAction: string;
  readonly owner: string | null;
  readonly businessUnit: string;
  readonly accountId: string | null;
  readonly attribution: { readonly source: string | null; readonly channel: string | null; readonly campaign: string | null };
  readonly profile: Record<string, unknown>;
  readonly firstTouchAt: string | null;
  readonly lastTouchAt: string | null;
  readonly lastSalesTouchAt: string | null;
  readonly touchpoints: number;
  readonly sla: {
    readonly startedAt: string;
    readonly firstTouch: { readonly dueAt: string; readonly at: string | null; readonly minutes: number | null; readonly status: SlaStatus };
    readonly attempts: { readonly required: number; readonly count: number; readonly windowEndsAt: string; readonly status: SlaStatus } | null;
    readonly breached: boolean;
  } | null;
}

/** A `leads` row as any adapter reads it: the columns of LEAD_COLUMNS, times as epoch ms, booleans as 0/1. */
export type LeadRow = Record<(typeof LEAD_COLUMNS)[number], string | number | null>;

const iso = (ms: number | string | null): string | null => (ms === null ? null : new Date(ms as number).toISOString());
const str = (v: string | number | null): string | null => (v === null ? null : String(v));

/** A `leads` row as the API shows it, as of its own last event or of `asOf`. */
export function leadViewOf(r: LeadRow, asOf: number | undefined): LeadView {
  const touched = (r.touchpoints as number) > 0;
  const at = asOf ?? (touched ? (r.last_touch_at as number) : null);
  return {
    kind: r.kind as LeadView['kind'],
    id: r.id as string,
    mergedInto: str(r.merged_into),
    configVersion: r.config_version as string,
    asOf: iso(at),
    stage: str(r.stage),
    stageEnteredAt: iso(r.stage_entered_at),
    stages: (JSON.parse(r.stages as string) as StoredStageEntry[]).map((s) => ({ ...s, at: iso(s.at)! })),
    isCustomer: r.is_customer === 1,
    sideState: r.side_state === null ? null : { state: r.side_state as string, reason: r.side_reason as string, rule: str(r.side_rule), since: iso(r.side_since)! },
    scores: { fit: r.fit as number, engagement: r.engagement as number, total: r.total as number },
    grade: r.grade as Grade,
    quadrant: r.quadrant as Quadrant,
    nextAction: r.next_action as string,
    owner: str(r.owner),
    businessUnit: r.business_unit as string,
    accountId: str(r.account_id),
    attribution: { source: str(r.source), channel: str(r.channel), campaign: str(r.campaign) },
    profile: JSON.parse(r.profile as string) as Record<string, unknown>,
    firstTouchAt: iso(r.first_touch_at),
    lastTouchAt: touched ? iso(r.last_touch_at) : null,
    lastSalesTouchAt: iso(r.last_sales_touch_at),
    touchpoints: r.touchpoints as number,
    sla:
      r.sla_started_at === null
        ? null
        : {
            startedAt: iso(r.sla_started_at)!,
            firstTouch: {
              dueAt: iso(r.sla_first_touch_due_at)!,
              at: iso(r.sla_first_touch_at),
              minutes: r.sla_first_touch_minutes as number | null,
              status: r.sla_first_touch_status as SlaStatus,
            },
            attempts:
              r.sla_attempts_required === null
                ? null
                : {
                    required: r.sla_attempts_required as number,
                    count: r.sla_attempts as number,
                    windowEndsAt: iso(r.sla_attempts_window_ends_at)!,
                    status: r.sla_attempts_status as SlaStatus,
                  },
            breached: r.sla_breached === 1,
          },
  };
}

export interface LeadSource {
  projections: ProjectionStore;
  /** needed for an as-of view: the lead is folded again from its streams */
  store?: Pick<EventStore, 'readStream'>;
  /** the rules the projections were built under (checked), for an as-of view */
  config?: RuleConfig;
}

/**
 * One lead. Without `asOf`: the read model, the lead as of its own last event
 * (scores, grade and SLA statuses at that instant). With `asOf`: the lead
 * folded again from the log up to the projections' checkpoint and evaluated
 * by the domain at that instant (decay, pool recycling, SLA breaches), which
 * needs `store` and `config`. Undefined for an unknown lead.
 */
export async function getLead(source: LeadSource, leadId: string, asOf?: number | string): Promise<LeadView | undefined> {
  const { projections } = source;
  const row = projections.db.prepare('SELECT * FROM leads WHERE subject = ?').get(`lead-${leadId}`) as LeadRow | undefined;
  if (row === undefined || asOf === undefined) return row && leadViewOf(row, undefined);
  const built = projections.state();
  const links = projections.db.prepare('SELECT anonymous_id FROM identity_links WHERE lead_id = ?').pluck();
  return leadAsOf(source, { position: built.position, configVersion: built.config?.version }, leadId, asOf, {
    ownedAnonymousIds: () => links.all(leadId) as string[],
    parked: parkedPositions(projections.db),
  });
}

/**
 * A known lead folded again from the log up to the read models' checkpoint
 * (`built`) and evaluated by the domain at `asOf`, with its score breakdown:
 * what any adapter answers for a lead as of an instant, given what its store
 * holds (the anonymous histories the lead owns, the parked positions).
 */
export async function leadAsOf(
  source: Pick<LeadSource, 'store' | 'config'>,
  built: { readonly position: number; readonly configVersion: string | undefined },
  leadId: string,
  asOf: number | string,
  held: { readonly ownedAnonymousIds: () => readonly string[]; readonly parked: ReadonlySet<number> },
): Promise<LeadView> {
  const { store, config } = source;
  if (store === undefined || config === undefined) throw new Error('getLead as of an instant needs the event store and the rule configuration');
  if (built.configVersion !== config.version) throw new Error(`the read models were built under rules ${built.configVersion ?? '(none)'}, not ${config.version}`);
  const rules = compileRules(config);
  const subject = { key: `lead-${leadId}`, kind: 'lead', id: leadId } as const;
  const state = await foldSubjectFromLog(store, subject, built.position + 1, rules, held.ownedAnonymousIds, held.parked);
  const t = asInstant(asOf);
  const values = leadRow(subject, leadStateAsOf(state, t, rules));
  return { ...leadViewOf(Object.fromEntries(LEAD_COLUMNS.map((c, i) => [c, values[i]!])) as LeadRow, t), scoreBreakdown: scoreBreakdown(state, t, rules) };
}

export interface LeadFilter {
  /** default 'lead'; 'anonymous' lists visitors no lead has claimed */
  kind?: 'lead' | 'anonymous';
  stage?: string;
  grade?: Grade;
  quadrant?: Quadrant;
  owner?: string;
  businessUnit?: string;
  /**
   * SLA breached (or not). Evaluated at `asOf` when given (the API passes
   * now: a first touch still missing after its due time is a breach), else at
   * each lead's last event.
   */
  slaBreached?: boolean;
  /** epoch ms or ISO; only the SLA filter uses it (scores and grades are as of each lead's last event; getLead gives them at any instant) */
  asOf?: number | string;
}

export interface LeadPage {
  readonly items: readonly LeadView[];
  /** pass back for the next page; undefined on the last one */
  readonly nextCursor: string | undefined;
}

const breachedAt = `(sla_started_at IS NOT NULL AND (
    (sla_first_touch_at IS NOT NULL AND sla_first_touch_at > sla_first_touch_due_at)
    OR (sla_first_touch_at IS NULL AND @asOf > sla_first_touch_due_at)
    OR (sla_attempts_required IS NOT NULL AND sla_attempts < sla_attempts_required AND @asOf >= sla_attempts_window_ends_at)))`;

export class InvalidCursorError extends Error {
  readonly code = 'INVALID_CURSOR';
  constructor() {
    super('the cursor is not one this API handed out');
    this.name = 'InvalidCursorError';
  }
}

/** The position a listing cursor stands for (InvalidCursorError for one no adapter handed out). */
export function decodeLeadCursor(cursor: string): { at: number; subject: string } {
  try {
    const [at, subject] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (typeof at === 'number' && typeof subject === 'string') return { at, subject };
  } catch {
    // reported below
  }
  throw new InvalidCursorError();
}

export const encodeLeadCursor = (r: Pick<LeadRow, 'last_touch_at' | 'subject'>): string => Buffer.from(JSON.stringify([r.last_touch_at, r.subject])).toString('base64url');

/** A page of leads holds 1..1000 (RangeError otherwise), whichever adapter lists them. */
export function checkLeadPageLimit(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > 1000) throw new RangeError(`limit must be 1..1000, got ${limit}`);
}

/**
 * Leads from the read model, most recently touched first, filtered, a page at
 * a time (keyset pagination: a page never repeats or skips a lead while the
 * projector writes, except one whose last touch moved in between).
 */
export function listLeads(projections: ProjectionStore, filter: LeadFilter = {}, cursor?: string, limit = 50): LeadPage {
  checkLeadPageLimit(limit);
  const where = ['kind = @kind'];
  const params: Record<string, string | number> = { kind: filter.kind ?? 'lead', limit: limit + 1 };
  if ((filter.kind ?? 'lead') === 'anonymous') where.push('merged_into IS NULL');
  const equal = { stage: filter.stage, grade: filter.grade, quadrant: filter.quadrant, owner: filter.owner, business_unit: filter.businessUnit };
  for (const [column, value] of Object.entries(equal)) {
    if (value === undefined) continue;
    where.push(`${column} = @${column}`);
    params[column] = value;
  }
  if (filter.slaBreached !== undefined) {
    const breached = filter.asOf === undefined ? 'sla_breached = 1' : breachedAt;
    if (filter.asOf !== undefined) params['asOf'] = asInstant(filter.asOf);
    where.push(filter.slaBreached ? breached : `NOT COALESCE(${breached}, 0)`);
  }
  if (cursor !== undefined) {
    const c = decodeLeadCursor(cursor);
    where.push('(last_touch_at < @cursorAt OR (last_touch_at = @cursorAt AND subject > @cursorSubject))');
    params['cursorAt'] = c.at;
    params['cursorSubject'] = c.subject;
  }
  const rows = projections.db.prepare(`SELECT * FROM leads WHERE ${where.join(' AND ')} ORDER BY last_touch_at DESC, subject LIMIT @limit`).all(params) as LeadRow[];
  const page = rows.slice(0, limit);
  return { items: page.map((r) => leadViewOf(r, undefined)), nextCursor: rows.length > limit ? encodeLeadCursor(page.at(-1)!) : undefined };
}

export interface TransitionView {
  readonly from: string | null;
  readonly to: string;
  readonly at: string;
  readonly skipped: boolean;
  readonly rule: string;
  readonly eventId: string;
  readonly configVersion: string;
}

/** A `stage_transitions` row as any adapter reads it. */
export interface TransitionRow {
  from_stage: string | null;
  to_stage: string;
  at: number;
  skipped: number;
  rule: string;
  event_id: string;
  config_version: string;
}

/** A lead's stage transitions, in the stage model's order. */
export function leadTransitions(projections: ProjectionStore, leadId: string): TransitionView[] {
  const rows = projections.db
    .prepare('SELECT from_stage, to_stage, at, skipped, rule, event_id, config_version FROM stage_transitions WHERE subject = ?')
    .all(`lead-${leadId}`) as TransitionRow[];
  return transitionViewsOf(rows, projections.state().config?.stages ?? []);
}

/** Transition rows as the API shows them, in the order of `stages` (the rules' stage model). */
export function transitionViewsOf(rows: readonly TransitionRow[], stages: readonly string[]): TransitionView[] {
  const order = new Map(stages.map((stage, i) => [stage, i]));
  return [...rows]
    .sort((a, b) => (order.get(a.to_stage) ?? 0) - (order.get(b.to_stage) ?? 0))
    .map((r) => ({ from: r.from_stage, to: r.to_stage, at: iso(r.at)!, skipped: r.skipped === 1, rule: r.rule, eventId: r.event_id, configVersion: r.config_version }));
}
