import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { openProjectionStore } from '@sluice/projector';
import type { ProjectionStore } from '@sluice/projector';

/** Reads the data directory's read models, when `sluice serve` or `sluice rebuild` has built them; undefined otherwise. */
export function withDataDirProjections<T>(dataDir: string, read: (projections: ProjectionStore) => T): T | undefined {
  const path = join(dataDir, 'projections.sqlite');
  if (!existsSync(path)) return undefined;
  const projections = openProjectionStore(path);
  try {
    return read(projections);
  } finally {
    projections.close();
  }
}
