import type { IdentityLinked, SluiceEvent } from '@sluice/schemas';
import { identityLinkIdFor } from '@sluice/schemas';

/**
 * How the log is keyed (see README "Identity"):
 * - an event carrying a leadId goes to the lead's stream `lead-<leadId>`;
 * - an event carrying only an anonymousId goes to `anon-<anonymousId>`;
 * - an event carrying both also yields an `identity_linked` event for the
 *   anonymous stream, appended atomically with it.
 * The key depends on the event alone (no lookup), so Kafka partitioning,
 * retries and replays all agree on it.
 */
export const leadStream = (leadId: string) => `lead-${leadId}`;
export const anonymousStream = (anonymousId: string) => `anon-${anonymousId}`;

const SPEND_STREAM_PREFIX = 'spend-';
export const spendStream = (source: string) => `${SPEND_STREAM_PREFIX}${source}`;
/** Streams that belong to no lead or visitor: the projector passes over them. */
export const isActorlessStream = (streamId: string) => streamId.startsWith(SPEND_STREAM_PREFIX);

export function streamFor(event: Pick<SluiceEvent, 'leadId' | 'anonymousId'> & { type?: string; source?: string | undefined }): string {
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
