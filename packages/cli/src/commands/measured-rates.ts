import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { measureFunnel, openProjectionStore } from '@sluice/projector';
import type { MeasureOptions, MeasuredFunnel } from '@sluice/projector';

/** Measures from the data directory's read models, when `sluice serve` or `sluice rebuild` has built them. */
export function measureFromDataDir(dataDir: string, options: MeasureOptions): MeasuredFunnel | undefined {
  const path = join(dataDir, 'projections.sqlite');
  if (!existsSync(path)) return undefined;
  const projections = openProjectionStore(path);
  try {
    return measureFunnel(projections, options);
  } finally {
    projections.close();
  }
}
