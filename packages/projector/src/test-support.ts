import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseRuleConfig } from '@sluice/config';
import { type EventStore, openSqliteEventStore } from '@sluice/event-store';
import { type EventType, type RuleConfig, type SluiceEvent, parseEvent } from '@sluice/schemas';
import { generateDemoEvents } from '@sluice/demo';
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

/** A visitor who browses for two days, converts on a form (both ids), then requests a demo and keeps browsing anonymously. */
export function stitchedJourney(): SluiceEvent[] {
  const anon = eventsFor({ anonymousId: 'v1' }, 'v1');
  const lead = eventsFor({ leadId: 'L1' }, 'L1');
  return [
    anon('ad_click', isoAt(0), {}, { source: 'google', channel: 'paid_search' }),
    anon('visit', isoAt(0, 1)),
    anon('visit', isoAt(1)),
    eventsFor({ leadId: 'L1', anonymousId: 'v1' }, 'form')('form_submit', isoAt(2), { formId: 'contact' }),
    lead('identify', isoAt(2, 1), { name: 'Ann', businessUnit: 'enterprise', role: 'economic_buyer', country: 'DE' }),
    anon('page_view', isoAt(3), { url: 'https://x.example/pricing', pageType: 'pricing' }),
    lead('demo_requested', isoAt(4)),
  ];
}

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** Why child-process fixtures cannot run here (undefined when they can): tsx is a root devDependency they load with `--import tsx`. */
export const childSkipReason = existsSync(join(repoRoot, 'node_modules', 'tsx')) ? undefined : `tsx is not installed under ${repoRoot}node_modules`;

/**
 * Runs a TypeScript fixture in a child process (cwd: the repo root, so
 * `--import tsx` resolves); SIGKILLs it once `killAfter.count` lines of its
 * stdout start with `killAfter.prefix` (never, without it). Resolves with its
 * stdout lines; rejects when it exits otherwise than by that kill or with 0.
 */
export function runFixture(script: string, args: readonly string[], killAfter?: { prefix: string; count: number }): Promise<{ lines: string[]; killed: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let killed = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (killed || killAfter === undefined) return;
      if (stdout.split('\n').filter((l) => l.startsWith(killAfter.prefix)).length >= killAfter.count) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (signal === 'SIGKILL' || code === 0) resolve({ lines: stdout.split('\n').filter(Boolean), killed: signal === 'SIGKILL' });
      else reject(new Error(`${script} exited with ${code ?? signal}:\n${stderr}`));
    });
  });
}
