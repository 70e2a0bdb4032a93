import { z } from 'zod';
import { Id, Label, OffsetDateTime } from './primitives.js';
import { opportunityProperties } from './opportunities.js';
import { costProperties, decisionProperties, profileProperties, touchpointProperties } from './touchpoints.js';

/** Every event type a producer may send, with the schema of its `properties`. */
export const eventProperties = { ...touchpointProperties, ...profileProperties, ...decisionProperties, ...costProperties, ...opportunityProperties } as const;
export type EventType = keyof typeof eventProperties;
export const EVENT_TYPES = Object.keys(eventProperties).sort() as EventType[];

/**
 * Types that only make sense for a known person: a profile, or a decision a
 * salesperson made about someone. An anonymous visitor cannot be disqualified.
 */
export const LEAD_ONLY_TYPES: ReadonlySet<EventType> = new Set<EventType>(['identify', ...(Object.keys(decisionProperties) as EventType[])]);

/**
 * Types about an account's deals: they need the `accountId` and carry neither
 * leadId nor anonymousId; `properties.opportunityId` keys their stream.
 */
export const OPPORTUNITY_TYPES: ReadonlySet<EventType> = new Set<EventType>(Object.keys(opportunityProperties) as EventType[]);
/** Spend: neither leadId nor anonymousId nor accountId, and a `source` instead, which keys its stream. */
const COST_TYPES: ReadonlySet<EventType> = new Set<EventType>(Object.keys(costProperties) as EventType[]);
/**
 * Types about no person: spend and opportunity events. No funnel step,
 * cohort or lead's stage can name them (a person never does them).
 */
export const ACTORLESS_TYPES: ReadonlySet<EventType> = new Set<EventType>([...COST_TYPES, ...OPPORTUNITY_TYPES]);

const envelopeShape = {
  id: Id,
  occurredAt: OffsetDateTime,
  leadId: Id.optional(),
  anonymousId: Id.optional(),
  accountId: Id.optional(),
  source: Label.optional(),
  channel: Label.optional(),
  campaign: Label.optional(),
};

// prefault: a missing `properties` is parsed as {}, so required properties are still reported
const parsedAsEmptyWhenMissing = <S extends z.ZodObject>(schema: S) => schema.prefault({} as z.input<S>);

function eventSchemaFor<T extends EventType>(type: T) {
  return z.strictObject({
    ...envelopeShape,
    type: z.literal(type),
    properties: parsedAsEmptyWhenMissing(eventProperties[type]),
  });
}

type SchemaMap = { [T in EventType]: ReturnType<typeof eventSchemaFor<T>> };
export const eventSchemas = Object.fromEntries(EVENT_TYPES.map((t) => [t, eventSchemaFor(t)])) as unknown as SchemaMap;

/** The v1 envelope as one tagged union (used for types and JSON Schema generation). */
export const SluiceEventSchema = z.discriminatedUnion(
  'type',
  EVENT_TYPES.map((t) => eventSchemas[t]) as unknown as [SchemaMap[EventType], ...SchemaMap[EventType][]],
);
export type SluiceEvent = { [T in EventType]: z.infer<SchemaMap[T]> }[EventType];
export type EventOf<T extends EventType> = Extract<SluiceEvent, { type: T }>;

export interface EventIssue {
  /** dotted path inside the event, e.g. `properties.amount`; empty for the event itself */
  field: string;
  message: string;
}
export type EventParseResult = { ok: true; event: SluiceEvent } | { ok: false; issues: EventIssue[] };

const pathOf = (path: readonly PropertyKey[]) => path.map(String).join('.');

/**
 * Validates one raw event. Dispatches on `type` first so an unknown type gets
 * one clear message naming the known ones, instead of a union's noise.
 */
export function parseEvent(input: unknown): EventParseResult {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { ok: false, issues: [{ field: '', message: 'an event must be a JSON object' }] };
  }
  const type = (input as { type?: unknown }).type;
  if (typeof type !== 'string') {
    return { ok: false, issues: [{ field: 'type', message: 'required: one of ' + EVENT_TYPES.join(', ') }] };
  }
  if (!Object.hasOwn(eventProperties, type)) {
    return { ok: false, issues: [{ field: 'type', message: `unknown event type "${type.slice(0, 60)}"; known types: ${EVENT_TYPES.join(', ')}` }] };
  }
  const parsed = eventSchemas[type as EventType].safeParse(input);
  if (!parsed.success) {
    return { ok: false, issues: parsed.error.issues.map((issue) => describeIssue(issue, input)) };
  }
  const event = parsed.data as SluiceEvent;
  if (ACTORLESS_TYPES.has(event.type)) return actorlessIssues(event);
  if (event.leadId === undefined) {
    if (LEAD_ONLY_TYPES.has(event.type)) return { ok: false, issues: [{ field: 'leadId', message: `required for ${event.type} events` }] };
    if (event.anonymousId === undefined) return { ok: false, issues: [{ field: 'leadId', message: 'an event needs a leadId, an anonymousId, or both' }] };
  }
  return { ok: true, event };
}

function actorlessIssues(event: SluiceEvent): EventParseResult {
  const issues: EventIssue[] = [];
  const forAccount = OPPORTUNITY_TYPES.has(event.type);
  for (const field of forAccount ? (['leadId', 'anonymousId'] as const) : (['leadId', 'anonymousId', 'accountId'] as const)) {
    const why = forAccount ? `they are about an account's deal (a contact joins it with opportunity_contact_added's properties.leadId)` : 'they are about no person';
    if (event[field] !== undefined) issues.push({ field, message: `not allowed on ${event.type} events: ${why}` });
  }
  if (forAccount) {
    if (event.accountId === undefined) issues.push({ field: 'accountId', message: `required for ${event.type} events` });
  } else if (event.source === undefined) issues.push({ field: 'source', message: `required for ${event.type} events` });
  if (event.type === 'opportunity_won' && (event.properties.amount === undefined) !== (event.properties.currency === undefined)) {
    issues.push({ field: event.properties.amount === undefined ? 'properties.amount' : 'properties.currency', message: 'amount and currency go together: give both or neither' });
  }
  if (event.type === 'spend' && Date.parse(event.properties.periodEnd) <= Date.parse(event.properties.periodStart)) {
    issues.push({ field: 'properties.periodEnd', message: 'must be after periodStart' });
  }
  return issues.length === 0 ? { ok: true, event } : { ok: false, issues };
}

/** zod does not keep the offending input on issues by default; look it up to tell "missing" from "wrong". */
function isMissing(input: unknown, path: readonly PropertyKey[]): boolean {
  let value: unknown = input;
  for (const key of path) {
    if (typeof value !== 'object' || value === null) return true;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value === undefined;
}

function describeIssue(issue: z.core.$ZodIssue, input: unknown): EventIssue {
  if (issue.code === 'unrecognized_keys') {
    const where = pathOf(issue.path);
    const hint = where === 'properties' ? ' (custom data goes under properties.x)' : '';
    return { field: issue.keys.map((k) => (where ? `${where}.${k}` : k)).join(', '), message: `unknown propert${issue.keys.length > 1 ? 'ies' : 'y'}${hint}` };
  }
  if (issue.code === 'invalid_type' && isMissing(input, issue.path)) {
    return { field: pathOf(issue.path), message: 'required' };
  }
  return { field: pathOf(issue.path), message: issue.message };
}
