import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type EventStore, openSqliteEventStore } from '@sluice/event-store';
import { RuleConfigSchema, type SluiceEvent } from '@sluice/schemas';
import { generateDemoEvents } from '@sluice/demo';
import { appendTouchpoints } from '@sluice/touchpoint-log';
// the root package does not list @sluice/projector (yet), so the bench reaches it by path
import { contentHash, openProjectionStore, rebuild } from '@sluice/projector';
import { printFigures } from './report.js';

/** The demo's business units and zone, so cohorts and units are the realistic ones. */
const config = RuleConfigSchema.parse({
  version: 'bench-replay-1',
  timeZone: 'Europe/Berlin',
  businessUnits: {
    default: 'smb',
    units: [
      { id: 'smb', name: 'SMB' },
      { id: 'enterprise', name: 'Enterprise' },
      { id: 'partners', name: 'Partners' },
    ],
  },
});

async function fillLog(store: EventStore, count: number): Promise<void> {
  let batch: SluiceEvent[] = [];
  for (const e of generateDemoEvents({ seed: 11, targetEvents: count, start: '2026-01-01', months: 12, timeZone: 'Europe/Berlin' })) {
    batch.push(e);
    if (batch.length === 5000) {
      await appendTouchpoints(store, batch);
      batch = [];
    }
  }
  await appendTouchpoints(store, batch);
}

const cpuSeconds = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
};

interface Timing {
  events: number;
  seconds: number;
  /** this process's CPU time (all threads, GC helpers included): less disturbed than wall time by other load */
  cpuSeconds: number;
}

async function timed(work: () => Promise<number>): Promise<Timing> {
  const started = performance.now();
  const cpu = cpuSeconds();
  const events = await work();
  return { events, seconds: (performance.now() - started) / 1000, cpuSeconds: cpuSeconds() - cpu };
}

/** What the projector's replay reads, without projecting: the port's readAll in the same batches. */
async function rawRead(store: EventStore, batchSize: number): Promise<number> {
  let after = 0;
  let events = 0;
  for (;;) {
    const batch = await store.readAll({ after, maxCount: batchSize });
    if (batch.length === 0) break;
    events += batch.length;
    after = batch.at(-1)!.position;
  }
  return events;
}

/** The store with readAll timed, to tell reading from projecting inside a rebuild. */
function timedReads(store: EventStore): { store: EventStore; readSeconds: () => number } {
  let ms = 0;
  const timed: EventStore = {
    capabilities: store.capabilities,
    append: (request) => store.append(request),
    appendMany: (requests) => store.appendMany(requests),
    readStream: (streamId, options) => store.readStream(streamId, options),
    readAll: async (options) => {
      const t0 = performance.now();
      try {
        return await store.readAll(options);
      } finally {
        ms += performance.now() - t0;
      }
    },
    headPosition: () => store.headPosition(),
    subscribe: (options) => store.subscribe(options),
    close: () => store.close(),
  };
  return { store: timed, readSeconds: () => ms / 1000 };
}

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { events: { type: 'string', default: '1000000' }, batch: { type: 'string', default: '1000' }, cache: { type: 'string', default: '100000' } } });
  const count = Number(values.events);
  const batchSize = Number(values.batch);
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-replay-'));
  try {
    const store = await openSqliteEventStore({ path: join(dir, 'events.sqlite') });
    console.log(`writing ${count.toLocaleString('en-US')} demo events (plus identity links) to the event store ...`);
    await fillLog(store, count);
    await rawRead(store, batchSize); // warm the page cache and the JIT alike for both measurements
    // raw reads before and after the rebuild, averaged: load that drifts during the run weighs on both sides
    const before = await timed(() => rawRead(store, batchSize));

    const projections = openProjectionStore(join(dir, 'projections.sqlite'));
    const reads = timedReads(store);
    const replay = await timed(async () => (await rebuild({ store: reads.store, projections, config, batchSize, cacheSize: Number(values.cache) })).events);
    const after = await timed(() => rawRead(store, batchSize));
    const hashStarted = performance.now();
    const hash = contentHash(projections);
    const hashSeconds = (performance.now() - hashStarted) / 1000;
    const subjects = projections.db.prepare('SELECT kind, COUNT(*) AS n FROM leads GROUP BY kind ORDER BY kind').all() as { kind: string; n: number }[];
    projections.close();
    await store.close();

    const rate = (t: Timing) => t.events / t.seconds;
    const cpuRate = (t: Timing) => t.events / t.cpuSeconds;
    printFigures(`replay: full rebuild of ${replay.events.toLocaleString('en-US')} log events (${subjects.map((x) => `${x.n.toLocaleString('en-US')} ${x.kind}`).join(', ')} subjects), read batches of ${batchSize}`, [
      { name: 'rebuild (events/s)', value: rate(replay), baseline: (rate(before) + rate(after)) / 2, baselineName: 'raw readAll of the same log' },
      { name: 'rebuild (events per CPU second)', value: cpuRate(replay), baseline: (cpuRate(before) + cpuRate(after)) / 2, baselineName: 'raw readAll' },
      { name: 'rebuild (s)', value: replay.seconds },
      { name: '  of which reading the log (s)', value: reads.readSeconds() },
      { name: '  of which projecting and writing (s)', value: replay.seconds - reads.readSeconds() },
      { name: 'raw readAll before / after the rebuild (events/s)', value: rate(before), baseline: rate(after), baselineName: 'after' },
      { name: 'content hash of the read models (s)', value: hashSeconds },
    ]);
    console.log(`content hash ${hash}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
