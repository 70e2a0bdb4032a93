import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_SINK_NAME, migrate, parkedInClickHouse, readSinkCheckpoint, stageSinkName } from '@sluice/analytics';
import type { AnalyticsClient } from '@sluice/analytics';
import type { ParkedRecord } from '@sluice/follower';
import type { EventStore } from '@sluice/event-store';
import { openProjectionStore, sqliteReadModels } from '@sluice/projector';
import type { ReadModels } from '@sluice/projector';
import { CliError, formatCount, formatTable, printJson } from '../output.js';
import type { Settings } from '../settings.js';
import { openAnalytics } from './analytics-engine.js';

/**
 * `sluice status` and `sluice parked`: where each follower stands and what it
 * parked, read from the data directory as it is (nothing is caught up first:
 * the point is to see how far behind it is), or asked of a running server.
 */

/** One follower's standing. */
export interface FollowerStanding {
  name: string;
  /** from the data directory: caught_up or behind; from a server: the running follower's state (live, catching_up, retrying, ...) */
  state: string;
  position: number;
  /** the log's head (a running lead-changes publisher's: its change feed's) */
  head: number;
  lag: number;
  /** from the data directory: every item its store keeps parked; from a server: parked since it started */
  parked: number;
  failure?: { reason: string; since: string; attempts: number };
}

export interface StatusReport {
  /** the data directory, or the server's URL */
  from: string;
  headPosition: number;
  /** a server's /readyz verdict (a data directory has no running followers to be ready) */
  ready?: boolean;
  reasons?: string[];
  followers: FollowerStanding[];
}

const PROJECTIONS_FILE = 'projections.sqlite';
/** the names the running followers report (/readyz, /metrics) */
const PROJECTOR = 'projector';
const STAGE_TABLES = 'stage_tables';

/** The read models of the data directory, when they were ever built; none is created to be looked at. */
function withReadModels<T>(settings: Settings, work: (readModels: ReadModels | undefined) => Promise<T>): Promise<T> {
  const file = join(settings.dataDir, PROJECTIONS_FILE);
  if (!existsSync(file)) return work(undefined);
  const projections = openProjectionStore(file);
  return work(sqliteReadModels(projections)).finally(() => projections.close());
}

async function withClickHouse<T>(settings: Settings, work: (client: AnalyticsClient) => Promise<T>): Promise<T> {
  const client = openAnalytics(settings);
  try {
    await migrate(client);
    return await work(client);
  } finally {
    await client.close();
  }
}

function standing(name: string, position: number, head: number, parked: number): FollowerStanding {
  return { name, state: position >= head ? 'caught_up' : 'behind', position, head, lag: Math.max(0, head - position), parked };
}

const countOf = (rows: readonly ParkedRecord[], follower: string) => rows.filter((r) => r.follower === follower).length;

/** Every follower of the data directory: the projector, the touchpoint sink and the stage-table sink, with what their stores keep parked. */
export async function dataDirStatus(store: EventStore, settings: Settings): Promise<StatusReport> {
  const headPosition = await store.headPosition();
  return withReadModels(settings, (readModels) =>
    withClickHouse(settings, async (client) => {
      const parked = await parkedInClickHouse(client);
      const stages = await readModels?.head();
      // read models never built are a projector at position 0, which the next query or serve builds
      const projector = standing(PROJECTOR, stages?.position ?? 0, headPosition, (await readModels?.parked())?.length ?? 0);
      const followers = [projector, standing(DEFAULT_SINK_NAME, await readSinkCheckpoint(client), headPosition, countOf(parked, DEFAULT_SINK_NAME))];
      if (stages !== undefined) {
        if (stages.configVersion !== undefined) {
          const name = stageSinkName({ build: stages.build, configVersion: stages.configVersion });
          followers.push(standing(STAGE_TABLES, await readSinkCheckpoint(client, name), headPosition, countOf(parked, STAGE_TABLES)));
        }
      }
      return { from: settings.dataDir, headPosition, followers };
    }),
  );
}

/** A running server's /readyz: its followers as they run (a 503 is an answer too: it says which follower and why). */
export async function serverStatus(url: string): Promise<StatusReport> {
  // /readyz is open: no key needed
  const res = await fetch(new URL('/readyz', url)).catch((err: unknown) => {
    throw new CliError(`cannot reach ${url}: ${(err as Error).message}`);
  });
  const body = (await res.json().catch(() => ({}))) as { status?: string; headPosition?: number; reasons?: string[]; followers?: FollowerStanding[] };
  if (body.followers === undefined) throw new CliError(`${url} answered ${res.status}${body.status ? `: ${body.status}` : ''}`);
  return { from: url, headPosition: body.headPosition ?? 0, ready: res.ok, ...(body.reasons ? { reasons: body.reasons } : {}), followers: body.followers };
}

export function formatStatus(report: StatusReport): string {
  const verdict = report.ready === undefined ? '' : report.ready ? ': ready' : ': not ready';
  let out = `${report.from}${verdict}; the log's head is position ${formatCount(report.headPosition)}\n\n`;
  out += formatTable(
    ['follower', 'state', 'position', 'head', 'lag', 'parked'],
    report.followers.map((f) => [f.name, f.state.replace('_', ' '), f.position, f.head, f.lag, f.parked]),
  );
  for (const reason of report.reasons ?? []) out += `  ${reason}\n`;
  const parked = report.followers.reduce((sum, f) => sum + f.parked, 0);
  if (parked > 0) out += `\n${formatCount(parked)} item${parked === 1 ? '' : 's'} parked: \`sluice parked\` lists them with the reason\n`;
  return out;
}

export async function showStatus(openStore: () => Promise<EventStore>, settings: Settings, url: string | undefined, json: boolean): Promise<void> {
  let report: StatusReport;
  if (url !== undefined) report = await serverStatus(url);
  else {
    const store = await openStore();
    try {
      report = await dataDirStatus(store, settings);
    } finally {
      await store.close();
    }
  }
  if (json) printJson(report);
  else process.stdout.write(formatStatus(report));
}

/** Everything parked in the data directory's stores (ClickHouse's parked_events and the read models'), by follower and position. */
export async function parkedItems(settings: Settings, follower?: string): Promise<ParkedRecord[]> {
  return withReadModels(settings, (readModels) =>
    withClickHouse(settings, async (client) => {
      const rows = [...((await readModels?.parked(follower)) ?? []), ...(await parkedInClickHouse(client, follower))];
      return rows.sort((a, b) => a.follower.localeCompare(b.follower) || a.position - b.position);
    }),
  );
}

export function formatParked(rows: readonly ParkedRecord[], follower?: string): string {
  if (rows.length === 0) return `nothing parked${follower === undefined ? '' : ` by ${follower}`}\n`;
  const table = formatTable(
    ['follower', 'position', 'item', 'type', 'parked at', 'reason'],
    rows.map((r) => [r.follower, r.position, r.itemId, r.itemType, r.parkedAt, r.reason]),
  );
  return `${table}\n${formatCount(rows.length)} parked: each stays out of its follower's store until that store is rebuilt after a fix (\`sluice rebuild\`: the read models and the stage tables)\n`;
}

export async function showParked(settings: Settings, follower: string | undefined, json: boolean): Promise<void> {
  const rows = await parkedItems(settings, follower);
  if (json) printJson(rows);
  else process.stdout.write(formatParked(rows, follower));
}
