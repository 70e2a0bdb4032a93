import type { Grade, Quadrant } from '@sluice/schemas';
import { type Attribution, type LeadCore, type LeadState, type SideEpisode, type SideStateKind, type StageEntry, checkVersion, coreOf, foldTouchpoints, roundScore, touchpointsOf } from './lead.js';
import type { Profile } from './match.js';
import { type CompiledRules, type Rules, rulesOf } from './rules.js';
import { asInstant } from './time.js';

/**
 * A lead as of an explicit instant: time rules (decay, grade, pool recycling,
 * SLA breaches) are evaluated at `asOf`, never at the wall clock. An as-of
 * before the lead's last event folds only the touchpoints up to it, so the
 * snapshot is what the lead looked like then.
 */

/** One row for the projector's stage-transition table; (subject, to) is unique per lead. */
export interface StageTransition {
  readonly leadId: string | undefined;
  readonly anonymousId: string | undefined;
  /** the stage left; null for the first stage reached */
  readonly from: string | null;
  readonly to: string;
  readonly at: number;
  readonly skipped: boolean;
  readonly rule: string;
  readonly eventId: string;
  readonly configVersion: string;
}

export type SlaStatus = 'met' | 'breached' | 'pending';

export interface SlaView {
  /** when the lead entered the SLA's start stage */
  readonly startedAt: number;
  readonly firstTouch: {
    readonly dueAt: number;
    readonly at: number | undefined;
    readonly eventId: string | undefined;
    readonly minutes: number | undefined;
    readonly status: SlaStatus;
  };
  readonly attempts:
    | { readonly required: number; readonly count: number; readonly windowEndsAt: number; readonly status: SlaStatus }
    | undefined;
}

export interface LeadSnapshot {
  readonly leadId: string | undefined;
  readonly anonymousId: string | undefined;
  readonly mergedInto: string | undefined;
  readonly configVersion: string;
  readonly asOf: number;
  /** furthest stage reached (undefined before any) */
  readonly stage: string | undefined;
  readonly stageEnteredAt: number | undefined;
  readonly isCustomer: boolean;
  readonly stages: readonly StageEntry[];
  readonly transitions: readonly StageTransition[];
  readonly sideState: { readonly state: SideStateKind; readonly reason: string; readonly rule: string | undefined; readonly since: number } | undefined;
  readonly sideHistory: readonly SideEpisode[];
  readonly scores: { readonly fit: number; readonly engagement: number; readonly total: number };
  readonly grade: Grade;
  readonly quadrant: Quadrant;
  readonly nextAction: string;
  readonly sla: SlaView | undefined;
  readonly owner: string | undefined;
  readonly businessUnit: string;
  readonly accountId: string | undefined;
  readonly profile: Profile;
  readonly attribution: Attribution;
  readonly firstTouchAt: number | undefined;
  readonly lastTouchAt: number | undefined;
  readonly lastSalesTouchAt: number | undefined;
  readonly touchpoints: number;
}

/** The fold as of t: the shared core, or a fold of the touchpoints up to t when t is before the last one. */
function coreAsOf(state: LeadState, t: number, rules: CompiledRules): LeadCore {
  const core = coreOf(state, rules);
  if (t >= core.lastAt) return core;
  const list = touchpointsOf(state);
  let n = list.length;
  while (n > 0 && list[n - 1]!.at > t) n--;
  return foldTouchpoints(list, n, rules);
}

export function leadStateAsOf(state: LeadState, asOf: number | string, rules: Rules): LeadSnapshot {
  const compiled = rulesOf(rules);
  checkVersion(state, compiled);
  const t = asInstant(asOf);
  const core = coreAsOf(state, t, compiled);
  const config = compiled.config;

  const fit = roundScore(core.fit);
  const engagement = roundScore(core.engagementAt(t));
  const total = roundScore(fit + engagement);
  const graded = config.grades.basis === 'fit' ? fit : config.grades.basis === 'total' ? total : engagement;
  const grade: Grade = graded >= config.grades.hot ? 'hot' : graded >= config.grades.warm ? 'warm' : 'cold';
  const isFit = fit >= config.quadrants.fitAtLeast;
  const isInterested = engagement >= config.quadrants.interestAtLeast;
  const quadrant: Quadrant = isFit ? (isInterested ? 'fit_interested' : 'fit_not_interested') : isInterested ? 'interested_no_fit' : 'neither';

  // a pool rule due by the as-of instant shows here; the core only records it when the next event is folded
  const due = core.dueRecycle(t);
  const side = due ?? core.currentSide();
  const entries = core.entries.slice();
  const current = entries[core.stageIndex];
  const unit = core.profile.businessUnit === undefined ? undefined : compiled.businessUnitOf.get(core.profile.businessUnit.toLowerCase());
  return {
    leadId: state.subject.kind === 'lead' ? state.subject.leadId : undefined,
    anonymousId: state.subject.kind === 'anonymous' ? state.subject.anonymousId : undefined,
    mergedInto: state.mergedInto,
    configVersion: compiled.version,
    asOf: t,
    stage: current?.stage,
    stageEnteredAt: current?.at,
    isCustomer: core.stageIndex >= compiled.customerStageIndex,
    stages: entries,
    transitions: transitionsOf(state, entries),
    sideState: side && { state: side.state, reason: side.reason, rule: side.rule, since: side.from },
    sideHistory: due ? [...core.episodes, due] : core.episodes.slice(),
    scores: { fit, engagement, total },
    grade,
    quadrant,
    nextAction: config.quadrants.actions[quadrant],
    sla: slaView(core, t, compiled),
    owner: core.owner,
    businessUnit: unit ?? config.businessUnits.default,
    accountId: core.accountId,
    profile: core.profile,
    attribution: core.attribution,
    firstTouchAt: core.firstAt,
    lastTouchAt: core.size === 0 ? undefined : core.lastAt,
    lastSalesTouchAt: core.lastSalesTouchAt,
    touchpoints: core.size,
  };
}

/** The transitions into entries[start, end). */
function transitionsOf(state: LeadState, entries: readonly StageEntry[], start = 0, end = entries.length): StageTransition[] {
  const out: StageTransition[] = [];
  for (let i = start; i < end; i++) {
    const e = entries[i]!;
    out.push({
      leadId: state.subject.kind === 'lead' ? state.subject.leadId : undefined,
      anonymousId: state.subject.kind === 'anonymous' ? state.subject.anonymousId : undefined,
      from: i === 0 ? null : entries[i - 1]!.stage,
      to: e.stage,
      at: e.at,
      skipped: e.skipped,
      rule: e.rule,
      eventId: e.eventId,
      configVersion: state.configVersion,
    });
  }
  return out;
}

/** Every stage transition of the lead so far (they do not depend on an as-of: stages move only at events). */
export function stageTransitions(state: LeadState, rules: Rules): StageTransition[] {
  const compiled = rulesOf(rules);
  checkVersion(state, compiled);
  return transitionsOf(state, coreOf(state, compiled).entries);
}

/**
 * What changed in the transitions between two states of one lead, for the
 * projector: an older event arriving late can move an entry time, change a
 * rule, or (an older disqualification) remove a later transition.
 */
export function transitionChanges(before: LeadState, after: LeadState, rules: Rules): { upserts: StageTransition[]; removals: StageTransition[] } {
  const b = before;
  const a = after;
  if (b.core === a.core && b.size <= a.size && coreOf(after, rulesOf(rules)) === a.core) {
    // one line of in-place steps only appends entries: the new ones are the changes
    return { upserts: transitionsOf(after, a.core.entries, b.entryCount, a.entryCount), removals: [] };
  }
  const old = new Map(stageTransitions(before, rules).map((t) => [t.to, t]));
  const next = stageTransitions(after, rules);
  const upserts = next.filter((t) => {
    const o = old.get(t.to);
    return o === undefined || o.from !== t.from || o.at !== t.at || o.skipped !== t.skipped || o.rule !== t.rule || o.eventId !== t.eventId;
  });
  const kept = new Set(next.map((t) => t.to));
  return { upserts, removals: [...old.values()].filter((t) => !kept.has(t.to)) };
}

function slaView(d: LeadCore, t: number, rules: CompiledRules): SlaView | undefined {
  const sla = rules.sla;
  if (sla === undefined || d.stageIndex < sla.startStageIndex) return undefined;
  const startedAt = d.entries[sla.startStageIndex]!.at;
  const dueAt = startedAt + sla.firstTouchMs;
  const touch = d.slaFirstTouch;
  const firstTouch = {
    dueAt,
    at: touch?.at,
    eventId: touch?.eventId,
    minutes: touch && (touch.at - startedAt) / 60_000,
    status: (touch ? (touch.at <= dueAt ? 'met' : 'breached') : t > dueAt ? 'breached' : 'pending') as SlaStatus,
  };
  const a = sla.attempts;
  const attempts = a && {
    required: a.atLeast,
    count: d.slaAttempts,
    windowEndsAt: startedAt + a.windowMs,
    status: (d.slaAttempts >= a.atLeast ? 'met' : t >= startedAt + a.windowMs ? 'breached' : 'pending') as SlaStatus,
  };
  return { startedAt, firstTouch, attempts };
}

/** One line of a score's explanation: the rule and the points it holds at the instant. */
export interface ScoreLine {
  readonly rule: string;
  readonly points: number;
}

export interface ScoreBreakdown {
  readonly asOf: number;
  /** each fit rule the profile matches; a `fit.bounds` line when the configured min/max cut the sum */
  readonly fit: readonly ScoreLine[];
  /**
   * each engagement rule holding points at the instant (faded by the half-life
   * when it decays, capped at accrual); one `engagement.frequency-and-bounds`
   * line holds what frequency rules add and the min/max cut, so the lines sum
   * to the score
   */
  readonly engagement: readonly ScoreLine[];
}

const SHOWN = 0.005;

/** Why a lead has its scores at `asOf`: the lines add up to the fit and engagement of leadStateAsOf. */
export function scoreBreakdown(state: LeadState, asOf: number | string, rules: Rules): ScoreBreakdown {
  const compiled = rulesOf(rules);
  checkVersion(state, compiled);
  const t = asInstant(asOf);
  const core = coreAsOf(state, t, compiled);
  const fit: ScoreLine[] = [];
  let fitSum = 0;
  for (const r of compiled.fit.rules) {
    if (!r.holds(core.profile)) continue;
    fit.push({ rule: r.id, points: r.points });
    fitSum += r.points;
  }
  const fitBounds = roundScore(core.fit) - roundScore(fitSum);
  if (Math.abs(fitBounds) >= SHOWN) fit.push({ rule: 'fit.bounds', points: roundScore(fitBounds) });
  const engagement: ScoreLine[] = [];
  let engagementSum = 0;
  compiled.engagement.rules.forEach((r, i) => {
    const points = roundScore(core.engagementRuleAt(i, t));
    if (Math.abs(points) < SHOWN) return;
    engagement.push({ rule: r.id, points });
    engagementSum += points;
  });
  const rest = roundScore(roundScore(core.engagementAt(t)) - engagementSum);
  if (Math.abs(rest) >= SHOWN) engagement.push({ rule: 'engagement.frequency-and-bounds', points: rest });
  return { asOf: t, fit, engagement };
}
