import type { EventType, IdentityLinked, ScoreName, SluiceEvent } from '@sluice/schemas';
import type { Profile } from './match.js';
import { type CompiledRules, type EvalContext, type Rules, rulesOf } from './rules.js';
import { instantOf } from './time.js';

/**
 * A lead's lifecycle as a decider: `initialLeadState`, then `evolve` per event.
 *
 * Out-of-order arrival: a lead's touchpoints are kept sorted by (occurredAt,
 * event id) and everything else is a left fold of `LeadCore.step` over that
 * list. An event that sorts last (the usual case) is one step; an older one is
 * inserted and the fold re-run, so the result never depends on arrival order.
 * A repeated event id is ignored (at-least-once delivery).
 *
 * The fold uses event time only: pool rules that fall due between two events
 * are applied when the later event is folded, and `leadStateAsOf` applies them
 * up to an explicit as-of instant. No wall clock anywhere.
 *
 * Immutability at the speed of mutation: a full replay must sustain 300k
 * events/s on 2 cores, and copying a lead's state per event (copies that
 * outlive the young generation when many leads interleave) cost more than the
 * rules. So a state is a small immutable handle onto an append-only touchpoint
 * buffer and a mutable fold ("core") of it:
 * - evolving the newest state of a lead appends to the buffer and steps the
 *   core in place, and the new handle becomes the newest;
 * - the previous handle still sees exactly its own touchpoints (the buffer
 *   prefix never changes) and, no longer newest, reads re-fold that prefix;
 * - evolving an older handle (a branch) or inserting an older event copies the
 *   buffer and folds a fresh core.
 * So states behave as values: evolve never changes what another state reads as.
 * Memory: a lead keeps one compact Touchpoint per event (needed to re-fold when
 * an older event arrives); a projector holding many leads should evict idle
 * ones and rebuild them from their streams with foldLead.
 */

export type Subject = { readonly kind: 'lead'; readonly leadId: string } | { readonly kind: 'anonymous'; readonly anonymousId: string };

/** What evolve accepts: producer events, and the identity link Sluice writes into anonymous streams. */
export type DomainEvent = SluiceEvent | IdentityLinked;

/**
 * An event as a lead's fold needs it, matched against the compiled rules once
 * at intake: re-folds never match again, and a lead's state holds this small
 * record per event rather than the parsed event (the log keeps those).
 */
export interface Touchpoint {
  /** occurredAt as epoch ms */
  readonly at: number;
  readonly id: string;
  readonly type: EventType;
  /** the envelope's account and attribution, when the event carries any */
  readonly envelope: TouchpointEnvelope | undefined;
  /** the owner named (owner_assigned, sales_accepted), the reason (disqualified), or the profile facts (identify) */
  readonly detail: string | Profile | undefined;
  /** indices of the engagement rules, frequency rules and condition slots the event matches */
  readonly engagementRules: readonly number[];
  readonly frequencyRules: readonly number[];
  readonly slots: readonly number[];
  /** SALES_TOUCH | REQUALIFIES | RECYCLES | SLA_ATTEMPT */
  readonly flags: number;
}

export interface TouchpointEnvelope {
  readonly accountId: string | undefined;
  readonly source: string | undefined;
  readonly channel: string | undefined;
  readonly campaign: string | undefined;
}

const SALES_TOUCH = 1;
const REQUALIFIES = 2;
const RECYCLES = 4;
const SLA_ATTEMPT = 8;
const NONE: readonly number[] = [];

function matchingRules(ids: readonly number[] | undefined, rules: readonly { readonly matches: (e: SluiceEvent) => boolean }[], e: SluiceEvent): readonly number[] {
  if (ids === undefined) return NONE;
  let out: number[] | undefined;
  for (const i of ids) if (rules[i]!.matches(e)) (out ??= []).push(i);
  return out ?? NONE;
}

function detailOf(e: SluiceEvent): string | Profile | undefined {
  switch (e.type) {
    case 'owner_assigned':
    case 'sales_accepted':
      return e.properties.ownerId;
    case 'disqualified':
      return e.properties.reason;
    case 'identify': {
      const { x: _x, ...facts } = e.properties;
      return facts.email === undefined ? facts : { ...facts, emailDomain: facts.email.slice(facts.email.lastIndexOf('@') + 1).toLowerCase() };
    }
    default:
      return undefined;
  }
}

/** Matches an event against the compiled rules, once. */
export function touchpointOf(e: SluiceEvent, rules: CompiledRules): Touchpoint {
  const eng = rules.engagement;
  const hasEnvelope = e.accountId !== undefined || e.source !== undefined || e.channel !== undefined || e.campaign !== undefined;
  return {
    at: instantOf(e.occurredAt),
    id: e.id,
    type: e.type,
    envelope: hasEnvelope ? { accountId: e.accountId, source: e.source, channel: e.channel, campaign: e.campaign } : undefined,
    detail: detailOf(e),
    engagementRules: matchingRules(eng.rulesByType.get(e.type), eng.rules, e),
    frequencyRules: matchingRules(eng.frequencyByType.get(e.type), eng.frequency, e),
    slots: matchingRules(rules.slotsByType.get(e.type), rules.slotMatchers, e),
    flags:
      (rules.salesTouch(e) ? SALES_TOUCH : 0) |
      (rules.requalifies(e) ? REQUALIFIES : 0) |
      (rules.recycles(e) ? RECYCLES : 0) |
      (rules.sla?.attempts?.matches(e) ? SLA_ATTEMPT : 0),
  };
}

export interface StageEntry {
  readonly stage: string;
  readonly at: number;
  /** passed through without its own rule holding (a later stage was reached directly) */
  readonly skipped: boolean;
  /** the entry rule that fired; for a skipped stage, the rule of the stage that was reached */
  readonly rule: string;
  readonly eventId: string;
}

export type SideStateKind = 'disqualified' | 'recycled';

/** A stretch of time in a side state; `until` is undefined while it lasts. */
export interface SideEpisode {
  readonly state: SideStateKind;
  /** disqualify reason, the recycling event's type, or `no_follow_up` / `stalled` for pool rules */
  readonly reason: string;
  /** the pool rule id, when a pool rule put the lead there */
  readonly rule: string | undefined;
  /** the event that put the lead there, when an event did */
  readonly eventId: string | undefined;
  readonly from: number;
  readonly until: number | undefined;
}

export interface Attribution {
  readonly source: string | undefined;
  readonly channel: string | undefined;
  readonly campaign: string | undefined;
}

/**
 * One handle per event (so it is a single flat object). The fields after
 * `absorbed` are internal: read a state through leadStateAsOf, touchpointsOf
 * and stageTransitions.
 */
export interface LeadState {
  readonly subject: Subject;
  readonly configVersion: string;
  /** anonymous subject: the lead that owns this history (named by the first identity_linked) */
  readonly mergedInto: string | undefined;
  /** lead subject: anonymous histories absorbed into this lead */
  readonly absorbed: readonly string[];
  /** sorted by (at, id), no two with the same id; shared by the handles of one line of states, append-only */
  readonly buffer: Touchpoint[];
  /** this state's touchpoints are buffer[0, size) */
  readonly size: number;
  /** the fold of buffer[0, core.size); this state's own fold while it is the newest handle of its line */
  readonly core: LeadCore;
  readonly stamp: number;
  /** how many stage entries this state has (entries are only ever appended along a line of states) */
  readonly entryCount: number;
}

const clamp = (x: number, min: number, max: number) => (x < min ? min : x > max ? max : x);
/** Scores are compared and shown at 2 decimals, so decay arithmetic never decides a threshold by 1e-15. */
export const roundScore = (x: number) => Math.round(x * 100) / 100;

function decayFactor(rules: CompiledRules, elapsedMs: number): number {
  const h = rules.engagement.halfLifeMs;
  return h === undefined || elapsedMs === 0 ? 1 : Math.pow(2, -elapsedMs / h);
}

/** Keeps the last `keep` entries of a small window array, in place. */
function pushRecent(recent: number[], t: number, keep: number): void {
  if (keep === 0) return;
  if (recent.length >= keep) recent.shift();
  recent.push(t);
}

/**
 * The fold of a lead's touchpoints, mutated in place by `step`. It doubles as
 * the evaluation context of stage conditions, so evaluating them allocates
 * nothing.
 */
export class LeadCore implements EvalContext {
  stamp = 0;
  size = 0;
  firstAt: number | undefined = undefined;
  /** time of the last folded touchpoint; -Infinity before the first */
  lastAt = -Infinity;
  /** index of the furthest stage reached; -1 before any */
  stageIndex = -1;
  /** entries[i] is stage i: stages are reached in order, from the first */
  readonly entries: StageEntry[] = [];
  profile: Profile = {};
  fit: number;
  /** sum of decaying engagement points, as of lastAt */
  engagementDecaying = 0;
  engagementFlat = 0;
  /** per engagement rule: its contribution as of ruleAt[i] (for caps) */
  readonly ruleValues: number[];
  readonly ruleAt: number[];
  readonly frequencyRecent: number[][];
  readonly frequencyAwardedAt: number[];
  readonly slotCounts: number[];
  readonly slotTimes: number[][];
  readonly episodes: SideEpisode[] = [];
  /** the open episode (the last one, while its until is undefined) */
  private side: SideEpisode | undefined = undefined;
  lastSalesTouchAt: number | undefined = undefined;
  lastReactivationAt: number | undefined = undefined;
  owner: string | undefined = undefined;
  accountId: string | undefined = undefined;
  attribution: Attribution = { source: undefined, channel: undefined, campaign: undefined };
  slaFirstTouch: { readonly at: number; readonly eventId: string } | undefined = undefined;
  slaAttempts = 0;

  // the evaluation context while a touchpoint is folded
  at = -Infinity;
  private engagementNow: number | undefined = undefined;

  constructor(private readonly rules: CompiledRules) {
    this.fit = clamp(0, rules.fit.min, rules.fit.max);
    this.ruleValues = rules.engagement.rules.map(() => 0);
    this.ruleAt = rules.engagement.rules.map(() => -Infinity);
    this.frequencyRecent = rules.engagement.frequency.map(() => []);
    this.frequencyAwardedAt = rules.engagement.frequency.map(() => -Infinity);
    this.slotCounts = rules.slots.map(() => 0);
    this.slotTimes = rules.slots.map(() => []);
  }

  score(name: ScoreName): number {
    this.engagementNow ??= roundScore(this.engagementAt(this.at));
    if (name === 'fit') return roundScore(this.fit);
    if (name === 'engagement') return this.engagementNow;
    return roundScore(this.fit + this.engagementNow);
  }
  slotCount(slot: number): number {
    return this.slotCounts[slot]!;
  }
  slotRecent(slot: number): readonly number[] {
    return this.slotTimes[slot]!;
  }

  /** Engagement rule i's points at time t >= its last accrual (faded when the rule decays): to explain a score, off the hot path. */
  engagementRuleAt(i: number, t: number): number {
    const held = this.ruleValues[i]!;
    return this.rules.engagement.rules[i]!.decays && held !== 0 ? held * decayFactor(this.rules, t - this.ruleAt[i]!) : held;
  }

  /** Engagement at time t >= lastAt: decaying points faded from lastAt to t, plus the points that never fade. */
  engagementAt(t: number): number {
    const decaying = this.engagementDecaying === 0 ? 0 : this.engagementDecaying * decayFactor(this.rules, t - this.lastAt);
    return clamp(decaying + this.engagementFlat, this.rules.engagement.min, this.rules.engagement.max);
  }

  currentSide(): SideEpisode | undefined {
    return this.side;
  }

  private openSide(episode: SideEpisode): void {
    this.episodes.push(episode);
    this.side = episode;
  }

  private closeSide(t: number): void {
    if (this.side === undefined) return;
    this.episodes[this.episodes.length - 1] = { ...this.side, until: t };
    this.side = undefined;
  }

  /**
   * The pool rule that has fallen due by time t, if any (exclusive: a touch
   * exactly at the deadline still counts): the earliest due rule recycles the
   * lead at its deadline. step applies it before each event; leadStateAsOf
   * shows it at the as-of instant without changing the core.
   */
  dueRecycle(t: number): SideEpisode | undefined {
    if (this.stageIndex < 0 || this.side !== undefined) return undefined;
    const enteredAt = this.entries[this.stageIndex]!.at;
    const reactivatedAt = this.lastReactivationAt ?? -Infinity;
    let due: { at: number; reason: string; rule: string } | undefined;
    const nf = this.rules.pool.noFollowUp;
    if (nf !== undefined && nf.stages.has(this.stageIndex)) {
      const deadline = Math.max(enteredAt, this.lastSalesTouchAt ?? -Infinity, reactivatedAt) + nf.ms;
      if (t > deadline) due = { at: deadline, reason: 'no_follow_up', rule: nf.id };
    }
    for (const s of this.rules.pool.stalled) {
      if (s.stageIndex !== this.stageIndex) continue;
      const deadline = Math.max(enteredAt, reactivatedAt) + s.ms;
      if (t > deadline && (due === undefined || deadline < due.at)) due = { at: deadline, reason: 'stalled', rule: s.id };
    }
    return due && { state: 'recycled', reason: due.reason, rule: due.rule, eventId: undefined, from: due.at, until: undefined };
  }

  /** Folds one touchpoint that sorts after every touchpoint folded so far. */
  step(tp: Touchpoint): void {
    const rules = this.rules;
    const t = tp.at;
    const due = this.dueRecycle(t);
    if (due) this.openSide(due);

    this.firstAt ??= t;
    this.size += 1;
    const env = tp.envelope;
    if (env !== undefined) {
      if (env.accountId !== undefined) this.accountId = env.accountId;
      const a = this.attribution;
      if ((a.source === undefined && env.source !== undefined) || (a.channel === undefined && env.channel !== undefined) || (a.campaign === undefined && env.campaign !== undefined)) {
        this.attribution = { source: a.source ?? env.source, channel: a.channel ?? env.channel, campaign: a.campaign ?? env.campaign };
      }
    }
    if (tp.type === 'identify') this.identify(tp.detail as Profile);
    else if ((tp.type === 'owner_assigned' || tp.type === 'sales_accepted') && tp.detail !== undefined) this.owner = tp.detail as string;

    this.applyEngagement(tp);
    this.lastAt = t; // the decaying sum refers to t from here on

    for (const i of tp.slots) {
      this.slotCounts[i]! += 1;
      pushRecent(this.slotTimes[i]!, t, rules.slots[i]!.keep);
    }

    const isSalesTouch = (tp.flags & SALES_TOUCH) !== 0;
    const side = this.side;
    if (tp.type === 'disqualified') {
      if (side?.state !== 'disqualified') {
        this.closeSide(t);
        this.openSide({ state: 'disqualified', reason: tp.detail as string, rule: undefined, eventId: tp.id, from: t, until: undefined });
      }
    } else if (side !== undefined && (tp.flags & REQUALIFIES) !== 0) {
      this.closeSide(t);
      this.lastReactivationAt = t;
    } else if (side === undefined && (tp.flags & RECYCLES) !== 0) {
      this.openSide({ state: 'recycled', reason: tp.type, rule: undefined, eventId: tp.id, from: t, until: undefined });
    }
    if (isSalesTouch) {
      this.lastSalesTouchAt = t;
      if (this.side?.state === 'recycled' && this.side.reason === 'no_follow_up') {
        this.closeSide(t);
        this.lastReactivationAt = t;
      }
    }

    // A disqualified lead does not move until someone requalifies it.
    if (this.side?.state !== 'disqualified') this.advanceStages(tp);

    const sla = rules.sla;
    if (sla !== undefined && this.stageIndex >= sla.startStageIndex) {
      const start = this.entries[sla.startStageIndex]!.at;
      if (isSalesTouch && this.slaFirstTouch === undefined && t >= start) this.slaFirstTouch = { at: t, eventId: tp.id };
      if (sla.attempts !== undefined && t >= start && t - start < sla.attempts.windowMs && (tp.flags & SLA_ATTEMPT) !== 0) this.slaAttempts += 1;
    }
  }

  private identify(facts: Profile): void {
    const next: Record<string, unknown> = { ...this.profile };
    for (const [k, v] of Object.entries(facts)) if (v !== undefined) next[k] = v;
    this.profile = next as Profile;
    let fit = 0;
    for (const r of this.rules.fit.rules) if (r.holds(this.profile)) fit += r.points;
    this.fit = clamp(fit, this.rules.fit.min, this.rules.fit.max);
  }

  private applyEngagement(tp: Touchpoint): void {
    const eng = this.rules.engagement;
    const t = tp.at;
    // move the reference time of the decaying sum from lastAt to t
    if (this.engagementDecaying !== 0) this.engagementDecaying *= decayFactor(this.rules, t - this.lastAt);

    for (const i of tp.engagementRules) {
      const r = eng.rules[i]!;
      const held = this.ruleValues[i]!;
      const now = r.decays && held !== 0 ? held * decayFactor(this.rules, t - this.ruleAt[i]!) : held;
      // caps apply at accrual: a rule never holds more than `cap` points, however busy the lead was
      const next = r.points > 0 ? Math.min(now + r.points, r.cap) : Math.max(now + r.points, -r.cap);
      if (r.decays) this.engagementDecaying += next - now;
      else this.engagementFlat += next - now;
      this.ruleValues[i] = next;
      this.ruleAt[i] = t;
    }

    for (const i of tp.frequencyRules) {
      const r = eng.frequency[i]!;
      const recent = this.frequencyRecent[i]!;
      pushRecent(recent, t, r.atLeast);
      // reached the count within the window, and not awarded within the last window
      if (recent.length >= r.atLeast && recent[recent.length - r.atLeast]! > t - r.windowMs && this.frequencyAwardedAt[i]! <= t - r.windowMs) {
        if (r.decays) this.engagementDecaying += r.points;
        else this.engagementFlat += r.points;
        this.frequencyAwardedAt[i] = t;
      }
    }
  }

  private advanceStages(tp: Touchpoint): void {
    const stages = this.rules.stages;
    if (this.stageIndex >= stages.length - 1) return;
    this.at = tp.at;
    this.engagementNow = undefined;
    // Which later stages' rules hold now? The furthest one is where the lead goes.
    let target = this.stageIndex;
    let targetRule: string | undefined;
    for (let i = stages.length - 1; i > this.stageIndex && target === this.stageIndex; i--) {
      targetRule = firedRule(stages[i]!, this);
      if (targetRule !== undefined) target = i;
    }
    if (targetRule === undefined) return;
    for (let i = this.stageIndex + 1; i <= target; i++) {
      const own = i === target ? targetRule : firedRule(stages[i]!, this);
      this.entries.push({ stage: stages[i]!.id, at: tp.at, skipped: own === undefined, rule: own ?? targetRule, eventId: tp.id });
    }
    this.stageIndex = target;
    // moving forward is a reactivation: a recycled lead is back in the funnel
    if (this.currentSide()?.state === 'recycled') this.closeSide(tp.at);
  }
}

function firedRule(stage: CompiledRules['stages'][number], ctx: EvalContext): string | undefined {
  if (stage.rules === undefined) return `${stage.id}.any_event`;
  for (const r of stage.rules) if (r.holds(ctx)) return r.id;
  return undefined;
}

export function initialLeadState(subject: Subject, rules: Rules): LeadState {
  const compiled = rulesOf(rules);
  const core = new LeadCore(compiled);
  return { subject, configVersion: compiled.version, mergedInto: undefined, absorbed: [], buffer: [], size: 0, core, stamp: core.stamp, entryCount: 0 };
}

export function checkVersion(state: LeadState, rules: CompiledRules): void {
  if (state.configVersion !== rules.version) {
    throw new Error(`lead state was built under config ${state.configVersion}, not ${rules.version}: replay the lead under one config`);
  }
}

/** The state's own touchpoints, sorted by (occurredAt, id). */
export const touchpointsOf = (state: LeadState): readonly Touchpoint[] => state.buffer.slice(0, state.size);

const isNewest = (s: LeadState) => s.core.stamp === s.stamp && s.core.size === s.size && s.buffer.length === s.size;

/** The fold of the state's touchpoints: the shared core when the state is the newest of its line, else a re-fold. */
export function coreOf(state: LeadState, rules: CompiledRules): LeadCore {
  return isNewest(state) ? state.core : foldTouchpoints(state.buffer, state.size, rules);
}

export function foldTouchpoints(touchpoints: readonly Touchpoint[], count: number, rules: CompiledRules): LeadCore {
  const core = new LeadCore(rules);
  for (let i = 0; i < count; i++) core.step(touchpoints[i]!);
  return core;
}

export function evolve(state: LeadState, event: DomainEvent, rules: Rules): LeadState {
  const compiled = rulesOf(rules);
  checkVersion(state, compiled);
  if (event.type === 'identity_linked') {
    // Only the first link of an anonymous stream decides its owner (identity.ts); links never touch a lead's own state.
    if (state.subject.kind !== 'anonymous' || state.mergedInto !== undefined || event.anonymousId !== state.subject.anonymousId) return state;
    return { ...state, mergedInto: event.leadId };
  }
  const tp = touchpointOf(event, compiled);
  const pos = insertionPoint(state.buffer, state.size, tp);
  if (pos < state.size && state.buffer[pos]!.id === tp.id) return state;
  if (pos === state.size && isNewest(state)) {
    state.buffer.push(tp);
    state.core.step(tp);
    state.core.stamp += 1;
    return nextHandle(state, state.buffer, state.core);
  }
  const buffer = state.buffer.slice(0, state.size);
  buffer.splice(pos, 0, tp);
  return nextHandle(state, buffer, foldTouchpoints(buffer, buffer.length, compiled));
}

/** A new handle: the newest of the line of states that share `core`. Written out field by field, it is one cheap allocation on the hot path. */
function nextHandle(state: LeadState, buffer: Touchpoint[], core: LeadCore, absorbed = state.absorbed): LeadState {
  return {
    subject: state.subject,
    configVersion: state.configVersion,
    mergedInto: state.mergedInto,
    absorbed,
    buffer,
    size: buffer.length,
    core,
    stamp: core.stamp,
    entryCount: core.entries.length,
  };
}

/** initialLeadState + evolve over every event, in any order. */
export function foldLead(subject: Subject, events: Iterable<DomainEvent>, rules: Rules): LeadState {
  const compiled = rulesOf(rules);
  let state = initialLeadState(subject, compiled);
  for (const e of events) state = evolve(state, e, compiled);
  return state;
}

/**
 * Stitches an anonymous visitor's history into the lead that owns it, so
 * visits before identify count (visitor entry time, engagement, attribution).
 * The anonymous state must name this lead as its owner. Absorbing the same
 * history twice changes nothing.
 */
export function absorbAnonymousHistory(lead: LeadState, anonymous: LeadState, rules: Rules): LeadState {
  const compiled = rulesOf(rules);
  checkVersion(lead, compiled);
  checkVersion(anonymous, compiled);
  if (lead.subject.kind !== 'lead' || anonymous.subject.kind !== 'anonymous') throw new Error('absorbAnonymousHistory takes a lead state and an anonymous state');
  if (anonymous.mergedInto !== lead.subject.leadId) {
    throw new Error(`anonymous history ${anonymous.subject.anonymousId} belongs to ${anonymous.mergedInto ?? 'no lead yet'}, not ${lead.subject.leadId}`);
  }
  const buffer = mergeSorted(touchpointsOf(lead), touchpointsOf(anonymous));
  const absorbed = lead.absorbed.includes(anonymous.subject.anonymousId) ? lead.absorbed : [...lead.absorbed, anonymous.subject.anonymousId];
  if (buffer.length === lead.size) return absorbed === lead.absorbed ? lead : { ...lead, absorbed };
  return nextHandle(lead, buffer, foldTouchpoints(buffer, buffer.length, compiled), absorbed);
}

const before = (a: Touchpoint, b: Touchpoint) => a.at < b.at || (a.at === b.at && a.id < b.id);

/** First index in list[0, size) whose touchpoint does not sort before tp. */
function insertionPoint(list: readonly Touchpoint[], size: number, tp: Touchpoint): number {
  if (size === 0 || before(list[size - 1]!, tp)) return size; // in-order arrival, the common case
  let lo = 0;
  let hi = size;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (before(list[mid]!, tp)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function mergeSorted(a: readonly Touchpoint[], b: readonly Touchpoint[]): Touchpoint[] {
  const out: Touchpoint[] = [];
  const ids = new Set<string>();
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const next = j >= b.length || (i < a.length && !before(b[j]!, a[i]!)) ? a[i++]! : b[j++]!;
    if (!ids.has(next.id)) {
      ids.add(next.id);
      out.push(next);
    }
  }
  return out;
}
