import { z } from 'zod';
import { Label } from '../events/primitives.js';
import { OpportunityStageId } from '../events/opportunities.js';

/**
 * The opportunity stage model: the open stages a deal moves through, in
 * order, each with the probability a deal in it is won (its weighted amount
 * is amount × the probability of the stage it entered, frozen at entry as
 * Salesforce does) and the forecast category it counts in. Closing is not a
 * stage change but its own event: `opportunity_won` (probability 1, category
 * closed) and `opportunity_lost` (probability 0, category omitted).
 */
export const FORECAST_CATEGORIES = ['pipeline', 'best_case', 'commit', 'closed', 'omitted'] as const;
export const ForecastCategorySchema = z.enum(FORECAST_CATEGORIES);
export type ForecastCategory = (typeof FORECAST_CATEGORIES)[number];

export const OpportunityStageSchema = z.strictObject({
  id: OpportunityStageId,
  name: Label.optional(),
  probability: z.number().min(0, { message: 'must be a probability from 0 to 1 (0.25 for 25%)' }).max(1, { message: 'must be a probability from 0 to 1 (0.25 for 25%)' }),
  category: ForecastCategorySchema.refine((c) => c !== 'closed', { message: 'closed is the category of won deals (opportunity_won); an open stage is pipeline, best_case, commit or omitted' }),
});
export interface OpportunityStage {
  id: string;
  name: string;
  probability: number;
  category: ForecastCategory;
}
export interface OpportunityModel {
  stages: OpportunityStage[];
}

/** Discovery to negotiation, with the probabilities most CRMs ship. */
export const DEFAULT_OPPORTUNITY_STAGES = [
  { id: 'discovery', name: 'Discovery', probability: 0.1, category: 'pipeline' },
  { id: 'qualification', name: 'Qualification', probability: 0.2, category: 'pipeline' },
  { id: 'proposal', name: 'Proposal', probability: 0.5, category: 'best_case' },
  { id: 'negotiation', name: 'Negotiation', probability: 0.75, category: 'commit' },
] as const satisfies readonly OpportunityStage[];

export const OpportunityModelSchema = z
  .strictObject({ stages: z.array(OpportunityStageSchema).min(1, { message: 'needs at least one open stage' }).default(() => DEFAULT_OPPORTUNITY_STAGES.map((s) => ({ ...s }))) })
  .superRefine((m, ctx) => {
    const seen = new Set<string>();
    m.stages.forEach((s, i) => {
      if (seen.has(s.id)) ctx.addIssue({ code: 'custom', path: ['stages', i, 'id'], input: s.id, message: `duplicate opportunity stage id "${s.id}"` });
      seen.add(s.id);
    });
  })
  .transform((m): OpportunityModel => ({ stages: m.stages.map((s) => ({ id: s.id, name: s.name ?? s.id, probability: s.probability, category: s.category })) }));
