import type { EventOf, EventType, SluiceEvent } from '@sluice/schemas';

/** Whose stream an event lands in; at least one of leadId / anonymousId. */
export interface Who {
  leadId?: string;
  anonymousId?: string;
  accountId?: string;
}

/** Marketing attribution carried on the envelope. */
export interface Attribution {
  source: string;
  channel: string;
  campaign?: string;
}

export interface PendingEvent {
  /** Epoch milliseconds; formatted into occurredAt when the event is written. */
  at: number;
  event: SluiceEvent;
}

type PropertiesOf<T extends EventType> = EventOf<T>['properties'];

/**
 * The events of one journey, collected while the journey is simulated (its
 * strands, e.g. nurture e-mails and sales calls, are simulated one after the
 * other) and handed out in time order. Ids and occurredAt are filled in by the
 * writer, so a journey's events get consecutive ids in time order.
 */
export class JourneyBuffer {
  private pending: PendingEvent[] = [];

  add<T extends EventType>(at: number, type: T, who: Who, properties: PropertiesOf<T>, attribution?: Attribution): void {
    // key order is the envelope's documented order, so written NDJSON reads naturally
    const event: Record<string, unknown> = { id: '', type, occurredAt: '' };
    if (who.leadId !== undefined) event.leadId = who.leadId;
    if (who.anonymousId !== undefined) event.anonymousId = who.anonymousId;
    if (who.accountId !== undefined) event.accountId = who.accountId;
    if (attribution !== undefined) {
      event.source = attribution.source;
      event.channel = attribution.channel;
      if (attribution.campaign !== undefined) event.campaign = attribution.campaign;
    }
    event.properties = properties;
    this.pending.push({ at: Math.floor(at / 1000) * 1000, event: event as SluiceEvent });
  }

  /** The journey's events in time order (ties keep the order they were added in), emptying the buffer. */
  drain(): PendingEvent[] {
    const out = this.pending;
    this.pending = [];
    // Array.prototype.sort is stable: a conversion stays before the identify in the same second
    return out.sort((a, b) => a.at - b.at);
  }
}
