import { z } from 'zod';
import { type Matcher, MatcherSchema, type ProfileFilter, ProfileFilterSchema } from './matchers.js';
import { RuleIdSchema } from './stage-models.js';

/**
 * Lead scoring: fit from profile facts against the ideal customer profile,
 * engagement from touchpoints with time decay. Every matching rule adds its
 * points; negative points are the negative signals. Defaults follow the
 * practitioner literature in docs/domain.md and are meant to be replaced by
 * closed-loop calibrated weights.
 */

const Points = z.number().finite().refine((n) => n !== 0, { message: 'must not be 0' });

export const FitRuleSchema = z.strictObject({ id: RuleIdSchema, profile: ProfileFilterSchema, points: Points });
export interface FitRule {
  id: string;
  profile: ProfileFilter;
  points: number;
}

export const EngagementRuleSchema = z.strictObject({
  id: RuleIdSchema,
  match: MatcherSchema,
  points: Points,
  /** at most this many points (absolute) from this rule at any time; accrual stops at the cap */
  cap: z.number().positive().optional(),
  /** false: the points never fade (e.g. an unsubscribe) */
  decays: z.boolean().default(true),
});
export interface EngagementRule {
  id: string;
  match: Matcher;
  points: number;
  cap?: number | undefined;
  decays: boolean;
}

/** "More than 15 visits in 30 days" is `{ atLeast: 16, withinDays: 30 }`: awarded when reached, at most once per window. */
export const FrequencyRuleSchema = z.strictObject({
  id: RuleIdSchema,
  match: MatcherSchema,
  atLeast: z.number().int().min(2),
  withinDays: z.number().positive(),
  points: Points,
  decays: z.boolean().default(true),
});
export interface FrequencyRule {
  id: string;
  match: Matcher;
  atLeast: number;
  withinDays: number;
  points: number;
  decays: boolean;
}

const FREE_MAIL = ['gmail.com', 'googlemail.com', 'yahoo.com', 'hotmail.com', 'outlook.com', 'live.com', 'aol.com', 'icloud.com', 'gmx.de', 'gmx.net', 'web.de', 'proton.me', 'protonmail.com', 'qq.com', '163.com'];

const DEFAULT_FIT_RULES: z.input<typeof FitRuleSchema>[] = [
  { id: 'fit.title_senior', profile: { title: { contains: ['chief', 'ceo', 'cto', 'cfo', 'coo', 'cmo', 'vp', 'vice president', 'head of', 'director'] } }, points: 30 },
  { id: 'fit.title_manager', profile: { title: { contains: 'manager' } }, points: 15 },
  { id: 'fit.economic_buyer', profile: { role: 'economic_buyer' }, points: 20 },
  { id: 'fit.influencer', profile: { role: { in: ['technical_buyer', 'champion'] } }, points: 10 },
  { id: 'fit.company_mid', profile: { companySize: { gte: 50, lt: 1000 } }, points: 15 },
  { id: 'fit.company_large', profile: { companySize: { gte: 1000 } }, points: 25 },
  { id: 'fit.business_email', profile: { emailDomain: { notIn: FREE_MAIL } }, points: 15 },
  { id: 'fit.known_company', profile: { company: { exists: true } }, points: 10 },
  // negative signals
  { id: 'fit.student', profile: { title: { contains: ['student', 'intern'] } }, points: -40 },
  { id: 'fit.academic_email', profile: { emailDomain: { contains: '.edu' } }, points: -20 },
];

const DEFAULT_ENGAGEMENT_RULES: z.input<typeof EngagementRuleSchema>[] = [
  { id: 'eng.visit', match: { event: 'visit' }, points: 1, cap: 10 },
  { id: 'eng.page_view', match: { event: 'page_view' }, points: 1, cap: 10 },
  { id: 'eng.pricing_view', match: { event: 'page_view', where: { pageType: 'pricing' } }, points: 10, cap: 30 },
  { id: 'eng.content_download', match: { event: 'content_download' }, points: 10, cap: 30 },
  { id: 'eng.form_submit', match: { event: 'form_submit' }, points: 10, cap: 20 },
  { id: 'eng.email_open', match: { event: 'email_open' }, points: 1, cap: 5 },
  { id: 'eng.email_click', match: { event: 'email_click' }, points: 3, cap: 15 },
  { id: 'eng.webinar_registered', match: { event: 'webinar_registered' }, points: 5, cap: 10 },
  { id: 'eng.webinar_attended', match: { event: 'webinar_attended' }, points: 15, cap: 30 },
  { id: 'eng.ad_click', match: { event: 'ad_click' }, points: 2, cap: 10 },
  { id: 'eng.social_follow', match: { event: 'social_follow' }, points: 3, cap: 6 },
  { id: 'eng.demo_requested', match: { event: 'demo_requested' }, points: 40, cap: 40 },
  { id: 'eng.trial_started', match: { event: 'trial_started' }, points: 30, cap: 30 },
  // negative signal: does not fade
  { id: 'eng.unsubscribe', match: { event: 'unsubscribe' }, points: -20, cap: 20, decays: false },
];

const DEFAULT_FREQUENCY_RULES: z.input<typeof FrequencyRuleSchema>[] = [
  { id: 'eng.frequent_visitor', match: { event: 'visit' }, atLeast: 16, withinDays: 30, points: 15 },
];

const Bounds = { min: z.number().finite().default(0), max: z.number().finite().default(100) };

export const ScoringSchema = z.strictObject({
  fit: z
    .strictObject({ rules: z.array(FitRuleSchema).prefault(DEFAULT_FIT_RULES), ...Bounds })
    .prefault({}),
  engagement: z
    .strictObject({
      /** points lose half their weight every halfLifeDays; null: no decay */
      halfLifeDays: z.number().positive().nullable().default(30),
      rules: z.array(EngagementRuleSchema).prefault(DEFAULT_ENGAGEMENT_RULES),
      frequency: z.array(FrequencyRuleSchema).prefault(DEFAULT_FREQUENCY_RULES),
      ...Bounds,
    })
    .prefault({}),
});
export interface ScoringRules {
  fit: { rules: FitRule[]; min: number; max: number };
  engagement: { halfLifeDays: number | null; rules: EngagementRule[]; frequency: FrequencyRule[]; min: number; max: number };
}

export const GRADES = ['hot', 'warm', 'cold'] as const;
export type Grade = (typeof GRADES)[number];

/** Hot at or above `hot`, warm at or above `warm`, else cold, on the chosen score (decayed to the as-of time). */
export const GradesSchema = z
  .strictObject({
    basis: z.enum(['engagement', 'fit', 'total']).default('engagement'),
    hot: z.number().finite().default(60),
    warm: z.number().finite().default(30),
  })
  .refine((g) => g.hot > g.warm, { message: 'hot must be above warm', path: ['hot'] })
  .prefault({});
export type GradeRules = z.output<typeof GradesSchema>;

export const QUADRANTS = ['fit_interested', 'fit_not_interested', 'interested_no_fit', 'neither'] as const;
export type Quadrant = (typeof QUADRANTS)[number];

/** Fit x interest: which next step each quadrant gets (domain.md, "Lead scoring"). */
export const QuadrantsSchema = z
  .strictObject({
    fitAtLeast: z.number().finite().default(50),
    interestAtLeast: z.number().finite().default(40),
    actions: z
      .strictObject({
        fit_interested: z.string().min(1).default('sales_follow_up_24h'),
        fit_not_interested: z.string().min(1).default('nurture'),
        interested_no_fit: z.string().min(1).default('low_cost_sales_follow_up'),
        neither: z.string().min(1).default('drop_from_communication'),
      })
      .prefault({}),
  })
  .prefault({});
export type QuadrantRules = z.output<typeof QuadrantsSchema>;
