import { z } from 'zod';
import { type BusinessUnitRules, BusinessUnitsSchema, CurrenciesSchema, type CurrencyRules, type LifecycleRules, LifecycleSchema, MODEL_DEFAULTS, PoolSchema, type PoolRules, SlaSchema, type SlaRules, TimeZoneSchema } from './lifecycle.js';
import { type GradeRules, GradesSchema, type QuadrantRules, QuadrantsSchema, type ScoringRules, ScoringSchema } from './scoring.js';
import { type ServerConfig, ServerSchema } from './server.js';
import { type CaptureConfig, CaptureSchema } from './capture.js';
import { type OpportunityModel, OpportunityModelSchema } from './opportunities.js';
import { type StageModel, StageModelSchema, unknownStage } from './stage-models.js';

/**
 * The rule configuration: everything that decides a read model. It carries a
 * `version` that read models record; a changed rule set needs a new version
 * (and a replay). Every section has defaults, so `{ "version": "v1" }` is a
 * complete configuration (classic B2B model, literature scoring, UTC).
 */
const ruleShape = {
  version: z.string().min(1).max(100),
  timeZone: TimeZoneSchema.default('UTC'),
  stageModel: StageModelSchema.prefault({ builtin: 'classic_b2b' }),
  scoring: ScoringSchema.prefault({}),
  grades: GradesSchema,
  quadrants: QuadrantsSchema,
  pool: PoolSchema.optional(),
  sla: SlaSchema.nullable().optional(),
  lifecycle: LifecycleSchema,
  businessUnits: BusinessUnitsSchema,
  currencies: CurrenciesSchema.optional(),
  opportunities: OpportunityModelSchema.prefault({}),
};

export interface RuleConfig {
  version: string;
  timeZone: string;
  stageModel: StageModel;
  scoring: ScoringRules;
  grades: GradeRules;
  quadrants: QuadrantRules;
  pool: PoolRules;
  /** undefined: no SLA is measured */
  sla: SlaRules | undefined;
  lifecycle: LifecycleRules;
  businessUnits: BusinessUnitRules;
  /** report conversion rates (reports only: left out of the rule fingerprint) */
  currencies?: CurrencyRules | undefined;
  /** the opportunity stage model (the revenue fold and reports only: left out of the rule fingerprint) */
  opportunities: OpportunityModel;
}
export interface SluiceConfig extends RuleConfig {
  server: ServerConfig;
  /** the tracker, site keys and the Segment / RudderStack endpoint (process settings: left out of the rule fingerprint) */
  capture: CaptureConfig;
}

type ParsedRules = z.output<z.ZodObject<typeof ruleShape>>;

/** Fills pool and SLA from the model's defaults and checks every stage they name. */
function resolveRules<T extends ParsedRules>(raw: T, ctx: z.RefinementCtx): Omit<T, 'pool' | 'sla'> & Pick<RuleConfig, 'pool' | 'sla'> {
  const model = raw.stageModel;
  const stageIds = model.stages.map((s) => s.id);
  const defaults = model.builtin === undefined ? undefined : MODEL_DEFAULTS[model.builtin];
  // defaults are checked too: a model listing its stages may still name a built-in as its origin
  const checkStage = (id: string, path: (string | number)[], fromDefault: boolean) => {
    if (stageIds.includes(id)) return;
    const hint = fromDefault ? ` (the ${model.builtin ?? ''} default; set it for this model, or null)` : '';
    ctx.addIssue({ code: 'custom', path, input: id, message: unknownStage(id, stageIds) + hint });
  };

  const p = raw.pool ?? {};
  const pool: PoolRules = {
    noFollowUp: p.noFollowUp === null ? undefined : (p.noFollowUp ?? defaults?.pool.noFollowUp),
    stalled: p.stalled ?? defaults?.pool.stalled ?? [],
    ownerCaps: p.ownerCaps === null ? undefined : (p.ownerCaps ?? defaults?.pool.ownerCaps),
  };
  pool.noFollowUp?.stages.forEach((s, i) => checkStage(s, ['pool', 'noFollowUp', 'stages', i], p.noFollowUp === undefined));
  pool.stalled.forEach((r, i) => checkStage(r.stage, ['pool', 'stalled', i, 'stage'], p.stalled === undefined));

  let sla: SlaRules | undefined;
  if (raw.sla !== null && (raw.sla !== undefined || defaults !== undefined)) {
    const s = raw.sla ?? {};
    const startStage = s.startStage ?? defaults?.sla.startStage;
    if (startStage === undefined) {
      ctx.addIssue({ code: 'custom', path: ['sla', 'startStage'], input: undefined, message: 'required with a custom stage model (or set sla to null)' });
    } else {
      checkStage(startStage, ['sla', 'startStage'], s.startStage === undefined);
      sla = {
        startStage,
        firstTouchWithinMinutes: s.firstTouchWithinMinutes ?? defaults?.sla.firstTouchWithinMinutes ?? 240,
        attempts: s.attempts === null ? undefined : (s.attempts ?? defaults?.sla.attempts),
        ...(s.mqlsPerMonth === undefined ? {} : { mqlsPerMonth: s.mqlsPerMonth }),
      };
      const units = raw.businessUnits.units.map((u) => u.id);
      for (const unit of Object.keys(s.mqlsPerMonth ?? {})) {
        if (!units.includes(unit)) ctx.addIssue({ code: 'custom', path: ['sla', 'mqlsPerMonth', unit], input: unit, message: `unknown business unit "${unit}"; units: ${units.join(', ')}` });
      }
    }
  }

  checkUniqueRuleIds(raw, pool, ctx);
  return { ...raw, pool, sla };
}

/** Transitions and scores name the rule that produced them, so a rule id means one rule. */
function checkUniqueRuleIds(raw: ParsedRules, pool: PoolRules, ctx: z.RefinementCtx): void {
  const seen = new Map<string, string>();
  const claim = (id: string, where: string, path: (string | number)[]) => {
    const before = seen.get(id);
    if (before !== undefined) ctx.addIssue({ code: 'custom', path, input: id, message: `rule id "${id}" is already used by ${before}` });
    else seen.set(id, where);
  };
  for (const stage of raw.stageModel.stages) {
    for (const rule of stage.entry ?? []) claim(rule.id, `the entry rules of stage "${stage.id}"`, ['stageModel']);
  }
  raw.scoring.fit.rules.forEach((r, i) => claim(r.id, 'scoring.fit.rules', ['scoring', 'fit', 'rules', i, 'id']));
  raw.scoring.engagement.rules.forEach((r, i) => claim(r.id, 'scoring.engagement.rules', ['scoring', 'engagement', 'rules', i, 'id']));
  raw.scoring.engagement.frequency.forEach((r, i) => claim(r.id, 'scoring.engagement.frequency', ['scoring', 'engagement', 'frequency', i, 'id']));
  if (pool.noFollowUp) claim(pool.noFollowUp.id, 'pool.noFollowUp', ['pool', 'noFollowUp', 'id']);
  pool.stalled.forEach((r, i) => claim(r.id, 'pool.stalled', ['pool', 'stalled', i, 'id']));
}

/** Rules only: what a what-if candidate file holds. */
export const RuleConfigSchema: z.ZodType<RuleConfig, z.input<z.ZodObject<typeof ruleShape>>> = z.strictObject(ruleShape).transform(resolveRules);

/** Rules plus the server section: the whole configuration of a Sluice process. */
export const SluiceConfigSchema: z.ZodType<SluiceConfig, z.input<z.ZodObject<typeof ruleShape>> & { server?: z.input<typeof ServerSchema>; capture?: z.input<typeof CaptureSchema> }> = z
  .strictObject({ ...ruleShape, server: ServerSchema, capture: CaptureSchema })
  .transform(resolveRules);

export type RuleConfigInput = z.input<typeof RuleConfigSchema>;
export type SluiceConfigInput = z.input<typeof SluiceConfigSchema>;
