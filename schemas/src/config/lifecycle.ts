import { z } from 'zod';
import { CURRENCY_MESSAGE, Currency, Label } from '../events/primitives.js';
import { type Matcher, MatcherSchema } from './matchers.js';
import { type BuiltinModelName, RuleIdSchema, StageIdSchema } from './stage-models.js';

/**
 * Rules about what happens around the stages: which events count as a sales
 * touch, which decisions take a lead out of or back into the funnel, pool
 * rules (CRM "public pool"), the marketing<->sales SLA and business units.
 *
 * Pool and SLA rules name stages, so their defaults depend on the stage model:
 * a section (or key) left out takes the built-in model's default; `null`
 * switches it off. A custom model has no defaults for them.
 */

export const LifecycleSchema = z
  .strictObject({
    /** sales touches: reset the no-follow-up clock, end a no-follow-up recycle, count for the SLA's first touch */
    salesTouches: z.array(MatcherSchema).min(1).prefault([{ event: ['call', 'meeting', 'demo_held'] }]),
    /** end a disqualified or recycled side state (a person decided to work the lead again) */
    requalifiedBy: z.array(MatcherSchema).prefault([{ event: 'sales_accepted' }]),
    /** put a lead into the recycled side state (sent back to marketing) */
    recycledBy: z.array(MatcherSchema).prefault([{ event: 'deal_lost' }]),
  })
  .prefault({});
export interface LifecycleRules {
  salesTouches: Matcher[];
  requalifiedBy: Matcher[];
  recycledBy: Matcher[];
}

const Days = z.number().positive();

export const PoolSchema = z.strictObject({
  /** no sales touch for more than `days` while in one of `stages` -> recycled */
  noFollowUp: z.strictObject({ id: RuleIdSchema.default('pool.no_follow_up'), days: Days, stages: z.array(StageIdSchema).min(1) }).nullable().optional(),
  /** still in `stage` (not advanced) more than `days` after entering it -> recycled */
  stalled: z.array(z.strictObject({ id: RuleIdSchema, stage: StageIdSchema, days: Days })).optional(),
  /** per owner: at most this many active (not customer, not in a side state) leads / customers */
  ownerCaps: z
    .strictObject({ activeLeads: z.number().int().positive().optional(), activeCustomers: z.number().int().positive().optional() })
    .nullable()
    .optional(),
});
export interface PoolRules {
  noFollowUp: { id: string; days: number; stages: string[] } | undefined;
  stalled: { id: string; stage: string; days: number }[];
  ownerCaps: { activeLeads?: number | undefined; activeCustomers?: number | undefined } | undefined;
}

export const SlaSchema = z.strictObject({
  /** the SLA clock starts when a lead enters this stage (skipped or not) */
  startStage: StageIdSchema.optional(),
  /** first sales touch within this many minutes of the clock start (elapsed time, not working hours) */
  firstTouchWithinMinutes: z.number().positive().optional(),
  /** persistence: at least `atLeast` attempts within `withinDays` of the clock start */
  attempts: z
    .strictObject({
      atLeast: z.number().int().min(1),
      withinDays: Days.default(7),
      match: z.array(MatcherSchema).min(1).prefault([{ event: 'call', where: { direction: 'outbound' } }]),
    })
    .nullable()
    .optional(),
  /**
   * marketing's side: leads entering `startStage` (MQLs) it commits per
   * calendar month in the business zone, by business unit id. A target for
   * reports and plans; no read model depends on it.
   */
  mqlsPerMonth: z.record(z.string(), z.number().int().nonnegative()).optional(),
});
export interface SlaRules {
  startStage: string;
  firstTouchWithinMinutes: number;
  attempts: { atLeast: number; withinDays: number; match: Matcher[] } | undefined;
  mqlsPerMonth?: Readonly<Record<string, number>>;
}

const ATTEMPT_DEFAULT = { atLeast: 6, withinDays: 7, match: [{ event: ['call'], where: { direction: { eq: 'outbound' } } }] } satisfies SlaRules['attempts'];
const OWNER_CAPS = { activeLeads: 500, activeCustomers: 100 };

/** Pool and SLA defaults per built-in model (figures from docs/domain.md: 10 days, 35 days, 500 / 100 per rep; half a working day). */
export const MODEL_DEFAULTS: Record<BuiltinModelName, { pool: PoolRules; sla: SlaRules }> = {
  classic_b2b: {
    pool: {
      noFollowUp: { id: 'pool.no_follow_up', days: 10, stages: ['mql', 'sql'] },
      // in the classic model the SQL is the open opportunity
      stalled: [{ id: 'pool.stalled_sql', stage: 'sql', days: 35 }],
      ownerCaps: OWNER_CAPS,
    },
    sla: { startStage: 'mql', firstTouchWithinMinutes: 240, attempts: ATTEMPT_DEFAULT },
  },
  with_opportunity: {
    pool: {
      noFollowUp: { id: 'pool.no_follow_up', days: 10, stages: ['mql', 'sql'] },
      stalled: [{ id: 'pool.stalled_opportunity', stage: 'opportunity', days: 35 }],
      ownerCaps: OWNER_CAPS,
    },
    sla: { startStage: 'mql', firstTouchWithinMinutes: 240, attempts: ATTEMPT_DEFAULT },
  },
  customer_journey: {
    pool: {
      noFollowUp: { id: 'pool.no_follow_up', days: 10, stages: ['intent', 'evaluation'] },
      stalled: [{ id: 'pool.stalled_evaluation', stage: 'evaluation', days: 35 }],
      ownerCaps: OWNER_CAPS,
    },
    sla: { startStage: 'intent', firstTouchWithinMinutes: 240, attempts: ATTEMPT_DEFAULT },
  },
  demand_waterfall: {
    pool: {
      // an MQL waits for acceptance, a SAL for qualification: both need a sales touch
      noFollowUp: { id: 'pool.no_follow_up', days: 10, stages: ['mql', 'sal'] },
      stalled: [{ id: 'pool.stalled_sqo', stage: 'sqo', days: 35 }],
      ownerCaps: OWNER_CAPS,
    },
    sla: { startStage: 'mql', firstTouchWithinMinutes: 240, attempts: ATTEMPT_DEFAULT },
  },
};

/**
 * How reports turn amounts into one currency: `rates[C]` is what one unit of
 * C is worth in `report`. No network look-ups: a currency without a rate is
 * an error in a report that meets it, never summed as if it were `report`.
 */
export const CurrenciesSchema = z.strictObject({
  report: Currency,
  // a bad key is reported as "Invalid key in record" unless the record names it
  rates: z.record(Currency, z.number().positive().finite(), { error: (issue) => (issue.code === 'invalid_key' ? CURRENCY_MESSAGE : undefined) }).default({}),
});
export type CurrencyRules = z.output<typeof CurrenciesSchema>;

const BusinessUnitId = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, { message: 'must be lower case (a-z, 0-9, _ -)' });

/**
 * A lead belongs to the unit whose id or alias equals its profile's
 * businessUnit (case-insensitive), else to `default`.
 */
export const BusinessUnitsSchema = z
  .strictObject({
    default: BusinessUnitId.default('default'),
    units: z
      .array(z.strictObject({ id: BusinessUnitId, name: Label, aliases: z.array(Label).default([]) }))
      .min(1)
      .default([{ id: 'default', name: 'Default', aliases: [] }]),
  })
  .superRefine((bu, ctx) => {
    const owner = new Map<string, string>();
    bu.units.forEach((u, i) => {
      for (const [j, name] of [u.id, ...u.aliases].entries()) {
        const key = name.toLowerCase();
        const other = owner.get(key);
        if (other !== undefined && other !== u.id) {
          ctx.addIssue({ code: 'custom', path: j === 0 ? ['units', i, 'id'] : ['units', i, 'aliases', j - 1], input: name, message: `"${name}" already names unit "${other}"` });
        }
        owner.set(key, u.id);
      }
    });
    if (!bu.units.some((u) => u.id === bu.default)) {
      ctx.addIssue({ code: 'custom', path: ['default'], input: bu.default, message: `unknown unit "${bu.default}"; units: ${bu.units.map((u) => u.id).join(', ')}` });
    }
  })
  .prefault({});
export type BusinessUnitRules = z.output<typeof BusinessUnitsSchema>;

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** IANA name; cohorts and periods bucket in this zone. */
export const TimeZoneSchema = z.string().refine(isTimeZone, { message: 'must be an IANA time zone such as UTC or Europe/Berlin' });
