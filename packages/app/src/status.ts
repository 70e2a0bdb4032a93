import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_SINK_NAME, migrate, parkedInClickHouse, readSinkCheckpoint, stageSinkName } from '@sluice/analytics';
import type { AnalyticsClient } from '@sluice/analytics';
import type { EventStore } from '@sluice/event-store';
import type { ParkedRecord } from '@sluice/follower';
import { openProjectionStore, sqliteReadModels } from '@sluice/projector';
import type { ReadModels } from '@sluice/projector';
import { Closer } from './closer.js';
import type { EngineSettings } from './followers.js';
import { openOneShotAnalytics } from './one-shot.js';

/**
 * The status use cases of the one-shot role: where each follower of the data
 * directory stands and what it parked, read from its stores as they are
 * (nothing is caught up first: the point is to see how far behind it is).
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

type StatusSettings = EngineSettings & { host: string; port: number };

const PROJECTIONS_FILE = 'projections.sqlite';
/** the names the running followers report (/readyz, /metrics) */
const PROJECTOR = 'projector';
const STAGE_TABLES = 'stage_tables';

/** The read models of the data directory, when they were ever built (none is created to be looked at), and its ClickHouse. */
async function withStores<T>(settings: StatusSettings, work: (readModels: ReadModels | undefined, client: AnalyticsClient) => Promise<T>): Promise<T> {
  const closer = new Closer();
  try {
    const file = join(settings.dataDir, PROJECTIONS_FILE);
    const readModels = existsSync(file) ? sqliteReadModels(closer.add(openProjectionStore(file), (p) => p.close())) : undefined;
    const client = closer.add(openOneShotAnalytics(settings), (c) => c.close());
    await migrate(client);
    return await work(readModels, client);
  } finally {
    await closer.close();
  }
}

function standing(name: string, position: number, head: number, parked: number): FollowerStanding {
  return { name, state: position >= head ? 'caught_up' : 'behind', position, head, lag: Math.max(0, head - position), parked };
}

const countOf = (rows: readonly ParkedRecord[], follower: string) => rows.filter((r) => r.follower === follower).length;

/** Every follower of the data directory: the projector, the touchpoint sink and the stage-table sink, with what their stores keep parked. */
export async function dataDirStatus(store: EventStore, settings: StatusSettings): Promise<StatusReport> {
  const headPosition = await store.headPosition();
  return withStores(settings, async (readModels, client) => {
    const parked = await parkedInClickHouse(client);
    const stages = await readModels?.head();
    // read models never built are a projector at position 0, which the next query or serve builds
    const projector = standing(PROJECTOR, stages?.position ?? 0, headPosition, (await readModels?.parked())?.length ?? 0);
    const followers = [projector, standing(DEFAULT_SINK_NAME, await readSinkCheckpoint(client), headPosition, countOf(parked, DEFAULT_SINK_NAME))];
    if (stages?.configVersion !== undefined) {
      const name = stageSinkName({ build: stages.build, configVersion: stages.configVersion });
      followers.push(standing(STAGE_TABLES, await readSinkCheckpoint(client, name), headPosition, countOf(parked, STAGE_TABLES)));
    }
    return { from: settings.dataDir, headPosition, followers };
  });
}

/** Everything parked in the data directory's stores (ClickHouse's parked_events and the read models'), by follower and position. */
export async function parkedItems(settings: StatusSettings, follower?: string): Promise<ParkedRecord[]> {
  return withStores(settings, async (readModels, client) => {
    const rows = [...((await readModels?.parked(follower)) ?? []), ...(await parkedInClickHouse(client, follower))];
    return rows.sort((a, b) => a.follower.localeCompare(b.follower) || a.position - b.position);
  });
}
