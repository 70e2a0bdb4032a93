import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { EventStore } from '@sluice/event-store';
import { sqliteReadModels } from '@sluice/projector';
import type { ReadModels } from '@sluice/projector';
import type { Settings } from '../settings.js';
import { withCaughtUpProjections } from './analytics-engine.js';

/** False for a SQLite data directory without an events file: nothing to measure, and nothing should be created to find that out. */
export function holdsLog(settings: Settings): boolean {
  return settings.config.server.eventStore.adapter !== 'sqlite' || existsSync(join(settings.dataDir, 'events.sqlite'));
}

/** `read` through the read models caught up with the log first (a plan straight after an import measures all of it); on undefined without a log. */
export async function withMeasuredProjections<T>(openStore: () => Promise<EventStore>, settings: Settings, read: (readModels: ReadModels | undefined) => Promise<T>): Promise<T> {
  if (!holdsLog(settings)) return read(undefined);
  const store = await openStore();
  try {
    return await withCaughtUpProjections(store, settings, (projections) => read(sqliteReadModels(projections, { store, config: settings.config })));
  } finally {
    await store.close();
  }
}
