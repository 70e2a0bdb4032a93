import type { EventStore, RecordedEvent, Subscription } from '@sluice/event-store';
import { flattenProperties, instantMs } from '@sluice/domain';
import type { AnalyticsClient } from './client.js';
import { clickhouseDateTime } from './client.js';

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
  /** Events per read and insert. Default 1000. */
  batchSize?: number;
}

export const DEFAULT_SINK_NAME = 'touchpoints';
const DEFAULT_BATCH_SIZE = 1000;

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
    throw new Error(`event at position ${e.position} (${e.type} ${e.id}) has no occurredAt: the sink stops here rather than skip it`);
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

async function applyAndCheckpoint(client: AnalyticsClient, name: string, events: readonly RecordedEvent[]): Promise<void> {
  if (events.length === 0) return;
  await applyTouchpointBatch(client, events);
  await writeSinkCheckpoint(client, name, events[events.length - 1]!.position);
}

/** One catch-up pass: applies everything after the checkpoint up to the head, batch by batch. */
export async function syncTouchpoints(store: EventStore, client: AnalyticsClient, options: TouchpointSinkOptions = {}): Promise<{ from: number; to: number; events: number }> {
  const name = options.name ?? DEFAULT_SINK_NAME;
  const maxCount = options.batchSize ?? DEFAULT_BATCH_SIZE;
  const from = await readSinkCheckpoint(client, name);
  let after = from;
  let count = 0;
  for (;;) {
    const batch = await store.readAll({ after, maxCount });
    if (batch.length === 0) break;
    await applyAndCheckpoint(client, name, batch);
    after = batch[batch.length - 1]!.position;
    count += batch.length;
  }
  return { from, to: after, events: count };
}

export interface TouchpointSink {
  /** Last position applied and checkpointed. */
  readonly position: number;
  /** Resolves once everything up to the store's head (as of the call) is applied. */
  caughtUp(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The live sink: catches up from its checkpoint, then follows the log. A batch
 * that fails stops the sink at the last applied position (never skipping) and
 * is reported to `onError`; restarting resumes from the checkpoint.
 */
export async function runTouchpointSink(
  store: EventStore,
  client: AnalyticsClient,
  options: TouchpointSinkOptions & { onError?: (err: unknown) => void } = {},
): Promise<TouchpointSink> {
  const name = options.name ?? DEFAULT_SINK_NAME;
  const after = await readSinkCheckpoint(client, name);
  const subscription: Subscription = store.subscribe({
    after,
    batchSize: options.batchSize ?? DEFAULT_BATCH_SIZE,
    onBatch: (events) => applyAndCheckpoint(client, name, events),
    ...(options.onError ? { onError: options.onError } : {}),
  });
  return {
    get position() {
      return subscription.position;
    },
    caughtUp: () => subscription.caughtUp(),
    stop: () => subscription.stop(),
  };
}
