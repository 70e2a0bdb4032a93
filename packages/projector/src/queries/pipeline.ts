import type { ProjectionStore } from '../store/projection-store.js';

/** What a pipeline count counts: each lead, or each account (buying group). */
export type PipelineUnit = 'leads' | 'accounts';

export interface PipelineFilter {
  businessUnit?: string | undefined;
  /** leads (default) or accounts */
  unit?: PipelineUnit | undefined;
}

/**
 * Leads held in each stage right now: the pipeline a plan can count on. Open
 * leads only: not customers, not in a side state (disqualified, recycled),
 * not an anonymous history merged into a lead. As of the checkpoint.
 *
 * By account, stage conversion's rule (@sluice/domain reference/stage-conversion.ts)
 * read as of now: an account holds the furthest stage (in the rules' order) any
 * of its leads holds, side states included, since an account reaches a stage
 * when any lead does; it is open while at least one of its leads is (in a side
 * state only when every lead is); an account with a customer among its leads
 * is won, not pipeline. A lead without an account counts as its own. The
 * business unit picks leads before they are grouped, as stage conversion's
 * filters do.
 */
export function pipelineCounts(projections: ProjectionStore, filter: PipelineFilter = {}): Record<string, number> {
  const unit = filter.businessUnit ?? null;
  if (filter.unit === 'accounts') return accountCounts(projections, unit);
  const rows = projections.db
    .prepare(
      `SELECT stage, COUNT(*) AS leads FROM leads
       WHERE kind = 'lead' AND is_customer = 0 AND side_state IS NULL AND merged_into IS NULL AND stage IS NOT NULL
         AND (@unit IS NULL OR business_unit = @unit)
       GROUP BY stage`,
    )
    .all({ unit }) as Array<{ stage: string; leads: number }>;
  return Object.fromEntries(rows.map((r) => [r.stage, r.leads]));
}

function accountCounts(projections: ProjectionStore, businessUnit: string | null): Record<string, number> {
  const { config } = projections.state();
  if (config === undefined) return {};
  // '~' keeps an account id from colliding with a lead counted as its own account
  const rows = projections.db
    .prepare(
      `WITH ranks AS (SELECT value AS stage, CAST(key AS INTEGER) AS rank FROM json_each(@stages)),
       accounts AS (
         SELECT CASE WHEN ifnull(l.account_id, '') = '' THEN 'lead~' || l.subject ELSE 'account~' || l.account_id END AS account,
           MAX(r.rank) AS furthest, MAX(l.is_customer) AS won, MAX(l.side_state IS NULL) AS open
         FROM leads l JOIN ranks r ON r.stage = l.stage
         WHERE l.kind = 'lead' AND l.merged_into IS NULL AND (@unit IS NULL OR l.business_unit = @unit)
         GROUP BY 1
       )
       SELECT r.stage AS stage, COUNT(*) AS accounts FROM accounts a JOIN ranks r ON r.rank = a.furthest
       WHERE a.won = 0 AND a.open = 1
       GROUP BY r.stage`,
    )
    .all({ stages: JSON.stringify(config.stages), unit: businessUnit }) as Array<{ stage: string; accounts: number }>;
  return Object.fromEntries(rows.map((r) => [r.stage, r.accounts]));
}
