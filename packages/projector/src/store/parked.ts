import type Database from 'better-sqlite3';
import type { RecordedEvent } from '@sluice/event-store';
import type { ParkedRecord } from '@sluice/follower';
import type { ProjectionStore } from './projection-store.js';

/**
 * Keeps an event the projection passes, in its own transaction (a park is
 * durable before the checkpoint moves past it). Idempotent on the position:
 * the same event failing again after a restart keeps its first reason and time.
 */
export function recordParked(db: Database.Database, follower: string, event: RecordedEvent, reason: string): void {
  db.prepare('INSERT INTO parked_events (follower, position, event_id, type, reason, parked_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING').run(
    follower,
    event.position,
    event.id,
    event.type,
    reason,
    new Date().toISOString(),
  );
}

/** The positions the read models pass over: every fold of a subject from the log leaves them out too, as the projection did. */
export function parkedPositions(db: Database.Database): Set<number> {
  return new Set(db.prepare<[], number>('SELECT position FROM parked_events').pluck().all());
}

/** What the projector parked in these read models (since their last rebuild), oldest position first; one follower's when named. */
export function parkedInProjections(projections: ProjectionStore, follower?: string): ParkedRecord[] {
  const rows = projections.db
    .prepare<{ follower: string }, ParkedRow>(
      `SELECT follower, position, event_id, type, reason, parked_at FROM parked_events WHERE @follower = '' OR follower = @follower ORDER BY follower, position`,
    )
    .all({ follower: follower ?? '' });
  return rows.map(parkedRecordOf);
}

/** A `parked_events` row as any adapter reads it. */
export interface ParkedRow {
  follower: string;
  position: number;
  event_id: string;
  type: string;
  reason: string;
  parked_at: string;
}

export const parkedRecordOf = (r: ParkedRow): ParkedRecord => ({ follower: r.follower, position: r.position, itemId: r.event_id, itemType: r.type, reason: r.reason, parkedAt: r.parked_at });
