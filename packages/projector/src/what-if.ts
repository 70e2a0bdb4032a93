import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { EventStore } from '@sluice/event-store';
import { asInstant } from '@sluice/domain';
import type { RuleConfig } from '@sluice/schemas';
import { Projection } from './engine/projection.js';
import { type ReplayOptions, replayLog } from './rebuild.js';
import { type ProjectionStore, bindConfig, openProjectionStore } from './store/projection-store.js';

export interface WhatIfOptions extends ReplayOptions {
  store: EventStore;
  /** the rules the live read models use */
  live: RuleConfig;
  candidate: RuleConfig;
  /** only actors whose first touchpoint lies in [from, to) (epoch ms or ISO); the first touch does not depend on the rules */
  window?: { from: number | string; to: number | string };
  /** where the scratch models go: 'memory' (default) or a directory in which a temporary one is made and removed */
  scratch?: 'memory' | { dir: string };
  /** how many differing actors to list (default 1,000); all are counted */
  maxDifferences?: number;
}

export interface StageOutcome {
  readonly stage: string;
  /** actors that entered the stage (skipped counts as passed through) */
  readonly reached: number;
  /** actors whose furthest stage it is */
  readonly current: number;
  /** reached / reached of the previous stage; null for the first stage or when the previous has none */
  readonly conversionFromPrevious: number | null;
}

export interface RuleSetOutcome {
  readonly configVersion: string;
  /** leads plus anonymous visitors no lead owns */
  readonly actors: number;
  readonly stages: readonly StageOutcome[];
}

export interface StageDifference {
  readonly kind: 'lead' | 'anonymous';
  readonly id: string;
  readonly live: string | null;
  readonly candidate: string | null;
}

export interface WhatIfResult {
  /** both rule sets saw the log up to here (its head when the what-if started) */
  readonly position: number;
  readonly events: number;
  readonly seconds: number;
  readonly window: { readonly from: string; readonly to: string } | undefined;
  readonly live: RuleSetOutcome;
  readonly candidate: RuleSetOutcome;
  readonly differences: { readonly count: number; readonly actors: readonly StageDifference[] };
}

/**
 * What if the candidate rules had been live: replays the log once into two
 * scratch models, one under the live rules and one under the candidate, and
 * compares them. The live read models are not read or written: both sides
 * come from the same log prefix, so they compare like with like.
 */
export async function whatIf(options: WhatIfOptions): Promise<WhatIfResult> {
  const dir = options.scratch === undefined || options.scratch === 'memory' ? undefined : mkdtempSync(join(options.scratch.dir, 'sluice-whatif-'));
  const open = (name: string) => openProjectionStore(dir === undefined ? ':memory:' : join(dir, `${name}.sqlite`));
  const stores: ProjectionStore[] = [];
  try {
    const liveStore = open('live');
    stores.push(liveStore);
    const candidateStore = open('candidate');
    stores.push(candidateStore);
    const projection = (projections: ProjectionStore, config: RuleConfig) => {
      bindConfig(projections, config);
      return new Projection({ projections, store: options.store, config, cacheSize: options.cacheSize ?? 100_000, recordChanges: false });
    };
    const replay = await replayLog(options.store, [projection(liveStore, options.live), projection(candidateStore, options.candidate)], options);
    const window = options.window && { from: asInstant(options.window.from), to: asInstant(options.window.to) };
    return {
      ...replay,
      window: window && { from: new Date(window.from).toISOString(), to: new Date(window.to).toISOString() },
      live: outcome(liveStore, options.live, window),
      candidate: outcome(candidateStore, options.candidate, window),
      differences: differences(liveStore, candidateStore, window, options.maxDifferences ?? 1000),
    };
  } finally {
    for (const s of stores) s.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  }
}

type Window = { from: number; to: number } | undefined;

const actorsIn = (window: Window) => `merged_into IS NULL${window ? ' AND first_touch_at >= @from AND first_touch_at < @to' : ''}`;
const windowParams = (window: Window) => (window ? { from: window.from, to: window.to } : {});

function outcome(projections: ProjectionStore, config: RuleConfig, window: Window): RuleSetOutcome {
  const db = projections.db;
  const params = windowParams(window);
  const actors = db.prepare(`SELECT COUNT(*) FROM leads WHERE ${actorsIn(window)}`).pluck().get(params) as number;
  const count = (sql: string) => new Map((db.prepare(sql).raw(true).all(params) as [string, number][]).map(([stage, n]) => [stage, n]));
  const reached = count(`SELECT t.to_stage, COUNT(*) FROM stage_transitions t JOIN leads l ON l.subject = t.subject WHERE ${actorsIn(window)} GROUP BY t.to_stage`);
  const current = count(`SELECT stage, COUNT(*) FROM leads WHERE stage IS NOT NULL AND ${actorsIn(window)} GROUP BY stage`);
  const stages = config.stageModel.stages.map((s) => s.id);
  return {
    configVersion: config.version,
    actors,
    stages: stages.map((stage, i) => {
      const previous = i === 0 ? 0 : (reached.get(stages[i - 1]!) ?? 0);
      return { stage, reached: reached.get(stage) ?? 0, current: current.get(stage) ?? 0, conversionFromPrevious: previous === 0 ? null : (reached.get(stage) ?? 0) / previous };
    }),
  };
}

/** Merge-walks both models in subject order (ownership comes from the log, so both hold the same actors). */
function differences(live: ProjectionStore, candidate: ProjectionStore, window: Window, max: number): WhatIfResult['differences'] {
  const sql = `SELECT subject, kind, id, stage FROM leads WHERE ${actorsIn(window)} ORDER BY subject`;
  type Row = [string, 'lead' | 'anonymous', string, string | null];
  const a = (live.db.prepare(sql).raw(true).iterate(windowParams(window)) as IterableIterator<Row>)[Symbol.iterator]();
  const b = (candidate.db.prepare(sql).raw(true).iterate(windowParams(window)) as IterableIterator<Row>)[Symbol.iterator]();
  const actors: StageDifference[] = [];
  let count = 0;
  const differ = (kind: Row[1], id: string, liveStage: string | null, candidateStage: string | null) => {
    if (liveStage === candidateStage) return;
    count++;
    if (actors.length < max) actors.push({ kind, id, live: liveStage, candidate: candidateStage });
  };
  let x = a.next();
  let y = b.next();
  while (!x.done || !y.done) {
    if (y.done || (!x.done && x.value[0] < y.value[0])) {
      differ(x.value![1], x.value![2], x.value![3], null);
      x = a.next();
    } else if (x.done || y.value[0] < x.value[0]) {
      differ(y.value[1], y.value[2], null, y.value[3]);
      y = b.next();
    } else {
      differ(x.value[1], x.value[2], x.value[3], y.value[3]);
      x = a.next();
      y = b.next();
    }
  }
  return { count, actors };
}
