import type { SluiceEvent } from '@sluice/schemas';
import { OPPORTUNITY_TYPES } from '@sluice/schemas';
import type { AnalyticsClient } from './client.js';

/**
 * The opportunity events the touchpoint sink has written to ClickHouse that
 * occurred before `beforeMs`, as the events they were: the input of the
 * revenue fold (@sluice/revenue), which computes the pipeline and the
 * waterfall from them. Read without FINAL: a row delivered twice is the same
 * event id, which the fold counts once. The instant comes back in UTC (the
 * offset the producer wrote is not kept; the instant is).
 */
export async function readOpportunityEvents(client: AnalyticsClient, beforeMs: number): Promise<SluiceEvent[]> {
  const rows = await client.rows<{ event_id: string; type: string; at_ms: number | string; account_id: string; properties: string }>(
    `SELECT event_id, type, toUnixTimestamp64Milli(occurred_at) AS at_ms, account_id, properties
     FROM touchpoints
     WHERE type IN {types:Array(String)} AND occurred_at < fromUnixTimestamp64Milli({before_ms:Int64}, 'UTC')`,
    { types: [...OPPORTUNITY_TYPES], before_ms: beforeMs },
  );
  return rows.map(
    (r) =>
      ({
        id: r.event_id,
        type: r.type,
        occurredAt: new Date(Number(r.at_ms)).toISOString(),
        accountId: r.account_id,
        properties: JSON.parse(r.properties) as unknown,
      }) as SluiceEvent,
  );
}
