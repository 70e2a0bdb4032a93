import { spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import type { SluiceEvent } from '@sluice/schemas';
import { generateDemoEvents } from '@sluice/demo';
import { planAppend } from '@sluice/touchpoint-log';
import { percentile, printFigures } from './report.js';

const here = dirname(fileURLToPath(import.meta.url));
const tsx = join(here, '..', '..', 'node_modules', '.bin', 'tsx');

export function demoEvents(count: number, seed: number): SluiceEvent[] {
  const events: SluiceEvent[] = [];
  for (const e of generateDemoEvents({ seed, targetEvents: count, start: '2026-01-01', months: 6, timeZone: 'Europe/Berlin' })) {
    events.push(e);
    if (events.length === count) break;
  }
  return events;
}

async function startServer(dir: string) {
  const child = spawn(tsx, [join(here, 'ingest-server.ts'), dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
    child.once('exit', (code) => reject(new Error(`bench server exited with ${code}`)));
  });
  return { port, stop: () => new Promise<void>((resolve) => (child.once('exit', () => resolve()), child.kill('SIGTERM'))) };
}

/** The same rows our store writes, inserted with better-sqlite3 directly: the ceiling. */
function rawInsert(dir: string, events: readonly SluiceEvent[], batchSize: number): number {
  const db = new Database(join(dir, 'raw.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(`CREATE TABLE events (position INTEGER PRIMARY KEY, stream_id TEXT NOT NULL, revision INTEGER NOT NULL, event_id TEXT NOT NULL UNIQUE,
           type TEXT NOT NULL, data TEXT NOT NULL, metadata TEXT, recorded_at TEXT NOT NULL, UNIQUE (stream_id, revision))`);
  const insert = db.prepare('INSERT INTO events (stream_id, revision, event_id, type, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, NULL, ?)');
  const revisions = new Map<string, number>();
  const started = performance.now();
  for (let i = 0; i < events.length; i += batchSize) {
    const { requests } = planAppend(events.slice(i, i + batchSize));
    const now = new Date().toISOString();
    db.transaction(() => {
      for (const r of requests) {
        let rev = revisions.get(r.streamId) ?? -1;
        for (const e of r.events) insert.run(r.streamId, ++rev, e.id, e.type, JSON.stringify(e.data), now);
        revisions.set(r.streamId, rev);
      }
    })();
  }
  const seconds = (performance.now() - started) / 1000;
  db.close();
  return events.length / seconds;
}

// node:http with keep-alive: Node's fetch costs more CPU per request than the
// server does, and client and server share this machine's two cores.
const agent = new Agent({ keepAlive: true, maxSockets: 64 });

export function post(port: number, body: string, path = '/v1/events'): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      let answer = '';
      res.on('data', (chunk: Buffer) => (answer += chunk.toString()));
      // a Segment batch answers 200 with the items it turned away: count those as a failed request
      res.on('end', () => resolve(path.startsWith('/segment/') && !answer.includes('"rejected":[]') ? -1 : (res.statusCode ?? 0)));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Posts the events in batches from `concurrency` clients; resolves with events/s once the last one is answered `status`. */
export async function httpBatches(port: number, events: readonly SluiceEvent[], batchSize: number, concurrency: number, status = 200, door: 'events' | 'segment' = 'events'): Promise<number> {
  const bodies: string[] = [];
  for (let i = 0; i < events.length; i += batchSize) {
    const batch = events.slice(i, i + batchSize);
    bodies.push(JSON.stringify(door === 'events' ? batch : { batch: batch.map(asSegmentTrack) }));
  }
  const path = door === 'events' ? '/v1/events' : '/segment/v1/batch';
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < bodies.length) {
        const answer = await post(port, bodies[next++]!, path);
        if (answer !== status) throw new Error(`${path} answered ${answer}`);
      }
    }),
  );
  return events.length / ((performance.now() - started) / 1000);
}

/** A Sluice event as a Segment track call of the same name, as a CDP would send it. */
function asSegmentTrack(e: SluiceEvent) {
  return {
    type: 'track',
    messageId: e.id,
    event: e.type,
    userId: e.leadId,
    anonymousId: e.anonymousId,
    timestamp: e.occurredAt,
    properties: e.properties,
    context: { groupId: e.accountId, ...(e.source === undefined ? {} : { campaign: { source: e.source, medium: e.channel, name: e.campaign } }) },
  };
}

async function httpSingles(port: number, events: readonly SluiceEvent[], concurrency: number) {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < events.length) {
        const body = JSON.stringify(events[next++]);
        const t0 = performance.now();
        const status = await post(port, body);
        if (status !== 200) throw new Error(`ingest answered ${status}`);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  return { perSecond: events.length / ((performance.now() - started) / 1000), p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99) };
}

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { events: { type: 'string', default: '300000' }, batch: { type: 'string', default: '1000' }, singles: { type: 'string', default: '5000' }, concurrency: { type: 'string', default: '4' } },
  });
  const count = Number(values.events);
  const batchSize = Number(values.batch);
  const concurrency = Number(values.concurrency);
  console.log(`generating ${count.toLocaleString('en-US')} demo events ...`);
  const events = demoEvents(count, 7);
  const singles = demoEvents(Number(values.singles), 8);
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-'));
  try {
    const raw = rawInsert(dir, events, batchSize);
    const server = await startServer(dir);
    const http = await httpBatches(server.port, events, batchSize, concurrency);
    const single = await httpSingles(server.port, singles, 16);
    await server.stop();
    // the Segment door beside POST /v1/events, each on a fresh server, with the same person events (Segment calls need a userId or anonymousId)
    const personEvents = events.filter((e) => e.leadId !== undefined || e.anonymousId !== undefined);
    const byDoor: Record<'events' | 'segment', number> = { events: 0, segment: 0 };
    for (const door of ['events', 'segment'] as const) {
      const doorDir = mkdtempSync(join(dir, `${door}-`));
      const doorServer = await startServer(doorDir);
      byDoor[door] = await httpBatches(doorServer.port, personEvents, batchSize, concurrency, 200, door);
      await doorServer.stop();
    }
    printFigures(`ingest: ${count.toLocaleString('en-US')} events, batches of ${batchSize}, ${concurrency} concurrent requests, SQLite WAL synchronous=FULL`, [
      { name: 'HTTP batch ingest (events/s)', value: http, baseline: raw, baselineName: 'raw better-sqlite3 insert' },
      { name: `Segment batch ingest, ${personEvents.length.toLocaleString('en-US')} person events (events/s)`, value: byDoor.segment, baseline: byDoor.events, baselineName: 'POST /v1/events, same events' },
      { name: 'single-event requests/s (16 concurrent)', value: single.perSecond },
      { name: 'single-event latency p50 (ms)', value: single.p50 },
      { name: 'single-event latency p99 (ms)', value: single.p99 },
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
