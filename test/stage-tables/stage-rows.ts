import type { AnalyticsClient } from '@sluice/analytics';
import type { ProjectionStore } from '@sluice/projector';

/**
 * Test support for the stage-table sink: the rows a reader of ClickHouse sees
 * (FINAL, removals hidden, without the version, which depends on when the
 * sink ran) and the rows the projector's read models say should be there,
 * read straight from the SQLite tables (not through the sink's source), both
 * as sorted plain values to compare with toEqual.
 */

export interface TransitionRow {
  lead_id: string;
  stage: string;
  from_stage: string;
  entered_ms: number;
  skipped: boolean;
  rule: string;
  event_id: string;
}

export interface ProfileRow {
  lead_id: string;
  business_unit: string;
  source: string;
  channel: string;
  campaign: string;
  role: string;
  industry: string;
  country: string;
  company_size: number;
  lead_source: string;
  owner: string;
  stage: string;
}

export interface StageRows {
  transitions: TransitionRow[];
  profiles: ProfileRow[];
}

const byKey = <T>(rows: T[], key: (r: T) => string) => rows.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));

export async function clickhouseStageRows(client: AnalyticsClient, configVersion: string): Promise<StageRows> {
  const transitions = await client.rows<TransitionRow & { entered_ms: number | string }>(
    `SELECT lead_id, toString(stage) AS stage, toString(from_stage) AS from_stage, toUnixTimestamp64Milli(entered_at) AS entered_ms, skipped, toString(rule) AS rule, event_id
     FROM stage_transitions FINAL WHERE config_version = {cv:String} AND is_deleted = 0`,
    { cv: configVersion },
  );
  const profiles = await client.rows<ProfileRow & { company_size: number | string }>(
    `SELECT lead_id, toString(business_unit) AS business_unit, toString(source) AS source, toString(channel) AS channel, campaign,
            toString(role) AS role, toString(industry) AS industry, toString(country) AS country, company_size,
            toString(lead_source) AS lead_source, owner, toString(stage) AS stage
     FROM lead_profile FINAL WHERE config_version = {cv:String}`,
    { cv: configVersion },
  );
  return {
    transitions: byKey(
      transitions.map((r) => ({ ...r, entered_ms: Number(r.entered_ms) })),
      (r) => JSON.stringify([r.lead_id, r.stage]),
    ),
    profiles: byKey(
      profiles.map((r) => ({ ...r, company_size: Number(r.company_size) })),
      (r) => r.lead_id,
    ),
  };
}

/** `lead-<id>` -> the lead id; `anon-<id>` -> `anon~<id>` (the actor id ClickHouse keys by). */
const actorOf = (subject: string) => (subject.startsWith('lead-') ? subject.slice('lead-'.length) : `anon~${subject.slice('anon-'.length)}`);

export function projectorStageRows(projections: ProjectionStore): StageRows {
  const transitions = projections.db
    .prepare('SELECT subject, to_stage, from_stage, at, skipped, rule, event_id FROM stage_transitions')
    .all() as { subject: string; to_stage: string; from_stage: string | null; at: number; skipped: number; rule: string; event_id: string }[];
  const leads = projections.db.prepare('SELECT subject, business_unit, source, channel, campaign, profile, owner, stage FROM leads').all() as {
    subject: string;
    business_unit: string;
    source: string | null;
    channel: string | null;
    campaign: string | null;
    profile: string;
    owner: string | null;
    stage: string | null;
  }[];
  return {
    transitions: byKey(
      transitions.map((t) => ({
        lead_id: actorOf(t.subject),
        stage: t.to_stage,
        from_stage: t.from_stage ?? '',
        entered_ms: t.at,
        skipped: t.skipped === 1,
        rule: t.rule,
        event_id: t.event_id,
      })),
      (r) => JSON.stringify([r.lead_id, r.stage]),
    ),
    profiles: byKey(
      leads.map((l) => {
        const p = JSON.parse(l.profile) as { role?: string; industry?: string; country?: string; companySize?: number; leadSource?: string };
        return {
          lead_id: actorOf(l.subject),
          business_unit: l.business_unit,
          source: l.source ?? '',
          channel: l.channel ?? '',
          campaign: l.campaign ?? '',
          role: p.role ?? '',
          industry: p.industry ?? '',
          country: p.country ?? '',
          company_size: p.companySize ?? 0,
          lead_source: p.leadSource ?? '',
          owner: l.owner ?? '',
          stage: l.stage ?? '',
        };
      }),
      (r) => r.lead_id,
    ),
  };
}
