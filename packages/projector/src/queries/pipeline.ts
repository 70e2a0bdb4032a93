import type { ProjectionStore } from '../store/projection-store.js';

/**
 * Leads held in each stage right now: the pipeline a plan can count on. Open
 * leads only: not customers, not in a side state (disqualified, recycled),
 * not an anonymous history merged into a lead. As of the checkpoint.
 */
export function pipelineCounts(projections: ProjectionStore, filter: { businessUnit?: string } = {}): Record<string, number> {
  const rows = projections.db
    .prepare(
      `SELECT stage, COUNT(*) AS leads FROM leads
       WHERE kind = 'lead' AND is_customer = 0 AND side_state IS NULL AND merged_into IS NULL AND stage IS NOT NULL
         AND (@unit IS NULL OR business_unit = @unit)
       GROUP BY stage`,
    )
    .all({ unit: filter.businessUnit ?? null }) as Array<{ stage: string; leads: number }>;
  return Object.fromEntries(rows.map((r) => [r.stage, r.leads]));
}
