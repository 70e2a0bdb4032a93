import type { EventType, IdentityLinked, SluiceEvent } from '@sluice/schemas';
import { OPPORTUNITY_TYPES, identityLinkIdFor } from '@sluice/schemas';

/**
 * How the log is keyed (see README "Identity"):
 * - an event carrying a leadId goes to the lead's stream `lead-<leadId>`;
 * - an event carrying only an anonymousId goes to `anon-<anonymousId>`;
 * - an event carrying both also yields an `identity_linked` event for the
 *   anonymous stream, appended atomically with it;
 * - spend goes to `spend-<source>`, an opportunity's events to `opp-<opportunityId>`.
 * The key depends on the event alone (no lookup), so Kafka partitioning,
 * retries and replays all agree on it.
 */
export const leadStream = (leadId: string) => `lead-${leadId}`;
export const anonymousStream = (anonymousId: string) => `anon-${anonymousId}`;

const SPEND_STREAM_PREFIX = 'spend-';
export const spendStream = (source: string) => `${SPEND_STREAM_PREFIX}${source}`;
const OPPORTUNITY_STREAM_PREFIX = 'opp-';
/** One stream per opportunity: its events stay in order together, apart from its account's other deals. */
export const opportunityStream = (opportunityId: string) => `${OPPORTUNITY_STREAM_PREFIX}${opportunityId}`;
/**
 * Streams that belong to no lead or visitor (spend, opportunities): the
 * projector passes over them; the lead read models are about people, and an
 * opportunity's events reach no contact's state (the revenue fold and
 * ClickHouse read them instead).
 */
export const isActorlessStream = (streamId: string) => streamId.startsWith(SPEND_STREAM_PREFIX) || streamId.startsWith(OPPORTUNITY_STREAM_PREFIX);

export function streamFor(event: Pick<SluiceEvent, 'leadId' | 'anonymousId'> & { type?: string; source?: string | undefined; properties?: unknown }): string {
  if (event.type !== undefined && OPPORTUNITY_TYPES.has(event.type as EventType)) {
    const id = (event.properties as { opportunityId?: unknown } | undefined)?.opportunityId;
    if (typeof id !== 'string') throw new Error(`${event.type} event without properties.opportunityId (the schema rejects this)`);
    return opportunityStream(id);
  }
  if (event.type === 'spend') {
    if (event.source === undefined) throw new Error('spend event without a source (the schema rejects this)');
    return spendStream(event.source);
  }
  if (event.leadId !== undefined) return leadStream(event.leadId);
  if (event.anonymousId !== undefined) return anonymousStream(event.anonymousId);
  throw new Error('event has neither leadId nor anonymousId (the schema rejects this)');
}

/** The link an event establishes, if it carries both ids. */
export function identityLinkFor(event: SluiceEvent): IdentityLinked | undefined {
  if (event.leadId === undefined || event.anonymousId === undefined) return undefined;
  return {
    id: identityLinkIdFor(event.id),
    type: 'identity_linked',
    occurredAt: event.occurredAt,
    anonymousId: event.anonymousId,
    leadId: event.leadId,
    properties: { causationId: event.id },
  };
}

/**
 * Which lead owns an anonymous stream: the first `identity_linked` in it.
 * Later links to other leads stay in the log as facts but move nothing.
 */
export function ownerOfAnonymousHistory(anonymousEvents: readonly { type: string; data: unknown }[]): string | undefined {
  for (const e of anonymousEvents) {
    if (e.type === 'identity_linked') return (e.data as IdentityLinked).leadId;
  }
  return undefined;
}
