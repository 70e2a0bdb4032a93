import { z } from 'zod';
import { type Condition, ConditionSchema } from './conditions.js';
import { Label } from '../events/primitives.js';

/**
 * The stage model: ordered stages, each with the rules that let a lead enter
 * it. Stages only move forward; reaching a later stage directly records the
 * ones in between as skipped (see packages/domain).
 */

export const StageIdSchema = z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, { message: 'must be lower_snake_case (a-z, 0-9, _), starting with a letter' });
export const RuleIdSchema = z.string().regex(/^[a-z][a-z0-9_.-]{0,127}$/, { message: 'must be lower case (a-z, 0-9, _ . -), starting with a letter, e.g. mql.score' });

/** One named way into a stage. Its id is what a stage transition records as the rule that fired. */
export const EntryRuleSchema = z.strictObject({ id: RuleIdSchema, when: ConditionSchema });
export interface EntryRule {
  id: string;
  when: Condition;
}

export const StageSchema = z.strictObject({
  id: StageIdSchema,
  name: Label,
  /** Alternatives, tried in order; the first that holds names the transition. No `entry`: any event enters the stage. */
  entry: z.array(EntryRuleSchema).min(1).optional(),
});
export interface Stage {
  id: string;
  name: string;
  entry?: EntryRule[] | undefined;
}

export interface StageModel {
  id: string;
  name: string;
  /** the built-in model this one came from, if any */
  builtin?: BuiltinModelName | undefined;
  stages: Stage[];
  /** the stage that means "won": owner caps count customers from here on */
  customerStage: string;
}

const CustomModelShape = {
  id: z.string().regex(/^[a-z][a-z0-9_-]{0,63}$/, { message: 'must be lower case (a-z, 0-9, _ -), starting with a letter' }),
  name: Label.optional(),
  stages: z.array(StageSchema).min(2),
  customerStage: StageIdSchema,
};

function checkCustomModel(m: { stages: Stage[]; customerStage: string }, ctx: z.RefinementCtx): void {
  const seen = new Set<string>();
  m.stages.forEach((s, i) => {
    if (seen.has(s.id)) ctx.addIssue({ code: 'custom', path: ['stages', i, 'id'], input: s.id, message: `duplicate stage id "${s.id}"` });
    seen.add(s.id);
  });
  if (!seen.has(m.customerStage)) {
    ctx.addIssue({ code: 'custom', path: ['customerStage'], input: m.customerStage, message: unknownStage(m.customerStage, [...seen]) });
  }
}

export const unknownStage = (id: string, known: readonly string[]) => `unknown stage "${id}"; stages: ${known.join(', ')}`;

export const BUILTIN_MODEL_NAMES = ['classic_b2b', 'with_opportunity', 'customer_journey', 'demand_waterfall'] as const;
export type BuiltinModelName = (typeof BUILTIN_MODEL_NAMES)[number];

/*
 * The three models of docs/domain.md and the demand waterfall, written in the config language itself so
 * they are validated by the same schema. Event lists:
 * - owned-channel touches make a visitor;
 * - giving contact details makes a lead (identify, forms, downloads, webinar
 *   sign-up, inbound call, demo request);
 * - an inbound demo request jumps straight to SQL (domain.md: "Skipping is
 *   allowed"), so the classic MQL is the score- and fit-based family.
 */
const OWNED_CHANNEL_TOUCH = { event: ['visit', 'page_view', 'ad_click', 'social_follow', 'email_click'] };
const CONTACT_DETAILS = {
  anyOf: [
    { event: ['identify', 'form_submit', 'content_download', 'webinar_registered', 'demo_requested'] },
    { event: 'call', where: { direction: 'inbound' } },
  ],
};
const MQL_RULES = [
  { id: 'mql.score', when: { allOf: [{ score: 'fit', atLeast: 60 }, { score: 'engagement', atLeast: 40 }] } },
  { id: 'mql.icp_form', when: { allOf: [{ score: 'fit', atLeast: 80 }, { event: 'form_submit' }] } },
];
const SQL_RULES = [
  { id: 'sql.accepted', when: { event: 'sales_accepted' } },
  { id: 'sql.bant', when: { bant: { atLeast: 4 } } },
  { id: 'sql.demo_request', when: { event: 'demo_requested' } },
];
const CUSTOMER_RULES = [{ id: 'customer.paid_or_signed', when: { event: ['payment', 'quote_accepted'] } }];
/** What makes a sales-qualified opportunity: sales has a deal under way, not just a meeting booked. */
const OPPORTUNITY_EVENTS = ['demo_held', 'poc_started', 'quote'];

const BUILTIN_INPUTS: Record<BuiltinModelName, z.input<typeof CustomModelSchema>> = {
  classic_b2b: {
    id: 'classic_b2b',
    name: 'Classic B2B',
    customerStage: 'customer',
    stages: [
      { id: 'visitor', name: 'Visitor', entry: [{ id: 'visitor.touch', when: OWNED_CHANNEL_TOUCH }] },
      { id: 'lead', name: 'Lead', entry: [{ id: 'lead.contact', when: CONTACT_DETAILS }] },
      { id: 'mql', name: 'MQL', entry: MQL_RULES },
      { id: 'sql', name: 'SQL', entry: SQL_RULES },
      { id: 'customer', name: 'Customer', entry: CUSTOMER_RULES },
    ],
  },
  with_opportunity: {
    id: 'with_opportunity',
    name: 'B2B with opportunity',
    customerStage: 'customer',
    stages: [
      { id: 'visitor', name: 'Visitor', entry: [{ id: 'visitor.touch', when: OWNED_CHANNEL_TOUCH }] },
      { id: 'lead', name: 'Lead', entry: [{ id: 'lead.contact', when: CONTACT_DETAILS }] },
      { id: 'mql', name: 'MQL', entry: MQL_RULES },
      { id: 'sql', name: 'SQL', entry: SQL_RULES },
      {
        id: 'opportunity',
        name: 'Opportunity',
        entry: [{ id: 'opportunity.started', when: { event: ['demo_scheduled', 'demo_held', 'trial_started', 'poc_started', 'quote'] } }],
      },
      { id: 'customer', name: 'Customer', entry: CUSTOMER_RULES },
    ],
  },
  customer_journey: {
    id: 'customer_journey',
    name: 'Customer journey',
    customerStage: 'purchase',
    stages: [
      { id: 'awareness', name: 'Awareness', entry: [{ id: 'awareness.touch', when: { event: ['visit', 'page_view', 'ad_click', 'social_follow', 'email_open', 'email_click'] } }] },
      { id: 'interest', name: 'Interest', entry: [{ id: 'interest.contact', when: CONTACT_DETAILS }] },
      {
        id: 'consideration',
        name: 'Consideration',
        entry: [
          { id: 'consideration.pricing', when: { event: 'page_view', where: { pageType: 'pricing' } } },
          { id: 'consideration.webinar', when: { event: 'webinar_attended' } },
          { id: 'consideration.engaged', when: { score: 'engagement', atLeast: 30 } },
        ],
      },
      {
        id: 'intent',
        name: 'Intent',
        entry: [
          { id: 'intent.demo_request', when: { event: ['demo_requested', 'trial_started'] } },
          { id: 'intent.pricing_repeat', when: { count: { event: 'page_view', where: { pageType: 'pricing' } }, atLeast: 3, withinDays: 14 } },
        ],
      },
      {
        id: 'evaluation',
        name: 'Evaluation',
        entry: [{ id: 'evaluation.sales', when: { event: ['sales_accepted', 'demo_held', 'poc_started', 'quote'] } }],
      },
      { id: 'purchase', name: 'Purchase', entry: [{ id: 'purchase.paid_or_signed', when: { event: ['payment', 'quote_accepted'] } }] },
      { id: 'retention', name: 'Retention', entry: [{ id: 'retention.renewal', when: { event: ['renewal', 'upsell'] } }] },
      { id: 'advocacy', name: 'Advocacy', entry: [{ id: 'advocacy.referral', when: { event: 'referral' } }] },
    ],
  },
  /*
   * The demand waterfall: every hand-off between marketing and sales is its
   * own stage. An inquiry is a raised hand (contact details, not a visit);
   * sales accepting the lead is the SAL, a positive BANT call the SQL, a deal
   * under way the SQO. A demo request is an inquiry here, not a jump to SQL:
   * the waterfall exists to measure acceptance, so sales must still accept.
   * Disqualified and recycled are the lifecycle's side states (disqualified
   * events, lifecycle.recycledBy, pool rules), as in every model.
   */
  demand_waterfall: {
    id: 'demand_waterfall',
    name: 'Demand waterfall',
    customerStage: 'won',
    stages: [
      { id: 'inquiry', name: 'Inquiry', entry: [{ id: 'inquiry.contact', when: CONTACT_DETAILS }] },
      { id: 'mql', name: 'MQL', entry: MQL_RULES },
      { id: 'sal', name: 'SAL', entry: [{ id: 'sal.accepted', when: { event: 'sales_accepted' } }] },
      { id: 'sql', name: 'SQL', entry: [{ id: 'sql.bant', when: { bant: { atLeast: 4 } } }] },
      { id: 'sqo', name: 'SQO', entry: [{ id: 'sqo.opportunity', when: { event: OPPORTUNITY_EVENTS } }] },
      { id: 'won', name: 'Won', entry: [{ id: 'won.paid_or_signed', when: { event: ['payment', 'quote_accepted'] } }] },
    ],
  },
};

export const CustomModelSchema = z.strictObject(CustomModelShape).superRefine(checkCustomModel);

let builtinCache: Record<BuiltinModelName, StageModel> | undefined;
/** The built-in models, parsed (and so validated) on first use. */
export function builtinStageModel(name: BuiltinModelName): StageModel {
  builtinCache ??= Object.fromEntries(
    BUILTIN_MODEL_NAMES.map((n) => {
      const m = CustomModelSchema.parse(BUILTIN_INPUTS[n]);
      return [n, { ...m, name: m.name ?? m.id, builtin: n }];
    }),
  ) as Record<BuiltinModelName, StageModel>;
  return builtinCache[name];
}

/**
 * `{ builtin: "classic_b2b" }` picks a shipped model; `entry` replaces the
 * entry rules of named stages and `names` renames them, so a company can keep
 * the shape and write its own MQL definition. Anything else is a custom model.
 */
const BuiltinRefSchema = z
  .strictObject({
    kind: z.literal('builtin'),
    builtin: z.enum(BUILTIN_MODEL_NAMES),
    entry: z.record(StageIdSchema, z.array(EntryRuleSchema).min(1)).optional(),
    names: z.record(StageIdSchema, Label).optional(),
  })
  .superRefine((ref, ctx) => {
    const known = builtinStageModel(ref.builtin).stages.map((s) => s.id);
    for (const key of ['entry', 'names'] as const) {
      for (const id of Object.keys(ref[key] ?? {})) {
        if (!known.includes(id)) ctx.addIssue({ code: 'custom', path: [key, id], input: id, message: unknownStage(id, known) });
      }
    }
  });

const isObject = (v: unknown): v is object => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses either form and always yields the full model, so nothing downstream needs to know about built-ins. */
export const StageModelSchema = z
  .preprocess(
    // a parsed model (stages listed, `builtin` kept as provenance) parses again as itself
    (v) => (isObject(v) ? { ...v, kind: Object.hasOwn(v, 'builtin') && !Object.hasOwn(v, 'stages') ? 'builtin' : 'custom' } : v),
    z.discriminatedUnion('kind', [
      BuiltinRefSchema,
      z.strictObject({ kind: z.literal('custom'), ...CustomModelShape, builtin: z.enum(BUILTIN_MODEL_NAMES).optional() }).superRefine(checkCustomModel),
    ]),
  )
  .transform((m): StageModel => {
    if (m.kind === 'custom') return { id: m.id, name: m.name ?? m.id, builtin: m.builtin, stages: m.stages, customerStage: m.customerStage };
    const base = builtinStageModel(m.builtin);
    return {
      ...base,
      stages: base.stages.map((s) => ({ ...s, name: m.names?.[s.id] ?? s.name, entry: m.entry?.[s.id] ?? s.entry })),
    };
  });
