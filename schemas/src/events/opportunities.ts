import { z } from 'zod';
import { Extensions } from './extensions.js';
import { Id, Label, Money, OffsetDateTime, Text } from './primitives.js';
import { LostReason } from './touchpoints.js';

/**
 * Opportunity events: a deal an account may buy, with its own path (stage,
 * amount, close date, owner). They are about an account, not a person: they
 * carry the `accountId` and no leadId or anonymousId, and each opportunity
 * has a stream of its own (`opp-<opportunityId>`), so one opportunity's
 * progress is independent of the others of the same account. The people of
 * the deal join it by `opportunity_contact_added` (its `leadId` is a
 * property, so the event stays off the lead's stream and moves no lead).
 */
const props = <T extends z.ZodRawShape>(shape: T) => z.strictObject({ opportunityId: Id, ...shape, x: Extensions });

/** A stage of the opportunity stage model (config `opportunities.stages`); checked against the model when folded, not here. */
export const OpportunityStageId = z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, { message: 'must be an opportunity stage id: lower_snake_case (a-z, 0-9, _), starting with a letter' });
/** Who a person is in the buying group of a deal. */
export const BuyingRole = z.enum(['decision_maker', 'champion', 'influencer', 'user', 'economic_buyer', 'other']);

const Note = Text.max(2000);
/**
 * The win probability the CRM set when the deal entered its stage (a rep's
 * override, or the stage default of that day). Frozen with the stage, as
 * Salesforce does; absent: the configured stage model's probability.
 */
const Probability = z.number().min(0, { message: 'must be a probability from 0 to 1 (0.25 for 25%)' }).max(1, { message: 'must be a probability from 0 to 1 (0.25 for 25%)' });

export const opportunityProperties = {
  opportunity_created: props({
    name: Label.optional(),
    stage: OpportunityStageId,
    probability: Probability.optional(),
    ...Money,
    /** when the deal is expected to close: what the waterfall's pushes and pulls move */
    closeDate: OffsetDateTime,
    ownerId: Id.optional(),
    businessUnit: Label.optional(),
    /** the account's segment (e.g. enterprise, mid_market), for grouping the pipeline */
    segment: Label.optional(),
  }),
  opportunity_stage_changed: props({ stage: OpportunityStageId, probability: Probability.optional() }),
  opportunity_amount_changed: props({ ...Money }),
  opportunity_close_date_changed: props({ closeDate: OffsetDateTime }),
  opportunity_owner_changed: props({ ownerId: Id }),
  opportunity_contact_added: props({ leadId: Id, role: BuyingRole }),
  /** the amount signed, when it differs from the last amount; absent: the last amount */
  opportunity_won: props({ amount: Money.amount.optional(), currency: Money.currency.optional(), note: Note.optional() }),
  opportunity_lost: props({ reason: LostReason, note: Note.optional() }),
} as const;
