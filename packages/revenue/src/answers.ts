import { instantOf } from '@sluice/domain';
import { z } from 'zod';
import type { OpportunityModel } from '@sluice/schemas';
import { FORECAST_CATEGORIES, OffsetDateTime } from '@sluice/schemas';
import { type FoldedOpenOpportunity, PIPELINE_GROUPS, type Pipeline, openFromFolded, pipelineOf } from './pipeline.js';
import { type OpportunityAmount, type PipelineMovement, WATERFALL_GROUPS, WATERFALL_TERMS, type Waterfall, type WaterfallGroupValues, waterfallOf } from './waterfall.js';

/*
 * The pipeline and waterfall questions and answers as the API and the CLI
 * exchange them: instants as ISO text, validated by zod on the way in and
 * described by it on the way out.
 */

export const PipelineQuerySchema = z.strictObject({
  /** default: now (the edge reads the clock) */
  asOf: OffsetDateTime.optional(),
  groupBy: z.enum(PIPELINE_GROUPS).optional(),
});
export type PipelineQuery = z.infer<typeof PipelineQuerySchema>;

export const WaterfallQuerySchema = z
  .strictObject({ from: OffsetDateTime, to: OffsetDateTime, groupBy: z.enum(WATERFALL_GROUPS).optional() })
  .superRefine((q, ctx) => {
    if (Date.parse(q.to) <= Date.parse(q.from)) ctx.addIssue({ code: 'custom', path: ['to'], input: q.to, message: 'must be after from' });
  });
export type WaterfallQuery = z.infer<typeof WaterfallQuerySchema>;

const Amount = z.number();
export const PipelineAnswerSchema = z.object({
  asOf: z.string(),
  groupBy: z.enum(PIPELINE_GROUPS).nullable(),
  rows: z.array(
    z.object({
      group: z.string().nullable(),
      currency: z.string(),
      count: z.number().int(),
      amount: Amount,
      weightedAmount: Amount,
      meanDaysInStage: z.number(),
      maxDaysInStage: z.number(),
    }),
  ),
  opportunities: z.array(
    z.object({
      opportunityId: z.string(),
      accountId: z.string(),
      stage: z.string(),
      category: z.enum(FORECAST_CATEGORIES),
      ownerId: z.string().nullable(),
      businessUnit: z.string().nullable(),
      segment: z.string().nullable(),
      amount: Amount,
      currency: z.string(),
      probability: z.number(),
      weightedAmount: Amount,
      closeDate: z.string(),
      daysInStage: z.number(),
    }),
  ),
});
export type PipelineAnswer = z.infer<typeof PipelineAnswerSchema>;

const TermSchema = z.object({ amount: Amount, opportunities: z.array(z.object({ opportunityId: z.string(), accountId: z.string(), amount: Amount })) });
const PointSchema = z.object({ count: z.number().int(), amount: Amount });
export const WaterfallAnswerSchema = z.object({
  from: z.string(),
  to: z.string(),
  groupBy: z.enum(WATERFALL_GROUPS).nullable(),
  rows: z.array(
    z.object({
      group: z.string().nullable(),
      currency: z.string(),
      start: PointSchema,
      ...(Object.fromEntries(WATERFALL_TERMS.map((t) => [t, TermSchema])) as Record<(typeof WATERFALL_TERMS)[number], typeof TermSchema>),
      end: PointSchema,
    }),
  ),
});
export type WaterfallAnswer = z.infer<typeof WaterfallAnswerSchema>;

const iso = (ms: number) => new Date(ms).toISOString();

export function pipelineAnswer(p: Pipeline): PipelineAnswer {
  return {
    asOf: iso(p.asOfMs),
    groupBy: p.groupBy,
    rows: p.rows,
    opportunities: p.opportunities.map(({ closeDateMs, ...o }) => ({ ...o, closeDate: iso(closeDateMs) })),
  };
}

export function waterfallAnswer(w: Waterfall): WaterfallAnswer {
  return { from: iso(w.fromMs), to: iso(w.toMs), groupBy: w.groupBy, rows: w.rows };
}

/** The pipeline question answered from open opportunities another engine folded (ClickHouse), grouped here. */
export async function answerPipelineOfFolded(q: PipelineQuery, nowMs: number, model: OpportunityModel, readOpen: (asOfMs: number) => Promise<readonly FoldedOpenOpportunity[]>): Promise<PipelineAnswer> {
  const asOfMs = q.asOf === undefined ? nowMs : Date.parse(q.asOf);
  const open = (await readOpen(asOfMs)).map((f) => openFromFolded(f, asOfMs, model));
  return pipelineAnswer(pipelineOf(open, asOfMs, model, q.groupBy ?? null));
}

/** What another engine (ClickHouse) folds for a waterfall: the open deals at an instant, the period's movements, each deal's group values. */
export interface FoldedWaterfallSource {
  openAsOf(asOfMs: number): Promise<readonly FoldedOpenOpportunity[]>;
  movements(fromMs: number, toMs: number): Promise<PipelineMovement[]>;
  groupsAsOf(beforeMs: number): Promise<Map<string, WaterfallGroupValues>>;
}

/** The waterfall question answered from what another engine folded, assembled here as the fold assembles its own. */
export async function answerWaterfallOfFolded(q: WaterfallQuery, source: FoldedWaterfallSource): Promise<WaterfallAnswer> {
  const [fromMs, toMs] = [Date.parse(q.from), Date.parse(q.to)];
  const inPeriodAt = async (atMs: number): Promise<OpportunityAmount[]> =>
    (await source.openAsOf(atMs))
      .filter((o) => {
        const close = instantOf(o.closeDate);
        return close >= fromMs && close < toMs;
      })
      .map(({ opportunityId, accountId, currency, amount }) => ({ opportunityId, accountId, currency, amount }));
  const [start, end, movements, groups] = await Promise.all([inPeriodAt(fromMs), inPeriodAt(toMs), source.movements(fromMs, toMs), source.groupsAsOf(toMs)]);
  return waterfallAnswer(waterfallOf({ groups, start, end, movements }, fromMs, toMs, q.groupBy ?? null));
}
