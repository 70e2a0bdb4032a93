import type { RecordedEvent } from '@sluice/event-store';

/** An events row as pg returns it: bigint as text, json parsed, timestamptz as a Date. */
export interface EventRow {
  position: string;
  stream_id: string;
  revision: string;
  event_id: string;
  type: string;
  data: unknown;
  metadata: Record<string, unknown> | null;
  recorded_at: Date;
}

export const EVENT_COLUMNS = 'position, stream_id, revision, event_id, type, data, metadata, recorded_at';

/** bigint columns arrive as text; the port promises exact JS numbers, so refuse anything beyond 2^53. */
export function toSafeNumber(value: string): number {
  const number = Number(value);
  if (!Number.isSafeInteger(number)) throw new RangeError(`event store value ${value} is not a safe JS integer`);
  return number;
}

export function toRecordedEvent(row: EventRow): RecordedEvent {
  const event: RecordedEvent = {
    position: toSafeNumber(row.position),
    streamId: row.stream_id,
    revision: toSafeNumber(row.revision),
    id: row.event_id,
    type: row.type,
    data: row.data,
    recordedAt: row.recorded_at.toISOString(),
  };
  if (row.metadata !== null) event.metadata = row.metadata;
  return event;
}
