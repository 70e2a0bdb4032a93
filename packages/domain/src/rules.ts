import type { Condition, Matcher, RuleConfig, ScoreName, SluiceEvent } from '@sluice/schemas';
import { type CompiledMatcher, type Predicate, type Profile, bantAtLeast, compileMatcher, compileMatchers, compileProfileFilter } from './match.js';
import { DAY_MS, MINUTE_MS } from './time.js';

/**
 * A rule configuration compiled into closures and lookup tables, once per
 * config object: `evolve` runs per event, so it must not interpret JSON.
 * Event matchers used by stage conditions become "slots": per lead, a slot
 * keeps how many matching events were seen and the times of the last few
 * (as many as the largest `atLeast` of a windowed count needs).
 */

/** What a stage condition can look at, at the time of the event being applied. */
export interface EvalContext {
  readonly at: number;
  readonly profile: Profile;
  score(name: ScoreName): number;
  /** how many events matched the slot so far */
  slotCount(slot: number): number;
  /** times of the slot's most recent matches, oldest first, at most `keep` of them */
  slotRecent(slot: number): readonly number[];
}

export interface CompiledSlot {
  readonly matcher: CompiledMatcher;
  readonly keep: number;
}

export interface CompiledStage {
  readonly id: string;
  readonly name: string;
  readonly index: number;
  /** undefined: any event enters the stage */
  readonly rules: readonly { readonly id: string; readonly holds: Predicate<EvalContext> }[] | undefined;
}

export interface CompiledEngagementRule {
  readonly id: string;
  readonly matches: Predicate<SluiceEvent>;
  readonly points: number;
  readonly cap: number;
  readonly decays: boolean;
}

export interface CompiledFrequencyRule {
  readonly id: string;
  readonly matches: Predicate<SluiceEvent>;
  readonly atLeast: number;
  readonly windowMs: number;
  readonly points: number;
  readonly decays: boolean;
}

export interface CompiledRules {
  readonly compiled: true;
  readonly config: RuleConfig;
  readonly version: string;
  readonly stages: readonly CompiledStage[];
  readonly stageIndex: ReadonlyMap<string, number>;
  readonly customerStageIndex: number;
  readonly slots: readonly CompiledSlot[];
  readonly slotMatchers: readonly CompiledMatcher[];
  readonly slotsByType: ReadonlyMap<string, readonly number[]>;
  readonly fit: { readonly rules: readonly { readonly id: string; readonly holds: Predicate<Profile>; readonly points: number }[]; readonly min: number; readonly max: number };
  readonly engagement: {
    /** undefined: no decay */
    readonly halfLifeMs: number | undefined;
    readonly rules: readonly CompiledEngagementRule[];
    readonly rulesByType: ReadonlyMap<string, readonly number[]>;
    readonly frequency: readonly CompiledFrequencyRule[];
    readonly frequencyByType: ReadonlyMap<string, readonly number[]>;
    readonly min: number;
    readonly max: number;
  };
  readonly salesTouch: Predicate<SluiceEvent>;
  readonly requalifies: Predicate<SluiceEvent>;
  readonly recycles: Predicate<SluiceEvent>;
  readonly pool: {
    readonly noFollowUp: { readonly id: string; readonly ms: number; readonly stages: ReadonlySet<number> } | undefined;
    readonly stalled: readonly { readonly id: string; readonly stageIndex: number; readonly ms: number }[];
  };
  readonly sla:
    | {
        readonly startStageIndex: number;
        readonly firstTouchMs: number;
        readonly attempts: { readonly atLeast: number; readonly windowMs: number; readonly matches: Predicate<SluiceEvent> } | undefined;
      }
    | undefined;
  /** lower-cased unit id or alias -> unit id */
  readonly businessUnitOf: ReadonlyMap<string, string>;
}

const cache = new WeakMap<RuleConfig, CompiledRules>();

/** Compiles (or returns the cached compilation of) a parsed rule configuration. */
export function compileRules(config: RuleConfig): CompiledRules {
  const hit = cache.get(config);
  if (hit) return hit;
  const compiled = compile(config);
  cache.set(config, compiled);
  return compiled;
}

/** Domain functions take either form; a plain config is compiled once and cached. */
export type Rules = RuleConfig | CompiledRules;
export const rulesOf = (rules: Rules): CompiledRules => ('compiled' in rules ? rules : compileRules(rules));

function byType<T>(items: readonly T[], typesOf: (item: T) => readonly string[]): Map<string, number[]> {
  const map = new Map<string, number[]>();
  items.forEach((item, i) => {
    for (const t of typesOf(item)) map.set(t, [...(map.get(t) ?? []), i]);
  });
  return map;
}

class SlotTable {
  readonly slots: { matcher: CompiledMatcher; keep: number }[] = [];
  private readonly byKey = new Map<string, number>();

  /** One slot per distinct matcher, however many conditions use it. */
  add(key: string, make: () => CompiledMatcher, keep: number): number {
    const existing = this.byKey.get(key);
    if (existing !== undefined) {
      const slot = this.slots[existing]!;
      slot.keep = Math.max(slot.keep, keep);
      return existing;
    }
    this.slots.push({ matcher: make(), keep });
    this.byKey.set(key, this.slots.length - 1);
    return this.slots.length - 1;
  }
}

function compileCondition(c: Condition, table: SlotTable): Predicate<EvalContext> {
  switch (c.kind) {
    case 'anyOf': {
      const parts = c.anyOf.map((p) => compileCondition(p, table));
      return (ctx) => parts.some((p) => p(ctx));
    }
    case 'allOf': {
      const parts = c.allOf.map((p) => compileCondition(p, table));
      return (ctx) => parts.every((p) => p(ctx));
    }
    case 'score': {
      const { score, atLeast } = c;
      return (ctx) => ctx.score(score) >= atLeast;
    }
    case 'event': {
      const { kind: _kind, ...matcher } = c;
      const slot = table.add(JSON.stringify(matcher), () => compileMatcher(matcher), 0);
      return (ctx) => ctx.slotCount(slot) > 0;
    }
    case 'count': {
      const { atLeast, withinDays } = c;
      if (withinDays === undefined) {
        const slot = table.add(JSON.stringify(c.count), () => compileMatcher(c.count), 0);
        return (ctx) => ctx.slotCount(slot) >= atLeast;
      }
      const slot = table.add(JSON.stringify(c.count), () => compileMatcher(c.count), atLeast);
      const windowMs = withinDays * DAY_MS;
      // the atLeast-th most recent match lies inside the window (the window ends now, its start is open)
      return (ctx) => {
        const recent = ctx.slotRecent(slot);
        return recent.length >= atLeast && recent[recent.length - atLeast]! > ctx.at - windowMs;
      };
    }
    case 'bant': {
      const n = c.bant.atLeast;
      const slot = table.add(`bant:${n}`, () => ({ types: ['call'], matches: bantAtLeast(n) }), 0);
      return (ctx) => ctx.slotCount(slot) > 0;
    }
    case 'profile': {
      const holds = compileProfileFilter(c.profile);
      return (ctx) => holds(ctx.profile);
    }
    default:
      return assertNever(c);
  }
}

export function assertNever(value: never): never {
  throw new Error(`unexpected value ${JSON.stringify(value)}`);
}

const compileMatcherList = (ms: readonly Matcher[]): Predicate<SluiceEvent> => (ms.length === 0 ? () => false : compileMatchers(ms).matches);

function compile(config: RuleConfig): CompiledRules {
  const model = config.stageModel;
  const table = new SlotTable();
  const stages: CompiledStage[] = model.stages.map((s, index) => ({
    id: s.id,
    name: s.name,
    index,
    rules: s.entry?.map((r) => ({ id: r.id, holds: compileCondition(r.when, table) })),
  }));
  const stageIndex = new Map(stages.map((s) => [s.id, s.index]));
  const indexOf = (id: string) => {
    const i = stageIndex.get(id);
    if (i === undefined) throw new Error(`config ${config.version}: unknown stage "${id}" (the config schema rejects this)`);
    return i;
  };

  const eng = config.scoring.engagement;
  const engagementRules = eng.rules.map((r) => {
    const m = compileMatcher(r.match);
    return { id: r.id, matches: m.matches, types: m.types, points: r.points, cap: r.cap ?? Infinity, decays: r.decays };
  });
  const frequencyRules = eng.frequency.map((r) => {
    const m = compileMatcher(r.match);
    return { id: r.id, matches: m.matches, types: m.types, atLeast: r.atLeast, windowMs: r.withinDays * DAY_MS, points: r.points, decays: r.decays };
  });

  const { noFollowUp, stalled } = config.pool;
  const sla = config.sla;
  const businessUnitOf = new Map<string, string>();
  for (const u of config.businessUnits.units) for (const name of [u.id, ...u.aliases]) businessUnitOf.set(name.toLowerCase(), u.id);

  return {
    compiled: true,
    config,
    version: config.version,
    stages,
    stageIndex,
    customerStageIndex: indexOf(model.customerStage),
    slots: table.slots,
    slotMatchers: table.slots.map((s) => s.matcher),
    slotsByType: byType(table.slots, (s) => s.matcher.types),
    fit: {
      rules: config.scoring.fit.rules.map((r) => ({ id: r.id, holds: compileProfileFilter(r.profile), points: r.points })),
      min: config.scoring.fit.min,
      max: config.scoring.fit.max,
    },
    engagement: {
      halfLifeMs: eng.halfLifeDays === null ? undefined : eng.halfLifeDays * DAY_MS,
      rules: engagementRules,
      rulesByType: byType(engagementRules, (r) => r.types),
      frequency: frequencyRules,
      frequencyByType: byType(frequencyRules, (r) => r.types),
      min: eng.min,
      max: eng.max,
    },
    salesTouch: compileMatcherList(config.lifecycle.salesTouches),
    requalifies: compileMatcherList(config.lifecycle.requalifiedBy),
    recycles: compileMatcherList(config.lifecycle.recycledBy),
    pool: {
      noFollowUp: noFollowUp && { id: noFollowUp.id, ms: noFollowUp.days * DAY_MS, stages: new Set(noFollowUp.stages.map(indexOf)) },
      stalled: stalled.map((r) => ({ id: r.id, stageIndex: indexOf(r.stage), ms: r.days * DAY_MS })),
    },
    sla: sla && {
      startStageIndex: indexOf(sla.startStage),
      firstTouchMs: sla.firstTouchWithinMinutes * MINUTE_MS,
      attempts: sla.attempts && { atLeast: sla.attempts.atLeast, windowMs: sla.attempts.withinDays * DAY_MS, matches: compileMatchers(sla.attempts.match).matches },
    },
    businessUnitOf,
  };
}

