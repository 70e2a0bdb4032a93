import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EventStore } from '@sluice/event-store';
import type { SluiceEvent } from '@sluice/schemas';
import { demoConfig, describeDemo, generateDemoEvents, generateDemoSpend } from '@sluice/demo';
import { TouchpointConflictError, appendTouchpoints } from '@sluice/touchpoint-log';
import { CliError } from '../output.js';
import { Progress } from '../progress.js';
import { DATA_DIR_CONFIG, configFileOf, resolveSettings } from '../settings.js';
import type { Settings } from '../settings.js';

export interface DemoOptions {
  seed: number;
  targetEvents: number;
  start: string;
  months: number;
  /** the instant history ends (ISO 8601 with an offset): nothing later is written */
  end: string;
  timeZone: string;
}

export interface DemoSummary {
  options: DemoOptions;
  events: number;
  accepted: number;
  duplicates: number;
  elapsedMs: number;
}

const BATCH = 5_000;
/** The demo size whose paid campaigns cost their catalog budgets: bigger demos spend in proportion. */
const SPEND_SCALE_EVENTS = 200_000;

/** The journeys, then what their paid campaigns cost (a few hundred rows, outside the progress estimate); streamed, in constant memory. */
function* demoStream(options: DemoOptions): Generator<SluiceEvent, void, undefined> {
  yield* generateDemoEvents(options);
  yield* generateDemoSpend({ ...options, scale: options.targetEvents / SPEND_SCALE_EVENTS });
}

/** Writes the seeded synthetic data set (journeys and ad spend) through the same append path as the API. */
export async function writeDemo(store: EventStore, options: DemoOptions, showProgress = true): Promise<DemoSummary> {
  const started = performance.now();
  const expected = describeDemo(options).events;
  const progress = new Progress('demo data', expected, 'events', showProgress && process.stderr.isTTY === true);
  const summary: DemoSummary = { options, events: 0, accepted: 0, duplicates: 0, elapsedMs: 0 };
  let batch: SluiceEvent[] = [];
  const flush = async () => {
    const result = await appendTouchpoints(store, batch).catch((err: unknown) => {
      if (!(err instanceof TouchpointConflictError)) throw err;
      // same seed, same ids: a demo with another end (or size) holds other events under them
      throw new CliError(`the event store already holds a demo data set that differs from this one (${err.conflicts.length} event ids with other content, e.g. ${err.conflicts[0]?.id}): give the first demo's --end again (and its --seed, --events, --months), or write to a fresh --data-dir`);
    });
    summary.accepted += result.accepted;
    summary.duplicates += result.duplicates;
    summary.events += batch.length;
    batch = [];
    progress.update(summary.events);
  };
  for (const event of demoStream(options)) {
    batch.push(event);
    if (batch.length >= BATCH) await flush();
  }
  if (batch.length > 0) await flush();
  progress.done();
  summary.elapsedMs = performance.now() - started;
  return summary;
}

/**
 * A fresh data directory with no configuration takes the demo's rules (its
 * business units, illustrative exchange rates; @sluice/demo demoConfig),
 * written beside its data so every later command reads the demo under them.
 * An explicit configuration, or a data directory that already holds events
 * or rules, is left as it is. Returns the settings to use and the file written.
 */
export function adoptDemoConfig(
  flags: Parameters<typeof resolveSettings>[0],
  env: NodeJS.ProcessEnv,
  settings: Settings,
  timeZone: string,
): { settings: Settings; written?: string } {
  if (configFileOf(flags, env) !== undefined || existsSync(join(settings.dataDir, 'events.sqlite'))) return { settings };
  mkdirSync(settings.dataDir, { recursive: true });
  const written = join(settings.dataDir, DATA_DIR_CONFIG);
  writeFileSync(written, JSON.stringify(demoConfig(timeZone), null, 2) + '\n');
  return { settings: resolveSettings(flags, env), written };
}
