import { type CohortPeriod, type StageStateHead, asInstant } from '@sluice/domain';
import type { EventStore } from '@sluice/event-store';
import { inTransaction } from '@sluice/event-store-postgres';
import type { ParkedRecord } from '@sluice/follower';
import {
  LEAD_COLUMNS,
  type ChangedSubjectRow,
  type ConversionCounterRow,
  type LeadFilter,
  type LeadRow,
  type ParkedRow,
  type ReadModels,
  type SlaLeadRow,
  type StoredChange,
  type TransitionRow,
  checkLeadPageLimit,
  checkLiveConversion,
  conversionGrouping,
  decodeLeadCursor,
  encodeLeadCursor,
  followingOf,
  heldOf,
  leadAsOf,
  leadViewOf,
  liveConversionOf,
  lookbackConversionQuery,
  parkedRecordOf,
  parseChange,
  slaReportOf,
  slaTargetsOf,
  stageStatePageOf,
  sumSteps,
  transitionViewsOf,
} from '@sluice/projector';
import type { RuleConfig } from '@sluice/schemas';
import type { PoolClient } from 'pg';
import { REPLICATOR_NAME } from './replicator.js';
import { migrate, openPool, readModelObjects } from './schema.js';
import type { ReadModelObjects } from './schema.js';

export interface PostgresReadModelsOptions {
  connectionString: string;
  /** the schema the replicator writes (default 'sluice_read') */
  schema?: string;
  /** the log, for a lead as of an instant (folded again from its streams) */
  store?: Pick<EventStore, 'readStream'>;
  /** the rules the read models are built under (checked), for a lead as of an instant */
  rules?: RuleConfig;
}

export type PostgresReadModels = ReadModels & { close(): Promise<void> };

interface StateRow {
  build: string;
  position: number;
  change_seq: number;
  config_version: string | null;
  config_fingerprint: string | null;
  time_zone: string | null;
  stages: string | null;
}

/** The cohort period's first day from a cohort day (YYYY-MM-DD text), as the SQLite adapter computes it. */
const PERIOD_SQL: Record<CohortPeriod, string> = {
  day: 'day',
  week: "to_char(date_trunc('week', day::timestamp), 'YYYY-MM-DD')",
  month: "substr(day, 1, 8) || '01'",
  quarter: "to_char(date_trunc('quarter', day::timestamp), 'YYYY-MM-DD')",
  year: "substr(day, 1, 5) || '01-01'",
  all: "''",
};

const LEAD_SELECT = LEAD_COLUMNS.join(', ');

/**
 * The read models in PostgreSQL, as the replicator copies them from the
 * projector's file, read through the port with bound parameters. A question
 * that reads more than one statement reads them from one snapshot (REPEATABLE
 * READ), so its rows and the checkpoint it reports agree while the
 * replicator writes. The answers' shaping is the projector's own code.
 */
export async function openPostgresReadModels(options: PostgresReadModelsOptions): Promise<PostgresReadModels> {
  const objects = readModelObjects(options.schema ?? 'sluice_read');
  const pool = openPool(options.connectionString, 'sluice-read-models');
  pool.on('error', () => undefined);
  try {
    await inTransaction(pool, (client) => migrate(client, objects));
  } catch (err) {
    await pool.end();
    throw err;
  }
  const o = objects;
  const asOfSource = { ...(options.store === undefined ? {} : { store: options.store }), ...(options.rules === undefined ? {} : { config: options.rules }) };
  const snapshot = <T>(read: (client: PoolClient) => Promise<T>) =>
    inTransaction(pool, async (client) => {
      await client.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
      return read(client);
    });
  const stateOf = async (client: PoolClient) => (await client.query<StateRow>(`SELECT * FROM ${o.state} WHERE id = 1`)).rows[0]!;
  const configOf = (s: StateRow) =>
    s.config_version === null ? undefined : { version: s.config_version, fingerprint: s.config_fingerprint!, timeZone: s.time_zone!, stages: JSON.parse(s.stages!) as string[] };
  const query = async <R extends object>(sql: string, params: unknown[] = []) => (await pool.query<R>(sql, params)).rows;

  const pipelineCounts = (client: PoolClient, state: StateRow, businessUnit: string | undefined, unit: 'leads' | 'accounts' | undefined) =>
    unit === 'accounts' ? accountCounts(client, o, configOf(state)?.stages, businessUnit) : leadCounts(client, o, businessUnit);

  const readModels: PostgresReadModels = {
    async head(): Promise<StageStateHead> {
      const state = (await query<StateRow>(`SELECT * FROM ${o.state} WHERE id = 1`))[0]!;
      return { build: state.build, configVersion: state.config_version ?? undefined, position: state.position };
    },

    async lead(leadId, asOf) {
      const found = await snapshot(async (client) => {
        const row = (await client.query<LeadRow>(`SELECT ${LEAD_SELECT} FROM ${o.leads} WHERE subject = $1`, [`lead-${leadId}`])).rows[0];
        if (row === undefined || asOf === undefined) return { row };
        const state = await stateOf(client);
        const links = (await client.query<{ anonymous_id: string }>(`SELECT anonymous_id FROM ${o.links} WHERE lead_id = $1`, [leadId])).rows.map((r) => r.anonymous_id);
        const parked = (await client.query<{ position: number }>(`SELECT position FROM ${o.parked}`)).rows.map((r) => r.position);
        return { row, state, links, parked };
      });
      if (found.row === undefined) return undefined;
      if (asOf === undefined || found.state === undefined) return leadViewOf(found.row, undefined);
      const { state, links, parked } = found;
      return leadAsOf(asOfSource, { position: state.position, configVersion: state.config_version ?? undefined }, leadId, asOf, {
        ownedAnonymousIds: () => links!,
        parked: new Set(parked),
      });
    },

    leadTransitions: (leadId) =>
      snapshot(async (client) => {
        const state = await stateOf(client);
        const rows = (
          await client.query<TransitionRow>(`SELECT from_stage, to_stage, at, skipped, rule, event_id, config_version FROM ${o.transitions} WHERE subject = $1`, [`lead-${leadId}`])
        ).rows;
        return transitionViewsOf(rows, configOf(state)?.stages ?? []);
      }),

    async listLeads(filter: LeadFilter = {}, cursor?: string, limit = 50) {
      checkLeadPageLimit(limit);
      const params: unknown[] = [];
      const bind = (value: unknown) => {
        params.push(value);
        return `$${params.length}`;
      };
      const kind = filter.kind ?? 'lead';
      const where = [`kind = ${bind(kind)}`];
      if (kind === 'anonymous') where.push('merged_into IS NULL');
      const equal = { stage: filter.stage, grade: filter.grade, quadrant: filter.quadrant, owner: filter.owner, business_unit: filter.businessUnit };
      for (const [column, value] of Object.entries(equal)) if (value !== undefined) where.push(`${column} = ${bind(value)}`);
      if (filter.slaBreached !== undefined) {
        let breached = 'sla_breached = 1';
        if (filter.asOf !== undefined) {
          const asOf = `${bind(asInstant(filter.asOf))}::int8`;
          breached = `(sla_started_at IS NOT NULL AND (
            (sla_first_touch_at IS NOT NULL AND sla_first_touch_at > sla_first_touch_due_at)
            OR (sla_first_touch_at IS NULL AND ${asOf} > sla_first_touch_due_at)
            OR (sla_attempts_required IS NOT NULL AND sla_attempts < sla_attempts_required AND ${asOf} >= sla_attempts_window_ends_at)))`;
        }
        where.push(filter.slaBreached ? breached : `NOT COALESCE(${breached}, false)`);
      }
      if (cursor !== undefined) {
        const c = decodeLeadCursor(cursor);
        const at = `${bind(c.at)}::int8`;
        where.push(`(last_touch_at < ${at} OR (last_touch_at = ${at} AND subject > ${bind(c.subject)}))`);
      }
      const rows = await query<LeadRow>(`SELECT ${LEAD_SELECT} FROM ${o.leads} WHERE ${where.join(' AND ')} ORDER BY last_touch_at DESC, subject LIMIT ${bind(limit + 1)}`, params);
      const page = rows.slice(0, limit);
      return { items: page.map((r) => leadViewOf(r, undefined)), nextCursor: rows.length > limit ? encodeLeadCursor(page.at(-1)!) : undefined };
    },

    liveConversion: (liveQuery) =>
      snapshot(async (client) => {
        const state = await stateOf(client);
        const config = configOf(state);
        const periodSql = checkLiveConversion(config, liveQuery, PERIOD_SQL);
        const { byUnit, bySource } = conversionGrouping(liveQuery);
        const params: unknown[] = [];
        const where: string[] = [];
        const bind = (sql: string, value: string | undefined) => {
          if (value === undefined) return;
          params.push(value);
          where.push(`${sql} $${params.length}`);
        };
        bind('day >=', liveQuery.from);
        bind('day <', liveQuery.to);
        bind('business_unit =', liveQuery.businessUnit);
        bind('source =', liveQuery.source);
        const counters = (
          await client.query<ConversionCounterRow>(
            `SELECT ${periodSql} AS period, ${byUnit ? 'business_unit' : "''"} AS business_unit, ${bySource ? 'source' : "''"} AS source,
               from_stage, to_stage, SUM(leads)::int8 AS leads, SUM(skipped)::int8 AS skipped, SUM(velocity_ms)::int8 AS velocity_ms
             FROM ${o.counters} ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
             GROUP BY 1, 2, 3, from_stage, to_stage`,
            params,
          )
        ).rows;
        return liveConversionOf({ position: state.position, config: config! }, liveQuery, counters);
      }),

    async slaReport(rules, report) {
      const { nextStage } = slaTargetsOf(rules);
      const rows = await query<SlaLeadRow>(
        `SELECT l.subject, l.owner, l.business_unit, l.is_customer, l.sla_started_at, l.sla_first_touch_due_at, l.sla_first_touch_at,
           l.sla_attempts, l.sla_attempts_required, l.sla_attempts_window_ends_at,
           (EXISTS (SELECT 1 FROM ${o.transitions} t WHERE t.subject = l.subject AND t.to_stage = $3::text))::int AS converted
         FROM ${o.leads} l
         WHERE l.kind = 'lead' AND l.sla_started_at >= $1 AND l.sla_started_at < $2
         ORDER BY l.sla_started_at, l.subject`,
        [report.fromMs, report.toMs, nextStage],
      );
      return slaReportOf(rules, report, rows);
    },

    async measureFunnel(measure) {
      const conversion = await readModels.liveConversion(lookbackConversionQuery(measure));
      return { steps: sumSteps(conversion.rows, measure.stages), pipeline: await readModels.heldPipeline(measure) };
    },

    heldPipeline: (held) =>
      snapshot(async (client) => heldOf(await pipelineCounts(client, await stateOf(client), held.businessUnit, held.unit), held.stages)),

    stageChanges: (request) =>
      snapshot(async (client) => {
        const state = await stateOf(client);
        const rows = (
          await client.query<ChangedSubjectRow>(
            `SELECT changed_at, subject, config_version, business_unit, source, channel, campaign, profile, owner, stage,
                    account_id, side_state, side_reason, side_rule, side_since
             FROM ${o.leads}
             WHERE changed_at > $1 AND changed_at <= $2 AND (changed_at, subject) > ($3::int8, $4::text)
             ORDER BY changed_at, subject
             LIMIT $5`,
            [request.after, request.until, request.cursor?.position ?? -1, request.cursor?.subject ?? '', request.limit],
          )
        ).rows;
        const transitions = new Map<string, TransitionRow[]>();
        const held = await client.query<TransitionRow & { subject: string }>(
          `SELECT subject, from_stage, to_stage, at, skipped, rule, event_id, config_version FROM ${o.transitions} WHERE subject = ANY($1::text[])`,
          [rows.map((r) => r.subject)],
        );
        for (const { subject, ...t } of held.rows) transitions.set(subject, [...(transitions.get(subject) ?? []), t]);
        return stageStatePageOf({ build: state.build, position: state.position }, request, rows, (subject) => transitions.get(subject) ?? []);
      }),

    async changeHead() {
      return (await query<{ change_seq: number }>(`SELECT change_seq FROM ${o.state} WHERE id = 1`))[0]!.change_seq;
    },

    readChanges: (afterSeq, max) =>
      snapshot(async (client) => {
        const held = (await client.query<StoredChange>(`SELECT seq, payload FROM ${o.changes} WHERE seq > $1 ORDER BY seq LIMIT $2`, [afterSeq, max])).rows;
        return followingOf(afterSeq, held.map(parseChange), (await stateOf(client)).change_seq);
      }),

    async parked(follower?: string): Promise<ParkedRecord[]> {
      const rows = await query<ParkedRow>(
        `SELECT * FROM (
           SELECT follower, position, event_id, type, reason, parked_at FROM ${o.parked}
           UNION ALL
           SELECT $2::text, position, subject, 'subject', reason, parked_at FROM ${o.replicaParked}
         ) parked
         WHERE $1::text = '' OR follower = $1::text
         ORDER BY follower COLLATE "C", position, event_id COLLATE "C"`,
        [follower ?? '', REPLICATOR_NAME],
      );
      return rows.map(parkedRecordOf);
    },

    close: () => pool.end(),
  };
  return readModels;
}

async function leadCounts(client: PoolClient, o: ReadModelObjects, businessUnit: string | undefined): Promise<Record<string, number>> {
  const { rows } = await client.query<{ stage: string; leads: number }>(
    `SELECT stage, COUNT(*) AS leads FROM ${o.leads}
     WHERE kind = 'lead' AND is_customer = 0 AND side_state IS NULL AND merged_into IS NULL AND stage IS NOT NULL
       AND ($1::text IS NULL OR business_unit = $1::text)
     GROUP BY stage`,
    [businessUnit ?? null],
  );
  return Object.fromEntries(rows.map((r) => [r.stage, r.leads]));
}

/** By account: the projector's rule (queries/pipeline.ts), an account at the furthest stage any of its leads holds. */
async function accountCounts(client: PoolClient, o: ReadModelObjects, stages: readonly string[] | undefined, businessUnit: string | undefined): Promise<Record<string, number>> {
  if (stages === undefined) return {};
  // '~' keeps an account id from colliding with a lead counted as its own account
  const { rows } = await client.query<{ stage: string; accounts: number }>(
    `WITH ranks AS (SELECT stage, rank FROM unnest($1::text[]) WITH ORDINALITY AS r(stage, rank)),
     accounts AS (
       SELECT CASE WHEN coalesce(l.account_id, '') = '' THEN 'lead~' || l.subject ELSE 'account~' || l.account_id END AS account,
         MAX(r.rank) AS furthest, MAX(l.is_customer) AS won, bool_or(l.side_state IS NULL) AS open
       FROM ${o.leads} l JOIN ranks r ON r.stage = l.stage
       WHERE l.kind = 'lead' AND l.merged_into IS NULL AND ($2::text IS NULL OR l.business_unit = $2::text)
       GROUP BY 1
     )
     SELECT r.stage AS stage, COUNT(*) AS accounts FROM accounts a JOIN ranks r ON r.rank = a.furthest
     WHERE a.won = 0 AND a.open
     GROUP BY r.stage`,
    [stages, businessUnit ?? null],
  );
  return Object.fromEntries(rows.map((r) => [r.stage, r.accounts]));
}
