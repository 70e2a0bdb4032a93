import type { RecordedEvent } from '@sluice/event-store';
import { anonymousStream, streamFor } from '@sluice/domain';

/** Test-only: a compact way to write a log as the event store would record it. */
export interface LogLine {
  type: string;
  /** ISO 8601 with offset, or epoch ms */
  at: string | number;
  lead?: string;
  anon?: string;
  source?: string;
  channel?: string;
  campaign?: string;
  accountId?: string;
  properties?: Record<string, unknown>;
}

/**
 * Recorded events for the lines, positions from `firstPosition` on. A line
 * with both a lead and an anonymous id is followed by its identity_linked
 * event, as ingestion appends it.
 */
export function recordedLog(lines: readonly LogLine[], firstPosition = 1, idPrefix = 'e'): RecordedEvent[] {
  const out: RecordedEvent[] = [];
  let position = firstPosition;
  for (const line of lines) {
    const occurredAt = typeof line.at === 'number' ? new Date(line.at).toISOString() : line.at;
    const id = `${idPrefix}${position}`;
    const data = {
      id,
      type: line.type,
      occurredAt,
      ...(line.lead === undefined ? {} : { leadId: line.lead }),
      ...(line.anon === undefined ? {} : { anonymousId: line.anon }),
      ...(line.accountId === undefined ? {} : { accountId: line.accountId }),
      ...(line.source === undefined ? {} : { source: line.source }),
      ...(line.channel === undefined ? {} : { channel: line.channel }),
      ...(line.campaign === undefined ? {} : { campaign: line.campaign }),
      properties: line.properties ?? {},
    };
    out.push(recorded(position++, streamFor({ leadId: line.lead, anonymousId: line.anon, type: line.type, source: line.source, properties: line.properties }), id, line.type, data));
    if (line.lead !== undefined && line.anon !== undefined) {
      const linkId = `${id}~link`;
      out.push(recorded(position++, anonymousStream(line.anon), linkId, 'identity_linked', { id: linkId, type: 'identity_linked', occurredAt, anonymousId: line.anon, leadId: line.lead, properties: { causationId: id } }));
    }
  }
  return out;
}

function recorded(position: number, streamId: string, id: string, type: string, data: unknown): RecordedEvent {
  return { position, streamId, revision: 0, id, type, data, recordedAt: '2026-06-01T00:00:00.000Z' };
}
