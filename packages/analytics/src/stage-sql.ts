import type { CohortPeriod, SegmentKey } from '@sluice/domain';
import { COMPANY_SIZE_BANDS, LARGEST_COMPANY_SIZE_BAND } from '@sluice/domain';
import type { Params } from './funnel-sql.js';

/**
 * SQL pieces shared by the stage-level queries. The only text spliced into
 * SQL is fixed here: column expressions from whitelists keyed by validated
 * enums; every value (config version, stages, times, zone, filter values) is
 * a bound parameter.
 */

/**
 * Stage facts of one config: the current state of each (lead, stage) key.
 * FINAL collapses versions (the highest wins) and hides removed keys; the
 * outer filters run on the collapsed rows, so an older version of a row can
 * never pass a time filter its newest version fails. config_version and stage
 * are key columns, equal across a key's versions, so filtering them before
 * FINAL is safe (and prunes the scan to the config's range).
 */
export function stageFactsSql(p: Params, configVersion: string, stages: readonly string[] | undefined, asOfMs: number | undefined): string {
  const conditions = [`config_version = ${p.bind('config_version', 'String', configVersion)}`];
  if (stages !== undefined) conditions.push(`stage IN ${p.bind('fact_stages', 'Array(String)', stages)}`);
  const asOf = asOfMs === undefined ? '' : `AND ms <= ${p.bind('as_of_ms', 'Int64', asOfMs)}`;
  return `
    SELECT lead_id, stage, ms, skipped FROM (
      SELECT lead_id, stage, toUnixTimestamp64Milli(entered_at) AS ms, skipped, is_deleted
      FROM stage_transitions FINAL
      WHERE ${conditions.join(' AND ')}
    )
    WHERE is_deleted = 0 ${asOf}`;
}

/** Columns of lead_profile by segment key (companySize is banded below). */
const SEGMENT_COLUMNS = {
  businessUnit: 'business_unit',
  source: 'source',
  channel: 'channel',
  campaign: 'campaign',
  role: 'role',
  industry: 'industry',
  country: 'country',
  leadSource: 'lead_source',
  owner: 'owner',
  currentStage: 'stage',
} as const satisfies Record<Exclude<SegmentKey, 'companySize'>, string>;

/**
 * A segment key's expression over the lead_profile join (aliased `prof`). A
 * lead without a profile reads '' (ifNull: a server with join_use_nulls on
 * would give NULL for the unmatched side).
 */
export function segmentExpr(key: SegmentKey, p: Params): string {
  if (key !== 'companySize') return `ifNull(prof.${SEGMENT_COLUMNS[key]}, '')`;
  // band index = edges below the size, + 1 (companySizeBand in @sluice/domain); 0 means unknown
  const edges = p.bind('size_band_edges', 'Array(UInt32)', COMPANY_SIZE_BANDS.map((b) => b.upTo));
  const labels = p.bind('size_band_labels', 'Array(String)', [...COMPANY_SIZE_BANDS.map((b) => b.label), LARGEST_COMPANY_SIZE_BAND]);
  const size = 'ifNull(prof.company_size, 0)';
  return `if(${size} = 0, '', arrayElement(${labels}, arrayCount(b -> b < ${size}, ${edges}) + 1))`;
}

/** One condition per profile filter (over the profileJoinSql join): the lead's value under the key is one of the values. */
export function profileFilterSql(filters: ReadonlyArray<{ key: SegmentKey; values: readonly string[] }>, p: Params): string[] {
  return filters.map((f, i) => `${segmentExpr(f.key, p)} IN ${p.bind(`filter_${i}`, 'Array(String)', f.values)}`);
}

/** The lead_profile rows of one config as a LEFT JOIN aliased `prof`, on the left side's lead id expression. */
export function profileJoinSql(p: Params, configVersion: string, leftLeadId: string): string {
  return `LEFT JOIN (
      SELECT lead_id, business_unit, source, channel, campaign, role, industry, country, company_size, lead_source, owner, stage, account_id, side_state, side_since
      FROM lead_profile FINAL
      WHERE config_version = ${p.bind('config_version', 'String', configVersion)}
    ) AS prof ON prof.lead_id = ${leftLeadId}`;
}

/**
 * The leads in a side state under a config (lead_id, side_state), as the
 * projector last recorded it, begun by asOf when given (a bound parameter
 * expression): few rows, a cheap right side of a join. The state is read
 * after FINAL, so an older version of a profile row never counts.
 */
export function sideStateLeadsSql(p: Params, configVersion: string, asOf: string | undefined): string {
  return `
    SELECT lead_id, side_state FROM (
      SELECT lead_id, side_state, toUnixTimestamp64Milli(side_since) AS side_since_ms
      FROM lead_profile FINAL
      WHERE config_version = ${p.bind('config_version', 'String', configVersion)}
    )
    WHERE side_state != ''${asOf === undefined ? '' : ` AND side_since_ms <= ${asOf}`}`;
}

/** Period start (a Date in the zone) and label of an epoch-ms column; see cohortPeriodOf in @sluice/domain. */
export function periodSql(period: CohortPeriod, msColumn: string, p: Params, timeZone: string): { start: string; label: string } {
  if (period === 'all') return { start: `''`, label: `'all'` };
  const tz = p.bind('time_zone', 'String', timeZone);
  const t = `fromUnixTimestamp64Milli(${msColumn}, 'UTC')`;
  switch (period) {
    case 'day':
      return { start: `toDate(${t}, ${tz})`, label: `toString(toDate(${t}, ${tz}))` };
    case 'week': {
      // ISO week: Monday start; the label's year is the ISO week-numbering year
      const d = `toMonday(${t}, ${tz})`;
      return { start: d, label: `concat(toString(toISOYear(${d})), '-W', leftPad(toString(toISOWeek(${d})), 2, '0'))` };
    }
    case 'month': {
      const d = `toStartOfMonth(${t}, ${tz})`;
      return { start: d, label: `substring(toString(${d}), 1, 7)` };
    }
    case 'quarter': {
      const d = `toStartOfQuarter(${t}, ${tz})`;
      return { start: d, label: `concat(toString(toYear(${d})), '-Q', toString(toQuarter(${d})))` };
    }
    case 'year': {
      const d = `toStartOfYear(${t}, ${tz})`;
      return { start: d, label: `toString(toYear(${d}))` };
    }
  }
}
