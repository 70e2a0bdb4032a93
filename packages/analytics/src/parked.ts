import type { ParkedRecord } from '@sluice/follower';
import type { AnalyticsClient } from './client.js';

/** Keeps what a ClickHouse follower could not apply (table parked_events), with why. */
export async function parkInClickHouse(client: AnalyticsClient, row: Omit<ParkedRecord, 'parkedAt'>): Promise<void> {
  await client.insert('parked_events', [{ follower: row.follower, position: row.position, item_id: row.itemId, item_type: row.itemType, reason: row.reason }]);
}

/** What the ClickHouse followers parked, oldest position first; one follower's when named. */
export async function parkedInClickHouse(client: AnalyticsClient, follower?: string): Promise<ParkedRecord[]> {
  const rows = await client.rows<{ follower: string; position: number | string; item_id: string; item_type: string; reason: string; parked_at: string }>(
    `SELECT follower, position, item_id, item_type, reason, parked_at FROM parked_events FINAL
     WHERE {follower:String} = '' OR follower = {follower:String} ORDER BY follower, position, item_id`,
    { follower: follower ?? '' },
  );
  return rows.map((r) => ({ follower: r.follower, position: Number(r.position), itemId: r.item_id, itemType: r.item_type, reason: r.reason, parkedAt: r.parked_at }));
}
