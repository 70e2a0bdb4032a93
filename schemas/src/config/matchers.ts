import { z } from 'zod';
import { EVENT_TYPES, eventProperties, type EventType } from '../events/envelope.js';
import { profileProperties } from '../events/touchpoints.js';

/**
 * The small vocabulary every rule is written in: a value filter, a filter on a
 * lead's profile facts, and a matcher that picks events (type + property
 * filters). Conditions, scoring, SLA and pool rules all reuse these, so one
 * event can be described the same way everywhere.
 */

const Scalar = z.union([z.string(), z.number(), z.boolean()]);
const isScalar = (v: unknown) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

const FilterObject = z
  .strictObject({
    eq: Scalar.optional(),
    ne: Scalar.optional(),
    in: z.array(Scalar).min(1).optional(),
    notIn: z.array(Scalar).min(1).optional(),
    gt: z.number().optional(),
    gte: z.number().optional(),
    lt: z.number().optional(),
    lte: z.number().optional(),
    /** case-insensitive substring; a list matches when any entry is contained */
    contains: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
    exists: z.boolean().optional(),
  })
  .refine((f) => Object.values(f).some((v) => v !== undefined), {
    message: 'needs at least one of eq, ne, in, notIn, gt, gte, lt, lte, contains, exists',
    // an unknown operator is already reported; "needs one" on top of it is noise
    when: (payload) => payload.issues.length === 0,
  });

/**
 * A test on one value. A bare scalar means `eq`. All given operators must
 * hold. A missing value matches nothing except `exists: false` (so `notIn`
 * does not match a lead whose industry is unknown).
 */
export const FilterSchema = z.preprocess((v) => (isScalar(v) ? { eq: v } : v), FilterObject);
export type Filter = z.output<typeof FilterObject>;

/** The property names of an event's `properties` schema (seen through wrappers such as prefault). */
export function propertyNames(schema: z.ZodType): string[] {
  let s: unknown = schema;
  while (!(s instanceof z.ZodObject) && typeof (s as { unwrap?: unknown }).unwrap === 'function') s = (s as { unwrap: () => unknown }).unwrap();
  return s instanceof z.ZodObject ? Object.keys(s.shape) : [];
}

/** Profile facts a fit rule can test: the identify properties, plus the e-mail's domain. */
export const PROFILE_FIELDS = [...propertyNames(profileProperties.identify).filter((k) => k !== 'x'), 'emailDomain'] as ProfileField[];
export type ProfileField = Exclude<keyof z.output<typeof profileProperties.identify>, 'x'> | 'emailDomain';

export const ProfileFilterSchema = z
  .strictObject(Object.fromEntries(PROFILE_FIELDS.map((f) => [f, FilterSchema.optional()])) as Record<ProfileField, z.ZodOptional<typeof FilterSchema>>)
  .refine((p) => Object.values(p).some((v) => v !== undefined), {
    message: `needs at least one profile field: ${PROFILE_FIELDS.join(', ')}`,
    when: (payload) => payload.issues.length === 0,
  });
export type ProfileFilter = { [K in ProfileField]?: Filter | undefined };

export const EventTypeSchema = z.enum(EVENT_TYPES as [EventType, ...EventType[]]);

/**
 * Which events a rule looks at. `event` is one type or a list; `where` filters
 * on `properties` by dotted path (`bant.budget`, `x.utm_term`); `source`,
 * `channel` and `campaign` filter on the envelope.
 */
export const matcherShape = {
  event: z.preprocess((v) => (typeof v === 'string' ? [v] : v), z.array(EventTypeSchema).min(1)),
  where: z.record(z.string().min(1), FilterSchema).optional(),
  source: FilterSchema.optional(),
  channel: FilterSchema.optional(),
  campaign: FilterSchema.optional(),
};
export interface Matcher {
  event: EventType[];
  where?: Record<string, Filter> | undefined;
  source?: Filter | undefined;
  channel?: Filter | undefined;
  campaign?: Filter | undefined;
}

/** A property path must start with a property of (at least one of) the matched types: typos fail at load. */
export function checkMatcherPaths(m: { event: readonly EventType[]; where?: Record<string, unknown> | undefined }, ctx: z.RefinementCtx): void {
  if (!m.where) return;
  const known = new Set(m.event.flatMap((t) => propertyNames(eventProperties[t])));
  for (const path of Object.keys(m.where)) {
    const head = path.split('.')[0] ?? '';
    if (!known.has(head)) {
      ctx.addIssue({
        code: 'custom',
        path: ['where', path],
        input: path,
        message: `unknown property "${head}" for ${m.event.join(' | ')}; known: ${[...known].sort().join(', ')}`,
      });
    }
  }
}

export const MatcherSchema = z.strictObject(matcherShape).superRefine(checkMatcherPaths);
