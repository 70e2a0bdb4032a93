import { DateTime, IANAZone } from 'luxon';
import { z } from 'zod';
import { Currency, OffsetDateTime } from '@sluice/schemas';

/**
 * The reverse planner's input, validated at the edge (API body, CLI file) and
 * trusted inside. Measured quantities arrive as the raw observations they rest
 * on (counts, lag samples or summaries) so the planner can express their
 * uncertainty; given quantities are plain numbers. When both are present the
 * given number overrides the measurement, which is still reported.
 */

/** `2027-03` (a month) or `2027-Q1` (a quarter), in the business time zone. */
export const PERIOD_LABEL = /^(\d{4})-(?:(0[1-9]|1[0-2])|Q([1-4]))$/;

/** What a plan's volumes count: leads, or accounts (buying groups, see `unit` in the input). */
export const PLAN_COUNTING_UNITS = ['leads', 'accounts'] as const;
export type PlanCountingUnit = (typeof PLAN_COUNTING_UNITS)[number];

/** Upper bound on any lag: keeps lag distributions (one weight per day) small. */
export const MAX_LAG_DAYS = 3650;

const stageId = z.string().min(1, 'a stage id cannot be empty');
const wholeCount = z.number().int().nonnegative();
const lagDays = z
  .number()
  .nonnegative('a lag cannot be negative')
  .max(MAX_LAG_DAYS, `a lag cannot exceed ${MAX_LAG_DAYS} days`);

const givenOrMeasured = (what: string) => ({
  error: `${what} needs \`given\`, \`measured\` or both (given overrides measured)`,
});
const hasGivenOrMeasured = (value: { given?: unknown; measured?: unknown }) => value.given !== undefined || value.measured !== undefined;

const rateFields = z.object({
  /** the planner's number; overrides `measured` when both are present */
  given: z.number().min(0, 'a conversion rate cannot be negative').max(1, 'a conversion rate cannot exceed 1').optional(),
  /** leads (or accounts, by the plan's unit) that entered the `from` stage in the lookback window, and how many of them reached `to` */
  measured: z
    .object({ entered: wholeCount, converted: wholeCount })
    .refine((m) => m.converted <= m.entered, { error: 'converted cannot exceed entered', path: ['converted'] })
    .optional(),
});
export const rateInputSchema = rateFields.refine(hasGivenOrMeasured, givenOrMeasured('a rate'));

/** Time from entering `from` to entering `to`, for the leads that made it. */
export const lagInputSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('given'), days: lagDays }),
  z.object({ kind: z.literal('samples'), days: z.array(lagDays).min(1, 'at least one lag sample is needed') }),
  z
    .object({
      kind: z.literal('histogram'),
      buckets: z.array(z.object({ days: lagDays, count: z.number().nonnegative() })).min(1),
    })
    .refine((h) => h.buckets.some((b) => b.count > 0), { error: 'a lag histogram needs a bucket with a count', path: ['buckets'] }),
  z
    .object({ kind: z.literal('quantiles'), p10: lagDays, p50: lagDays, p90: lagDays })
    .refine((q) => q.p10 <= q.p50 && q.p50 <= q.p90, { error: 'lag quantiles must satisfy p10 <= p50 <= p90', path: ['p50'] }),
]);

const dealSizeFields = z.object({
  given: z.number().nonnegative('a deal size cannot be negative').optional(),
  /** payments in the lookback window: how many deals, their total, and optionally the spread of one deal's amount */
  measured: z
    .object({
      deals: wholeCount,
      revenue: z.number().nonnegative('measured revenue cannot be negative'),
      stdDev: z.number().nonnegative().optional(),
    })
    .optional(),
  /** the money of the deal size and the revenue targets (ISO 4217); a measured size counts payments in it only */
  currency: Currency.optional(),
});
export const dealSizeInputSchema = dealSizeFields.refine(hasGivenOrMeasured, givenOrMeasured('a deal size'));

export const targetInputSchema = z.object({
  businessUnit: z.string().min(1),
  period: z.string().regex(PERIOD_LABEL, 'a period is a month like 2027-03 or a quarter like 2027-Q1'),
  revenue: z.number().nonnegative('a revenue target cannot be negative'),
});

const LOCAL_DATE = /^(19\d\d|2[0-2]\d\d)-\d{2}-\d{2}$/;
/** A day (read in the plan's timeZone) or an instant under the one rule every instant Sluice takes follows (real offsets, 1900..2299). */
const asOfInput = z.string().superRefine((s, ctx) => {
  if (LOCAL_DATE.test(s) ? DateTime.fromISO(s).isValid : OffsetDateTime.safeParse(s).success) return;
  ctx.addIssue({ code: 'custom', message: 'asOf must be a day like 2027-01-15 or an ISO 8601 instant with an offset (-12:00 to +14:00) or Z, e.g. 2027-01-15T09:00:00+01:00, from 1900 to 2299' });
});

const timeZone = z.string().refine((zone) => IANAZone.isValidZone(zone), {
  error: 'timeZone must be an IANA zone such as Europe/Berlin',
});

/**
 * The size of a plan, bounded so one plan is seconds of work: the Monte
 * Carlo draws per target and per business unit's rates, the lag
 * distributions convolved along the chain (one weight per day), a calendar
 * per target and stage.
 */
export const PLAN_LIMITS = {
  maxStages: 20,
  maxBusinessUnits: 50,
  maxTargets: 120,
  maxDraws: 100_000,
  /** uncertainty.draws x (targets + business units) x stages of the planning chain */
  maxDrawWork: 10_000_000,
  /** the longest each step's lag may take, summed along the planning chain */
  maxChainLagDays: MAX_LAG_DAYS,
} as const;

/**
 * The plan schema, given what a step's rate and a unit's deal size must hold:
 * a plan needs each given or measured; a request to a server that measures
 * history may leave them to the measurement.
 */
function planSchemaWith<Rate extends z.ZodType, DealSize extends z.ZodType>(rate: Rate, dealSize: DealSize) {
  const transition = z.object({
    from: stageId,
    to: stageId,
    rate: rate.optional(),
    lag: lagInputSchema.optional(),
  });
  const businessUnit = z.object({
    id: z.string().min(1),
    dealSize,
    /** one entry per consecutive pair of stages from the first stage to the deal stage */
    transitions: z.array(transition).max(PLAN_LIMITS.maxStages - 1, `a business unit has at most ${PLAN_LIMITS.maxStages - 1} transitions (one per step)`).default([]),
    /** leads (or accounts, by the plan's unit) currently sitting in each stage before the deal stage */
    pipeline: z.record(stageId, wholeCount).optional(),
  });
  const plan = z
    .object({
      /** "now": decides which periods are past and what is already overdue; a date without offset is read in `timeZone` */
      asOf: asOfInput,
      /**
       * What every volume, measured rate and pipeline count counts: leads (the default), or accounts, where an
       * account enters a stage when its first lead does and a lead without an account counts as one (stage
       * conversion's rule). One unit for the whole plan rather than one per business unit: the plan puts units
       * side by side (the "all" unit beside the others, the SLA's monthly volumes, the CLI's tables), and
       * accounts beside leads in one column would read as one quantity. Planning one business unit by account
       * and another by lead takes two plans.
       */
      unit: z.enum(PLAN_COUNTING_UNITS, { error: 'unit must be "leads" or "accounts"' }).default('leads'),
      timeZone,
      stageModel: z.object({
        stages: z
          .array(stageId)
          .min(2, 'a stage model needs at least two stages')
          .max(PLAN_LIMITS.maxStages, `a plan has at most ${PLAN_LIMITS.maxStages} stages`),
        /** the paying stage; stages after it (retention, advocacy) are not planned. Defaults to the last stage. */
        dealStage: stageId.optional(),
      }),
      businessUnits: z
        .array(businessUnit)
        .min(1, 'at least one business unit is needed')
        .max(PLAN_LIMITS.maxBusinessUnits, `a plan has at most ${PLAN_LIMITS.maxBusinessUnits} business units`),
      targets: z
        .array(targetInputSchema)
        .min(1, 'at least one revenue target is needed')
        .max(PLAN_LIMITS.maxTargets, `a plan has at most ${PLAN_LIMITS.maxTargets} targets`),
      uncertainty: z
        .object({
          /** 32-bit unsigned: the generator's seed space */
          seed: z.number().int().min(0).max(0xffff_ffff).default(1),
          /** Monte Carlo draws per target and per rate; draws x (targets + business units) x stages is at most PLAN_LIMITS.maxDrawWork */
          draws: z.number().int().min(100).max(PLAN_LIMITS.maxDraws).default(10_000),
          /** a measured rate resting on fewer entered leads (or a deal size on fewer payments) is flagged */
          minObservations: wholeCount.default(30),
          /** a measured rate resting on fewer conversions is flagged */
          minConversions: wholeCount.default(10),
        })
        .prefault({}),
      sensitivity: z
        .object({
          /** absolute improvement tried at each stage: 0.01 = one percentage point */
          points: z.number().gt(0).max(1).default(0.01),
          /** relative improvement tried at each stage: 0.1 = 10 % better */
          relative: z.number().gt(0).max(10).default(0.1),
        })
        .prefault({}),
      sla: z
        .object({
          /** the stage marketing hands over (usually 'mql') */
          marketingStage: stageId,
          /** the stage sales reps work (usually 'sql') */
          salesStage: stageId,
          /** new leads at `salesStage` one rep can take on per month */
          repMonthlyCap: z.number().positive('a rep capacity must be positive'),
          /** what marketing commits per month and unit (the rules' sla.mqlsPerMonth, which the SLA report checks) */
          mqlsPerMonth: z.record(z.string(), z.number().nonnegative()).optional(),
        })
        .optional(),
    })
    .superRefine((input, ctx) => {
      checkReferences(input, ctx);
      checkWork(input, ctx);
    });
  return { transition, businessUnit, plan };
}

const planSchemas = planSchemaWith(rateInputSchema, dealSizeInputSchema);
export const transitionInputSchema = planSchemas.transition;
export const businessUnitInputSchema = planSchemas.businessUnit;
export const planInputSchema = planSchemas.plan;

/**
 * A plan input as a server that measures history takes it, before measuring:
 * every field checked as a plan checks it (and bounded alike), but a rate or a
 * deal size may be left to the measurement. Nothing is read before a body
 * passes it; the filled input is then checked as a plan.
 */
export const planRequestSchema = planSchemaWith(rateFields, dealSizeFields.optional()).plan;

export type PlanInput = z.output<typeof planInputSchema>;
/** What callers may send: defaults not yet applied. */
export type PlanInputRaw = z.input<typeof planInputSchema>;
export type RateInput = z.output<typeof rateInputSchema>;
export type LagInput = z.output<typeof lagInputSchema>;
export type DealSizeInput = z.output<typeof dealSizeInputSchema>;
export type BusinessUnitInput = z.output<typeof businessUnitInputSchema>;
export type TargetInput = z.output<typeof targetInputSchema>;

export interface PlanInputIssue {
  /** where in the input, e.g. ['targets', 0, 'revenue'] */
  path: Array<string | number>;
  message: string;
}

export type ParsedPlanInput = { ok: true; input: PlanInput } | { ok: false; issues: PlanInputIssue[] };

const issuesOf = (error: z.ZodError): PlanInputIssue[] =>
  error.issues.map((issue) => ({
    path: issue.path.filter((key): key is string | number => typeof key !== 'symbol'),
    message: issue.message,
  }));

export function parsePlanInput(raw: unknown): ParsedPlanInput {
  const result = planInputSchema.safeParse(raw);
  return result.success ? { ok: true, input: result.data } : { ok: false, issues: issuesOf(result.error) };
}

/** What is wrong with a plan request before history is measured for it (see planRequestSchema); empty when nothing is. */
export function planRequestIssues(raw: unknown): PlanInputIssue[] {
  const result = planRequestSchema.safeParse(raw);
  return result.success ? [] : issuesOf(result.error);
}

/** Months a period label covers, as [first, last] month numbers counted from year 0; null for a malformed label. */
function monthSpan(label: string): [number, number] | null {
  const match = PERIOD_LABEL.exec(label);
  if (match === null) return null;
  const year = Number(match[1]) * 12;
  if (match[2] !== undefined) return [year + Number(match[2]), year + Number(match[2])];
  const first = year + (Number(match[3]) - 1) * 3 + 1;
  return [first, first + 2];
}

function periodsOverlap(a: string, b: string): boolean {
  const spanA = monthSpan(a);
  const spanB = monthSpan(b);
  return spanA !== null && spanB !== null && spanA[0] <= spanB[1] && spanB[0] <= spanA[1];
}

/** The stages the plan walks: from the first one to the deal stage, inclusive. */
export function planningChain(stageModel: PlanInput['stageModel']): string[] {
  const dealIndex = stageModel.dealStage === undefined ? stageModel.stages.length - 1 : stageModel.stages.indexOf(stageModel.dealStage);
  return stageModel.stages.slice(0, dealIndex + 1);
}

/** The part of zod's refinement context the cross-field checks use. */
interface IssueSink {
  addIssue(issue: { code: 'custom'; path: Array<string | number>; message: string }): void;
}

const isChainStep = (chain: readonly string[], step: { from: string; to: string }) => {
  const at = chain.indexOf(step.from);
  return at !== -1 && chain[at + 1] === step.to;
};

/** What the cross-field checks read of a plan input (or request). */
interface CheckedInput {
  stageModel: { stages: string[]; dealStage?: string | undefined };
  businessUnits: Array<{ id: string; transitions: Array<{ from: string; to: string; lag?: LagInput | undefined }>; pipeline?: Record<string, number> | undefined }>;
  targets: Array<{ businessUnit: string; period: string }>;
  uncertainty: { draws: number };
  sla?: { marketingStage: string; salesStage: string } | undefined;
}

/** Cross-field checks: every id refers to something declared, nothing is declared twice. */
function checkReferences(input: CheckedInput, ctx: IssueSink): void {
  const issue = (path: Array<string | number>, message: string): void => {
    ctx.addIssue({ code: 'custom', path, message });
  };
  const { stages, dealStage } = input.stageModel;

  stages.forEach((stage, i) => {
    if (stages.indexOf(stage) !== i) issue(['stageModel', 'stages', i], `stage '${stage}' appears twice`);
  });
  if (dealStage !== undefined) {
    const at = stages.indexOf(dealStage);
    if (at === -1) issue(['stageModel', 'dealStage'], `deal stage '${dealStage}' is not one of the stages (${stages.join(', ')})`);
    else if (at === 0) issue(['stageModel', 'dealStage'], 'the deal stage cannot be the first stage: there would be nothing to plan');
  }
  const chain = planningChain(input.stageModel);
  const beforeDeal = chain.slice(0, -1);

  const unitIds = input.businessUnits.map((unit) => unit.id);
  input.businessUnits.forEach((unit, u) => {
    if (unitIds.indexOf(unit.id) !== u) issue(['businessUnits', u, 'id'], `business unit '${unit.id}' is declared twice`);
    const seen = new Set<string>();
    unit.transitions.forEach((transition, t) => {
      if (!isChainStep(chain, transition)) {
        issue(
          ['businessUnits', u, 'transitions', t],
          `'${transition.from}' -> '${transition.to}' is not a step of the planning chain (${chain.join(' -> ')})`,
        );
      }
      const key = `${transition.from}->${transition.to}`;
      if (seen.has(key)) issue(['businessUnits', u, 'transitions', t], `transition ${key} is declared twice`);
      seen.add(key);
    });
    for (const stage of Object.keys(unit.pipeline ?? {})) {
      if (!beforeDeal.includes(stage)) {
        issue(['businessUnits', u, 'pipeline', stage], `pipeline stage '${stage}' must be one of the stages before the deal (${beforeDeal.join(', ')})`);
      }
    }
  });

  const targetKeys = input.targets.map((target) => `${target.businessUnit}|${target.period}`);
  input.targets.forEach((target, t) => {
    if (!unitIds.includes(target.businessUnit)) {
      issue(['targets', t, 'businessUnit'], `unknown business unit '${target.businessUnit}' (declared: ${unitIds.join(', ')})`);
    }
    if (targetKeys.indexOf(targetKeys[t] ?? '') !== t) {
      issue(['targets', t], `business unit '${target.businessUnit}' already has a target for ${target.period}`);
      return;
    }
    const clash = input.targets.findIndex(
      (other, o) => o < t && other.businessUnit === target.businessUnit && periodsOverlap(other.period, target.period),
    );
    if (clash !== -1) {
      issue(
        ['targets', t, 'period'],
        `${target.period} overlaps ${input.targets[clash]?.period} (targets[${clash}]) for business unit '${target.businessUnit}': its volumes would be counted twice`,
      );
    }
  });

  if (input.sla !== undefined) {
    for (const key of ['marketingStage', 'salesStage'] as const) {
      const stage = input.sla[key];
      if (!chain.includes(stage)) issue(['sla', key], `SLA stage '${stage}' is not in the planning chain (${chain.join(', ')})`);
    }
  }
}

const largest = (values: readonly number[]) => values.reduce((max, value) => Math.max(max, value), 0);

/** The longest a lag may take, in days. */
function longestDays(lag: LagInput | undefined): number {
  switch (lag?.kind) {
    case undefined:
      return 0;
    case 'given':
      return lag.days;
    case 'samples':
      return largest(lag.days);
    case 'histogram':
      return largest(lag.buckets.filter((bucket) => bucket.count > 0).map((bucket) => bucket.days));
    case 'quantiles':
      return lag.p90;
  }
}

/** The bounds of PLAN_LIMITS that span fields: the Monte Carlo work, and each unit's lags along the chain. */
function checkWork(input: CheckedInput, ctx: IssueSink): void {
  const chain = planningChain(input.stageModel);
  const { draws } = input.uncertainty;
  const runs = input.targets.length + input.businessUnits.length;
  if (draws * runs * chain.length > PLAN_LIMITS.maxDrawWork) {
    ctx.addIssue({
      code: 'custom',
      path: ['uncertainty', 'draws'],
      message:
        `draws x (targets + business units) x stages is at most ${PLAN_LIMITS.maxDrawWork.toLocaleString('en')}: with ${input.targets.length} targets, ` +
        `${input.businessUnits.length} business units and ${chain.length} stages, draws can be at most ${Math.floor(PLAN_LIMITS.maxDrawWork / (runs * chain.length))}`,
    });
  }
  input.businessUnits.forEach((unit, u) => {
    const steps = unit.transitions.filter((transition) => isChainStep(chain, transition));
    const days = steps.reduce((sum, transition) => sum + longestDays(transition.lag), 0);
    if (days > PLAN_LIMITS.maxChainLagDays) {
      ctx.addIssue({
        code: 'custom',
        path: ['businessUnits', u, 'transitions'],
        message: `the lags along the planning chain add up to at most ${PLAN_LIMITS.maxChainLagDays} days (each step at its longest); these add up to ${days}`,
      });
    }
  });
}
