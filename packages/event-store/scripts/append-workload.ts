/**
 * The workload the append measurements share: touchpoint-sized events (~300
 * bytes of JSON each) over a pool of leads, grouped into one request per lead
 * the way the ingest path groups a batch. Seeded, ids aside.
 */
import { randomUUID } from 'node:crypto';
import type { AppendRequest, NewEvent } from '../src/port.js';

interface Touchpoint {
  leadId: string;
  event: NewEvent;
}

export function makeRequestBatches(batches: number, batchSize: number, leadPool = 20_000): AppendRequest[][] {
  let seed = 42;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
  return Array.from({ length: batches }, () =>
    toRequests(
      Array.from({ length: batchSize }, () => {
        const leadId = `lead-${next() % leadPool}`;
        // Producers send random UUIDs: the worst case for the unique id index.
        const id = randomUUID();
        return {
          leadId,
          event: {
            id,
            type: 'visit',
            data: {
              id,
              type: 'visit',
              occurredAt: '2026-03-01T10:00:00+08:00',
              leadId,
              source: 'google',
              channel: 'paid_search',
              campaign: 'spring-launch-2026',
              properties: { url: '/pricing?plan=team', referrer: 'https://www.google.com/', landingPage: '/pricing' },
            },
          },
        };
      }),
    ),
  );
}

/** One request per lead, input order kept within a lead. */
function toRequests(batch: readonly Touchpoint[]): AppendRequest[] {
  const byLead = new Map<string, NewEvent[]>();
  for (const { leadId, event } of batch) {
    const events = byLead.get(leadId);
    if (events) events.push(event);
    else byLead.set(leadId, [event]);
  }
  return [...byLead].map(([streamId, events]) => ({ streamId, events }));
}

export function median(xs: readonly number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
}

export function formatRate(eventsPerSecond: number): string {
  return `${Math.round(eventsPerSecond).toLocaleString('en-US')} events/s`;
}
