import { z } from 'zod';
import { type Matcher, MatcherSchema, ProfileFilterSchema, type ProfileFilter, checkMatcherPaths, matcherShape } from './matchers.js';

/**
 * Stage entry conditions. Written with one distinguishing key each, e.g.
 *
 *   { "anyOf": [ { "allOf": [ { "score": "fit", "atLeast": 60 }, { "score": "engagement", "atLeast": 40 } ] },
 *                { "event": "demo_requested" } ] }
 *
 * - `{ score: fit|engagement|total, atLeast }`  score at the time of the event being applied
 * - `{ event, where?, source?, channel?, campaign? }`  did at least one such event (ever, up to now)
 * - `{ count: <matcher>, atLeast, withinDays? }`  at least n such events (within the last d days)
 * - `{ bant: { atLeast?: 1..4 } }`  a call with at least n of the four BANT answers positive (default 4)
 * - `{ profile: { <field>: <filter>, ... } }`  profile facts (fit-focused definitions)
 * - `{ anyOf: [...] }`, `{ allOf: [...] }`
 * Parsing tags each with a `kind` so code can switch on it exhaustively.
 */
export type Condition =
  | { kind: 'anyOf'; anyOf: Condition[] }
  | { kind: 'allOf'; allOf: Condition[] }
  | { kind: 'score'; score: ScoreName; atLeast: number }
  | ({ kind: 'event' } & Matcher)
  | { kind: 'count'; count: Matcher; atLeast: number; withinDays?: number | undefined }
  | { kind: 'bant'; bant: { atLeast: number } }
  | { kind: 'profile'; profile: ProfileFilter };

export const SCORE_NAMES = ['fit', 'engagement', 'total'] as const;
export type ScoreName = (typeof SCORE_NAMES)[number];

const CONDITION_KEYS = ['anyOf', 'allOf', 'score', 'event', 'count', 'bant', 'profile'] as const;

/** Finds the one distinguishing key and tags the object with it, so the union below reports the errors of that branch only. */
function tagCondition(value: unknown, ctx: z.RefinementCtx): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const present = CONDITION_KEYS.filter((k) => Object.hasOwn(value, k));
  if (present.length === 1) return { ...value, kind: present[0] };
  ctx.addIssue({
    code: 'custom',
    input: value,
    message:
      present.length === 0
        ? `a condition needs one of ${CONDITION_KEYS.join(', ')}; got ${Object.keys(value).join(', ') || 'an empty object'}`
        : `a condition has exactly one of ${CONDITION_KEYS.join(', ')}; got ${present.join(' and ')}`,
  });
  return z.NEVER;
}

export const ConditionSchema: z.ZodType<Condition> = z.preprocess(
  tagCondition,
  z.discriminatedUnion('kind', [
    z.strictObject({
      kind: z.literal('anyOf'),
      get anyOf() {
        return z.array(ConditionSchema).min(1);
      },
    }),
    z.strictObject({
      kind: z.literal('allOf'),
      get allOf() {
        return z.array(ConditionSchema).min(1);
      },
    }),
    z.strictObject({ kind: z.literal('score'), score: z.enum(SCORE_NAMES), atLeast: z.number().finite() }),
    z.strictObject({ kind: z.literal('event'), ...matcherShape }).superRefine(checkMatcherPaths),
    z.strictObject({
      kind: z.literal('count'),
      count: MatcherSchema,
      atLeast: z.number().int().min(1),
      withinDays: z.number().positive().optional(),
    }),
    z.strictObject({ kind: z.literal('bant'), bant: z.strictObject({ atLeast: z.number().int().min(1).max(4).default(4) }) }),
    z.strictObject({ kind: z.literal('profile'), profile: ProfileFilterSchema }),
  ]),
) as z.ZodType<Condition>;
