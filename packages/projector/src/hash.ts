import { createHash } from 'node:crypto';
import type { ProjectionStore } from './store/projection-store.js';
import { READ_MODEL_TABLES } from './store/schema.js';

/**
 * A SHA-256 over every read model (leads, stage transitions, identity links,
 * conversion counters), row by row in key order. The checkpoint and the
 * change feed are left out: they record how the models were built, not what
 * they say. Equal hashes mean equal read models.
 */
export function contentHash(projections: ProjectionStore): string {
  const hash = createHash('sha256');
  for (const table of READ_MODEL_TABLES) {
    hash.update(`\u0001${table.name}\n`);
    const rows = projections.db.prepare(`SELECT * FROM ${table.name} ORDER BY ${table.key}`).raw(true).iterate() as Iterable<unknown[]>;
    for (const row of rows) hash.update(`${JSON.stringify(row)}\n`);
  }
  return hash.digest('hex');
}
