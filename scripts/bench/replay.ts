import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Session } from 'chdb';
import { ANALYTICS_TABLES, type AnalyticsClient, createAnalyticsClient, migrate, parkedInClickHouse, runStageTableSink, runTouchpointSink, touchpointRow } from '@sluice/analytics';
import { type EventStore, type RecordedEvent, openSqliteEventStore } from '@sluice/event-store';
import { type Follower, reportToConsole } from '@sluice/follower';
import { demoConfig, generateDemoEvents } from '@sluice/demo';
import { openProjectionStore, parkedInProjections, stageStateSource, startProjector } from '@sluice/projector';
import { type RuleConfig, type SluiceEvent, SluiceConfigSchema } from '@sluice/schemas';
import { appendTouchpoints } from '@sluice/touchpoint-log';
import { percentile, printFigures } from './report.js';

/**
 * `pnpm bench replay`: the catch-up a user waits for after `serve` starts on
 * a fresh data directory over an existing log: the projector (log -> read
 * models), the touchpoint sink (log -> ClickHouse) and the stage-table sink
 * (read models -> ClickHouse) started together on empty targets, until all
 * three are caught up. Beside it, in the same run and the same chDB, the raw
 * work: the log read in batches and its touchpoint rows inserted with chDB's
 * own insert, no follower in between; and the raw read alone.
 */

const TIME_ZONE = 'Europe/Berlin';
const DEMO = { seed: 11, start: '2025-01-01', months: 12, end: '2026-01-01T00:00:00+01:00', timeZone: TIME_ZONE } as const;
/** the aim in issue 15 */
const AIM = { eventsPerSecond: 150_000, ratio: 0.5 };

async function fillLog(store: EventStore, count: number): Promise<void> {
  let batch: SluiceEvent[] = [];
  for (const e of generateDemoEvents({ ...DEMO, targetEvents: count })) {
    batch.push(e);
    if (batch.length === 5000) {
      await appendTouchpoints(store, batch);
      batch = [];
    }
  }
  await appendTouchpoints(store, batch);
}

interface Timing {
  seconds: number;
  /** this process's CPU time (all threads: chDB's, SQLite's, GC helpers): less disturbed than wall time by other load */
  cpuSeconds: number;
}

async function timed<T>(work: () => Promise<T>): Promise<Timing & { result: T }> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const result = await work();
  const used = process.cpuUsage(cpu);
  return { result, seconds: (performance.now() - started) / 1000, cpuSeconds: (used.user + used.system) / 1e6 };
}

interface Bench {
  dir: string;
  store: EventStore;
  client: AnalyticsClient;
  /** a second chDB session on the same data: the engine with no client in between */
  raw: Session;
  config: RuleConfig;
  head: number;
  /** events per read and insert on the raw side */
  batch: number;
}

/** What each follower starts on in a fresh data directory: nothing. */
async function emptyTargets(client: AnalyticsClient): Promise<void> {
  for (const table of ANALYTICS_TABLES) if (table !== 'schema_migrations') await client.command(`TRUNCATE TABLE ${table}`);
}

/** What the raw side reads, without following: the port's readAll in batches. */
async function rawRead(store: EventStore, batch: number, each?: (events: readonly RecordedEvent[]) => Promise<void>): Promise<number> {
  let after = 0;
  let events = 0;
  for (;;) {
    const page = await store.readAll({ after, maxCount: batch });
    if (page.length === 0) return events;
    await each?.(page);
    events += page.length;
    after = page.at(-1)!.position;
  }
}

/** The log's touchpoint rows (touchpointRow, as the sink builds them) inserted into chDB directly, one JSONEachRow insert per read. */
async function rawInsert(b: Bench): Promise<number> {
  let rows = 0;
  await rawRead(b.store, b.batch, async (events) => {
    const lines = events.filter((e) => e.type !== 'identity_linked').map((e) => JSON.stringify(touchpointRow(e)));
    rows += lines.length;
    await b.raw.insert({ table: 'touchpoints', values: Buffer.from(lines.join('\n')), format: 'JSONEachRow' });
  });
  return rows;
}

interface CatchUp extends Timing {
  /** seconds from the start until each follower was caught up */
  projector: number;
  touchpoints: number;
  stageTables: number;
  rows: { touchpoints: number; stageTransitions: number; leadProfiles: number; parked: number };
}

const count = async (client: AnalyticsClient, sql: string) => Number((await client.rows<{ n: number | string }>(sql))[0]?.n ?? 0);

/** What `serve` does on a fresh data directory: the three followers started together, timed until the last is caught up. */
async function catchUp(b: Bench, rep: number, only?: 'projector' | 'touchpoints'): Promise<CatchUp> {
  await emptyTargets(b.client);
  const dir = join(b.dir, `read-models-${rep}`);
  mkdirSync(dir);
  const projections = openProjectionStore(join(dir, 'projections.sqlite'));
  const followers: Follower[] = [];
  try {
    const shares = { projector: 0, touchpoints: 0, stageTables: 0 };
    const run = await timed(async () => {
      const started = performance.now();
      const done = (share: keyof typeof shares) => () => void (shares[share] = (performance.now() - started) / 1000);
      const waits: Promise<void>[] = [];
      if (only !== 'touchpoints') {
        const projector = startProjector({ store: b.store, projections, config: b.config, ...reportToConsole('the projector') });
        followers.push(projector);
        const projected = projector.caughtUp(b.head).then(done('projector'));
        waits.push(projected);
        if (only === undefined) {
          const stages = runStageTableSink(stageStateSource(projections), b.client, reportToConsole('the stage-table sink'));
          followers.push(stages);
          // the stage sink is caught up once it holds what the projector had when the projector was
          waits.push(projected.then(() => stages.caughtUp()).then(done('stageTables')));
        }
      }
      if (only !== 'projector') {
        const touchpoints = await runTouchpointSink(b.store, b.client, reportToConsole('the touchpoint sink'));
        followers.push(touchpoints);
        waits.push(touchpoints.caughtUp(b.head).then(done('touchpoints')));
      }
      await Promise.all(waits);
    });
    // counted at the head, before stopping: what a query would see now
    const rows = {
      touchpoints: await count(b.client, 'SELECT count() AS n FROM touchpoints'),
      stageTransitions: await count(b.client, 'SELECT count() AS n FROM stage_transitions FINAL'),
      leadProfiles: await count(b.client, 'SELECT count() AS n FROM lead_profile FINAL'),
      parked: (await parkedInClickHouse(b.client)).length + parkedInProjections(projections).length,
    };
    return { seconds: run.seconds, cpuSeconds: run.cpuSeconds, ...shares, rows };
  } finally {
    for (const f of followers) await f.stop();
    projections.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The stage-table sink on its own: over read models the projector has finished, from an empty ClickHouse (its first pass of a fresh data directory). */
async function stageSinkAlone(b: Bench, rep: number): Promise<Timing> {
  await emptyTargets(b.client);
  const dir = join(b.dir, `read-models-${rep}`);
  mkdirSync(dir);
  const projections = openProjectionStore(join(dir, 'projections.sqlite'));
  const projector = startProjector({ store: b.store, projections, config: b.config, ...reportToConsole('the projector') });
  try {
    await projector.caughtUp(b.head);
    const stages = runStageTableSink(stageStateSource(projections), b.client, reportToConsole('the stage-table sink'));
    try {
      return await timed(() => stages.caughtUp());
    } finally {
      await stages.stop();
    }
  } finally {
    await projector.stop();
    projections.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (values: number[]) => percentile(values, 0.5);
const spread = (values: number[]) => `${Math.min(...values).toFixed(1)}-${Math.max(...values).toFixed(1)}`;
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      events: { type: 'string', default: '1000000' },
      reps: { type: 'string', default: '3' },
      // ClickHouse's advice for inserts: 10k to 100k rows at a time
      batch: { type: 'string', default: '50000' },
      alone: { type: 'boolean', default: false },
    },
  });
  const reps = Number(values.reps);
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-replay-'));
  const store = await openSqliteEventStore({ path: join(dir, 'events.sqlite') });
  const client = createAnalyticsClient({ dataPath: dir });
  const raw = new Session(join(dir, 'clickhouse'));
  try {
    await migrate(client);
    console.log(`writing ${Number(values.events).toLocaleString('en-US')} demo events (plus identity links) to the event store ...`);
    await fillLog(store, Number(values.events));
    const head = await store.headPosition();
    const b: Bench = { dir, store, client, raw, config: SluiceConfigSchema.parse(demoConfig(TIME_ZONE)), head, batch: Number(values.batch) };
    console.log(`load average before: ${load()} (${reps} rounds, alternating which side goes first)`);
    await rawRead(store, b.batch); // warms the page cache and the JIT for both sides

    const ours: CatchUp[] = [];
    const direct: Timing[] = [];
    const reads: Timing[] = [];
    let directRows = 0;
    const baseline = async () => {
      await emptyTargets(client);
      const t = await timed(() => rawInsert(b));
      directRows = t.result;
      direct.push(t);
      reads.push(await timed(() => rawRead(store, b.batch)));
    };
    for (let i = 0; i < reps; i++) {
      if (i % 2 === 1) await baseline();
      const t = await catchUp(b, i);
      ours.push(t);
      console.log(`  round ${i + 1}: catch-up ${t.seconds.toFixed(1)} s (projector ${t.projector.toFixed(1)}, touchpoints ${t.touchpoints.toFixed(1)}, stage tables ${t.stageTables.toFixed(1)}); load ${load()}`);
      if (i % 2 === 0) await baseline();
    }

    const rate = (ts: Timing[]) => median(ts.map((t) => head / t.seconds));
    const cpuRate = (ts: Timing[]) => median(ts.map((t) => head / t.cpuSeconds));
    const last = ours.at(-1)!;
    printFigures(`replay: catch-up of ${head.toLocaleString('en-US')} log events on a fresh data directory, median of ${reps}; raw side in batches of ${b.batch.toLocaleString('en-US')} (load average ${load()})`, [
      { name: 'end-to-end catch-up (events/s)', value: rate(ours), baseline: rate(direct), baselineName: 'readAll + touchpoint rows into chDB' },
      { name: 'end-to-end catch-up (events per CPU second)', value: cpuRate(ours), baseline: cpuRate(direct), baselineName: 'readAll + touchpoint rows into chDB' },
      { name: 'end-to-end catch-up (s)', value: median(ours.map((t) => t.seconds)), baseline: median(direct.map((t) => t.seconds)), baselineName: 'readAll + insert' },
      { name: 'end-to-end catch-up (CPU s)', value: median(ours.map((t) => t.cpuSeconds)), baseline: median(direct.map((t) => t.cpuSeconds)), baselineName: 'readAll + insert' },
      { name: '  projector caught up after (s)', value: median(ours.map((t) => t.projector)) },
      { name: '  touchpoint sink caught up after (s)', value: median(ours.map((t) => t.touchpoints)) },
      { name: '  stage-table sink caught up after (s)', value: median(ours.map((t) => t.stageTables)) },
      { name: 'raw readAll alone (events/s)', value: rate(reads) },
    ]);
    console.log(`spread (min-max s over ${reps}): catch-up ${spread(ours.map((t) => t.seconds))} vs ${spread(direct.map((t) => t.seconds))} readAll + insert; readAll alone ${spread(reads.map((t) => t.seconds))}`);
    const r = last.rows;
    console.log(`rows: ${r.touchpoints.toLocaleString('en-US')} touchpoints (direct insert: ${directRows.toLocaleString('en-US')}), ${r.stageTransitions.toLocaleString('en-US')} stage transitions, ${r.leadProfiles.toLocaleString('en-US')} lead profiles, ${r.parked} parked`);
    const eps = rate(ours);
    const ratio = eps / rate(direct);
    console.log(`aim (>= ${AIM.eventsPerSecond.toLocaleString('en-US')} events/s and >= ${AIM.ratio} of the baseline): ${eps >= AIM.eventsPerSecond && ratio >= AIM.ratio ? 'met' : 'missed'} (${Math.round(eps).toLocaleString('en-US')} events/s, ratio ${ratio.toFixed(2)})`);

    if (values.alone) {
      // each follower on its own: where the end-to-end time goes
      const projector = await catchUp(b, reps, 'projector');
      const touchpoints = await catchUp(b, reps + 1, 'touchpoints');
      const stageTables = await stageSinkAlone(b, reps + 2);
      printFigures(`replay: each follower alone, once (load average ${load()})`, [
        { name: 'projector alone (events/s)', value: head / projector.seconds, baseline: rate(reads), baselineName: 'raw readAll' },
        { name: 'projector alone (CPU s)', value: projector.cpuSeconds },
        { name: 'touchpoint sink alone (events/s)', value: head / touchpoints.seconds, baseline: rate(direct), baselineName: 'readAll + insert' },
        { name: 'touchpoint sink alone (CPU s)', value: touchpoints.cpuSeconds, baseline: median(direct.map((t) => t.cpuSeconds)), baselineName: 'readAll + insert' },
        { name: 'stage-table sink alone, after the projector (s)', value: stageTables.seconds },
        { name: 'stage-table sink alone, after the projector (CPU s)', value: stageTables.cpuSeconds },
      ]);
    }
  } finally {
    raw.close();
    await client.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
