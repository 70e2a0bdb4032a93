import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRuleConfig } from '@sluice/config';
import { type EventStore, openSqliteEventStore } from '@sluice/event-store';
import { type EventType, type RuleConfig, type SluiceEvent, parseEvent } from '@sluice/schemas';
import { generateDemoEvents } from '@sluice/testkit';
import { appendTouchpoints } from '@sluice/touchpoint-log';

/**
 * Test support (imported by *.test.ts and test fixtures only): temporary
 * stores, events built through the real schema, the demo's rules.
 */

/** The rules the demo data is made for: its business units and zone. */
export const demoRules = (version = 'demo-rules-1', overrides: Record<string, unknown> = {}): RuleConfig =>
  parseRuleConfig({
    version,
    timeZone: 'Europe/Berlin',
    businessUnits: {
      default: 'smb',
      units: [
        { id: 'smb', name: 'SMB' },
        { id: 'enterprise', name: 'Enterprise' },
        { id: 'partners', name: 'Partners' },
      ],
    },
    ...overrides,
  });

export interface TempDir {
  readonly dir: string;
  path(name: string): string;
  remove(): void;
}

export function tempDir(prefix = 'sluice-projector-'): TempDir {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, path: (name) => join(dir, name), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export const openEventStore = (path: string): Promise<EventStore> => openSqliteEventStore({ path, pollIntervalMs: 20 });

/** Demo events: the first `count` of the seed's journeys (every one passes the schema). */
export function demoEvents(count: number, seed = 3): SluiceEvent[] {
  const out: SluiceEvent[] = [];
  for (const e of generateDemoEvents({ seed, targetEvents: count, start: '2026-01-01', months: 6, timeZone: 'Europe/Berlin' })) out.push(e);
  return out;
}

/** Appends as ingestion does (identity links included), in batches. */
export async function appendAll(store: EventStore, events: readonly SluiceEvent[], batchSize = 2000): Promise<void> {
  for (let i = 0; i < events.length; i += batchSize) await appendTouchpoints(store, events.slice(i, i + batchSize));
}

/** An event factory; ids are `<prefix>-1`, `<prefix>-2`, ... */
export function eventsFor(subject: { leadId?: string; anonymousId?: string }, prefix: string) {
  let seq = 0;
  return (type: EventType, occurredAt: string, properties: Record<string, unknown> = {}, envelope: Record<string, unknown> = {}): SluiceEvent => {
    seq += 1;
    const parsed = parseEvent({ id: `${prefix}-${seq}`, type, occurredAt, ...subject, ...envelope, properties });
    if (!parsed.ok) throw new Error(`test event ${type} is invalid: ${JSON.stringify(parsed.issues)}`);
    return parsed.event;
  };
}

const BASE = Date.parse('2026-03-02T09:00:00Z');
/** An instant `days` (and `minutes`) after Monday 2026-03-02 09:00 UTC, as ISO text. */
export const isoAt = (days: number, minutes = 0) => new Date(BASE + days * 86_400_000 + minutes * 60_000).toISOString();
