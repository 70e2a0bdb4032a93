import { logSource } from '@sluice/event-store';
import type { EventStore, RecordedEvent, RecordedEventText } from '@sluice/event-store';
import { startFollower } from '@sluice/follower';
import type { Follower, FollowerOptions, ParkedItem } from '@sluice/follower';
import { flattenProperties, instantMs } from '@sluice/domain';
import type { AnalyticsClient } from './client.js';
import { clickhouseDateTime } from './client.js';
import { parkInClickHouse } from './parked.js';
import { insertEventsInBulk, stagingTable } from './sink-bulk.js';

/**
 * The touchpoint sink: the event store's global log into ClickHouse.
 *
 * At-least-once, nothing counted twice: a batch is inserted, THEN the sink's
 * checkpoint (kept in ClickHouse, table sink_checkpoints) moves to the batch's
 * last position. A crash in between replays the batch on restart; its rows
 * collapse in the ReplacingMergeTree tables (same event, same sort key) and
 * every query reads them with FINAL or with an aggregate that ignores
 * duplicates, so counts do not change.
 */

export interface TouchpointSinkOptions {
  /** Key of this sink's checkpoint row (a value, not a table name). Default 'touchpoints'. */
  name?: string;
  /** Events per read and insert, at most (a live sink inserts what has arrived). Default 20,000. */
  batchSize?: number;
  /**
   * The bulk path (sink-bulk.ts): on by default into embedded chDB from a
   * store that gives the log's text; `from`, the fewest events in a batch
   * that take it (default 1,000: a live batch of a few events is cheaper the
   * Node way); false turns it off.
   */
  bulk?: false | { from?: number };
}

export const DEFAULT_SINK_NAME = 'touchpoints';
/**
 * Each insert costs chDB a new part per month it touches (a demo batch spans
 * twelve) and the merges after it, whatever its size: the whole catch-up
 * of 200k demo events (pnpm bench replay) took 24 CPU seconds with batches
 * of 1,000, about 12 with 20,000. Live, a batch is what arrived since the
 * last one.
 */
const DEFAULT_BATCH_SIZE = 20_000;
/** The bulk path's batches: larger, since Node no longer holds every row as an object (100,000 demo events are about 30 MB of text). */
const DEFAULT_BULK_BATCH_SIZE = 100_000;
/** Below this many events in a batch, the Node path: the bulk path's fixed cost is half a dozen statements. */
const DEFAULT_BULK_FROM = 1000;

interface EnvelopeData {
  occurredAt?: unknown;
  leadId?: string;
  anonymousId?: string;
  accountId?: string;
  source?: string;
  channel?: string;
  campaign?: string;
  properties?: unknown;
}

function occurredAtOf(e: RecordedEvent): string {
  const d = e.data as EnvelopeData | null;
  if (typeof d !== 'object' || d === null || typeof d.occurredAt !== 'string') {
    throw new Error(`event at position ${e.position} (${e.type} ${e.id}) has no occurredAt`);
  }
  return clickhouseDateTime(instantMs(d.occurredAt));
}

/** The touchpoints row of a recorded event. */
export function touchpointRow(e: RecordedEvent) {
  const d = e.data as EnvelopeData;
  return {
    position: e.position,
    event_id: e.id,
    stream_id: e.streamId,
    type: e.type,
    lead_id: d.leadId ?? '',
    anonymous_id: d.anonymousId ?? '',
    account_id: d.accountId ?? '',
    occurred_at: occurredAtOf(e),
    recorded_at: clickhouseDateTime(Date.parse(e.recordedAt)),
    source: d.source ?? '',
    channel: d.channel ?? '',
    campaign: d.campaign ?? '',
    properties: JSON.stringify(d.properties ?? {}),
    props: flattenProperties(d.properties),
  };
}

function identityLinkRow(e: RecordedEvent) {
  const d = e.data as EnvelopeData;
  if (!d.anonymousId || !d.leadId) throw new Error(`identity_linked at position ${e.position} lacks anonymousId or leadId`);
  return { anonymous_id: d.anonymousId, lead_id: d.leadId, position: e.position, event_id: e.id, occurred_at: occurredAtOf(e) };
}

/**
 * Inserts a batch of the log. Idempotent: delivering the same events again
 * changes no query result. Rows are built before anything is written, so an
 * event the sink cannot read fails the batch without a partial insert.
 */
export async function applyTouchpointBatch(client: AnalyticsClient, events: readonly RecordedEvent[]): Promise<void> {
  const touchpoints = [];
  const links = [];
  for (const e of events) {
    if (e.type === 'identity_linked') links.push(identityLinkRow(e));
    else touchpoints.push(touchpointRow(e));
  }
  await client.insert('touchpoints', touchpoints);
  await client.insert('identity_links', links);
}

/** The last position the sink has durably applied (0 when it never ran). */
export async function readSinkCheckpoint(client: AnalyticsClient, name = DEFAULT_SINK_NAME): Promise<number> {
  // max() rather than FINAL: correct whether or not the rows have merged yet
  const rows = await client.rows<{ position: number | string }>('SELECT max(position) AS position FROM sink_checkpoints WHERE name = {name:String}', { name });
  return Number(rows[0]?.position ?? 0);
}

/** Moves a sink's checkpoint (only after what it covers is durable). */
export async function writeSinkCheckpoint(client: AnalyticsClient, name: string, position: number): Promise<void> {
  await client.insert('sink_checkpoints', [{ name, position }]);
}

/**
 * One catch-up: follows the log from the checkpoint to the head as of the
 * call, then stops (the CLI's one-shot commands). Same follower, same
 * policy as the live sink: a bad event is parked, a transient failure waited out.
 */
export async function syncTouchpoints(store: EventStore, client: AnalyticsClient, options: TouchpointSinkRunOptions = {}): Promise<{ from: number; to: number }> {
  const from = await readSinkCheckpoint(client, options.name ?? DEFAULT_SINK_NAME);
  const sink = await runTouchpointSink(store, client, options);
  try {
    await sink.caughtUp();
  } finally {
    await sink.stop();
  }
  return { from, to: sink.position };
}

/** What parking and its report need of an event, whichever way the sink reads it. */
type EventRef = Pick<RecordedEvent, 'position' | 'id' | 'type' | 'streamId'>;

export type TouchpointSinkRunOptions = TouchpointSinkOptions &
  Pick<FollowerOptions<RecordedEvent>, 'onProgress' | 'onRetry' | 'retry'> & {
    /** each event parked: it could not be written (parked_events keeps it with the reason) */
    onParked?: (parked: ParkedItem<EventRef>) => void;
  };

/**
 * The live sink, a follower of the log (@sluice/follower): catches up from
 * its checkpoint, then follows. An event whose row ClickHouse cannot take is
 * parked (parked_events, with the reason) and the sink goes on; a transient
 * failure (server away, disk full) is retried until it clears.
 *
 * Into embedded chDB from a store that gives the log's text
 * (EventStore.readAllText), a batch of at least `bulk.from` events takes the
 * bulk path (sink-bulk.ts): chDB builds the rows of the plain events, Node
 * those of the rest; the engine's policy is the same (a batch that fails is
 * halved down to the event at fault, which is parked).
 */
export async function runTouchpointSink(store: EventStore, client: AnalyticsClient, options: TouchpointSinkRunOptions = {}): Promise<Follower> {
  const name = options.name ?? DEFAULT_SINK_NAME;
  const { onParked, onProgress, onRetry, retry } = options;
  const readText = client.backend === 'chdb' && options.bulk !== false ? store.readAllText?.bind(store) : undefined;
  const log = logSource(store);
  const follow = <Item extends EventRef>(read: (after: number, max: number) => Promise<readonly Item[]>, apply: (events: readonly Item[]) => Promise<void>, batchSize: number) =>
    startFollower<Item>({
      name,
      batchSize: options.batchSize ?? batchSize,
      ...(onParked ? { onParked } : {}),
      ...(onProgress ? { onProgress } : {}),
      ...(onRetry ? { onRetry } : {}),
      ...(retry ? { retry } : {}),
      source: { head: log.head, read, positionOf: (event) => event.position, ...(log.listen ? { listen: log.listen } : {}) },
      target: {
        // an insert of the same events again changes no answer, so the engine may retry parts of a batch to find a bad one
        unattributed: 'isolate',
        checkpoint: () => readSinkCheckpoint(client, name),
        apply: async (events) => {
          await apply(events);
          const position = events[events.length - 1]!.position;
          await writeSinkCheckpoint(client, name, position);
          return position;
        },
        park: async (event, reason) => {
          await parkInClickHouse(client, { follower: name, position: event.position, itemId: event.id, itemType: event.type, reason });
          await writeSinkCheckpoint(client, name, event.position);
          return event.position;
        },
      },
    });

  if (readText === undefined) return follow(log.read, (events) => applyTouchpointBatch(client, events), DEFAULT_BATCH_SIZE);
  const bulkFrom = options.bulk ? (options.bulk.from ?? DEFAULT_BULK_FROM) : DEFAULT_BULK_FROM;
  const staging = stagingTable(name);
  return follow(
    (after, max) => readText({ after, maxCount: max }),
    async (events) => {
      const parseEach = (picked: readonly RecordedEventText[]) => picked.map((e): RecordedEvent => ({ ...e, data: JSON.parse(e.data) as unknown }));
      if (events.length < bulkFrom) return applyTouchpointBatch(client, parseEach(events));
      const others = new Set(await insertEventsInBulk(client, staging, events));
      if (others.size > 0) await applyTouchpointBatch(client, parseEach(events.filter((e) => others.has(e.position))));
    },
    DEFAULT_BULK_BATCH_SIZE,
  );
}
