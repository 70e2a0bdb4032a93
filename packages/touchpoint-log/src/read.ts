import type { EventStore, RecordedEvent } from '@sluice/event-store';
import { anonymousStream, leadStream, ownerOfAnonymousHistory } from '@sluice/domain';
import type { SluiceEvent } from '@sluice/schemas';

export interface LoggedTouchpoint {
  position: number;
  streamId: string;
  revision: number;
  recordedAt: string;
  event: SluiceEvent;
}

export interface LeadHistory {
  leadId: string;
  /** anonymous ids whose history belongs to this lead (first link wins) */
  linkedAnonymousIds: string[];
  /** every touchpoint of the lead, its anonymous history included, by occurredAt then position */
  touchpoints: LoggedTouchpoint[];
}

const isTouchpoint = (e: RecordedEvent) => e.type !== 'identity_linked';
const toTouchpoint = (e: RecordedEvent): LoggedTouchpoint => ({
  position: e.position,
  streamId: e.streamId,
  revision: e.revision,
  recordedAt: e.recordedAt,
  event: e.data as SluiceEvent,
});

/**
 * The audit trail of one lead: its own stream plus every anonymous stream it
 * owns. Ownership comes from the anonymous stream itself (its first
 * identity_linked event), so this read needs no index and replays agree.
 */
export async function readLeadHistory(store: EventStore, leadId: string): Promise<LeadHistory> {
  const own = await store.readStream(leadStream(leadId));
  const candidates = new Set<string>();
  for (const e of own) {
    const anonymousId = (e.data as SluiceEvent).anonymousId;
    if (anonymousId !== undefined) candidates.add(anonymousId);
  }
  const linkedAnonymousIds: string[] = [];
  const touchpoints = own.filter(isTouchpoint).map(toTouchpoint);
  for (const anonymousId of [...candidates].sort()) {
    const anonymous = await store.readStream(anonymousStream(anonymousId));
    if (ownerOfAnonymousHistory(anonymous) !== leadId) continue;
    linkedAnonymousIds.push(anonymousId);
    for (const e of anonymous) if (isTouchpoint(e)) touchpoints.push(toTouchpoint(e));
  }
  touchpoints.sort((a, b) => Date.parse(a.event.occurredAt) - Date.parse(b.event.occurredAt) || a.position - b.position);
  return { leadId, linkedAnonymousIds, touchpoints };
}
