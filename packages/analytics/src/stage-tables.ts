import type { LeadLifecycleFacts, LeadProfileFacts, LeadProfileSource, StageTransition } from '@sluice/domain';
import { actorIdFor } from '@sluice/domain';
import type { AnalyticsClient } from './client.js';
import { clickhouseDateTime } from './client.js';

/**
 * What the projector writes for stage-level analytics: stage transitions and
 * lead profiles (tables in migrations.ts, version 2). Both writes are
 * idempotent: a row carries the log position that produced it as its
 * version, the highest version of a key wins, and applying a batch again
 * (at-least-once delivery, a crash before the projector's checkpoint moved)
 * writes rows equal to the ones already there. Queries read with FINAL.
 *
 * Contract for callers: a version names one batch's content. Re-applying a
 * version must carry the same changes (a replay of the same log under the same
 * config does), and a later batch must carry a higher version (the log
 * position of its last event does).
 */

export interface StageTransitionChanges {
  /** Transitions that appeared or changed (time, rule, skipped, ...). */
  upserts: readonly StageTransition[];
  /** Transitions that no longer hold (e.g. an older disqualification arrived late). */
  removals: readonly StageTransition[];
  /** Log position that produced these changes (the batch's last event). */
  version: number;
}

interface StageTransitionRow {
  config_version: string;
  lead_id: string;
  stage: string;
  from_stage: string;
  entered_at: string;
  skipped: boolean;
  rule: string;
  event_id: string;
  version: number;
  is_deleted: 0 | 1;
}

function checkVersion(version: number): void {
  if (!Number.isSafeInteger(version) || version < 0) throw new RangeError(`version must be a non-negative integer (a log position), got ${String(version)}`);
}

function transitionRow(t: StageTransition, version: number, deleted: boolean): StageTransitionRow {
  if (!Number.isFinite(t.at)) throw new RangeError(`transition ${t.to} of ${t.leadId ?? t.anonymousId ?? '?'} has no valid time: ${String(t.at)}`);
  return {
    config_version: t.configVersion,
    lead_id: actorIdFor(t.leadId, t.anonymousId),
    stage: t.to,
    from_stage: t.from ?? '',
    entered_at: clickhouseDateTime(t.at),
    skipped: t.skipped,
    rule: t.rule,
    event_id: t.eventId,
    version,
    is_deleted: deleted ? 1 : 0,
  };
}

/**
 * Writes one batch of transition changes (one insert, so a batch lands whole).
 * A key ((config, lead, stage)) may appear once per batch: twice with different
 * content (or as both upsert and removal) has no defined winner at one
 * version, so it is refused; pass the net change (transitionChanges between
 * the batch's first and last state).
 */
export async function applyStageTransitionChanges(client: AnalyticsClient, changes: StageTransitionChanges): Promise<void> {
  checkVersion(changes.version);
  const rows = new Map<string, StageTransitionRow>();
  const add = (row: StageTransitionRow) => {
    const key = JSON.stringify([row.config_version, row.lead_id, row.stage]);
    const known = rows.get(key);
    if (known === undefined) rows.set(key, row);
    else if (JSON.stringify(known) !== JSON.stringify(row)) {
      throw new Error(`conflicting changes for stage ${row.stage} of ${row.lead_id} (config ${row.config_version}) in one batch: pass one net change per lead and stage`);
    }
  };
  for (const t of changes.upserts) add(transitionRow(t, changes.version, false));
  for (const t of changes.removals) add(transitionRow(t, changes.version, true));
  await client.insert('stage_transitions', [...rows.values()]);
}

/**
 * Sets the complete transitions of each actor under a config, at a version:
 * `transitions` are upserted, and every other stage ClickHouse holds for the
 * actor at this version or below is removed (an actor with none, e.g. an
 * anonymous history merged into a lead, loses them all). For a follower that
 * copies whole subjects rather than changes. Idempotent: applying it again
 * writes equal rows; a key written at a higher version is never touched. At
 * the same version the later write wins (ClickHouse keeps the last inserted
 * of equal versions), which is what a rebuild of the same log under changed
 * rules of the same version label needs.
 */
export async function replaceActorTransitions(
  client: AnalyticsClient,
  replace: {
    configVersion: string;
    actors: ReadonlyArray<{ leadId: string | undefined; anonymousId: string | undefined; transitions: readonly StageTransition[] }>;
    version: number;
    /** the caller knows ClickHouse holds no transition of these actors under the config (a first pass into an empty config): nothing to remove */
    noneHeld?: boolean;
  },
): Promise<void> {
  checkVersion(replace.version);
  const upserts = replace.actors.flatMap((a) => a.transitions);
  for (const t of upserts) {
    if (t.configVersion !== replace.configVersion) throw new Error(`transition ${t.to} of ${actorIdFor(t.leadId, t.anonymousId)} is under config ${t.configVersion}, not ${replace.configVersion}`);
  }
  await applyStageTransitionChanges(client, { upserts, removals: [], version: replace.version });
  if (replace.noneHeld === true) return;
  await removeTransitionsExcept(client, {
    configVersion: replace.configVersion,
    actors: replace.actors.map((a) => actorIdFor(a.leadId, a.anonymousId)),
    keep: upserts.map((t) => [actorIdFor(t.leadId, t.anonymousId), t.to]),
    version: replace.version,
  });
}

/**
 * Writes a removal at `version` for every current key of the actors written
 * at that version or an older one, except the
 * (actor, stage) pairs in `keep`. One INSERT ... SELECT, so nothing travels
 * through this process; `keep` is a set (NOT IN a subquery), not an array
 * searched once per row, which grew with the square of the page.
 */
async function removeTransitionsExcept(
  client: AnalyticsClient,
  remove: { configVersion: string; actors: readonly string[]; keep: ReadonlyArray<readonly [string, string]>; version: number },
): Promise<void> {
  if (remove.actors.length === 0) return;
  await client.command(
    `INSERT INTO stage_transitions (config_version, lead_id, stage, from_stage, entered_at, skipped, rule, event_id, version, is_deleted)
     SELECT config_version, lead_id, stage, from_stage, entered_at, skipped, rule, event_id, {version:UInt64}, 1
     FROM stage_transitions FINAL
     WHERE config_version = {config_version:String} AND lead_id IN {actors:Array(String)} AND is_deleted = 0 AND version < {below:UInt64}
       AND (lead_id, toString(stage)) NOT IN (SELECT pair.1, pair.2 FROM (SELECT arrayJoin(arrayZip({keep_actors:Array(String)}, {keep_stages:Array(String)})) AS pair))`,
    {
      version: remove.version,
      below: remove.version + 1,
      config_version: remove.configVersion,
      actors: remove.actors,
      keep_actors: remove.keep.map(([actor]) => actor),
      keep_stages: remove.keep.map(([, stage]) => stage),
    },
  );
}

/** A lead's profile row: the segments of stage-level queries, and what account-level counting and side-state rates read. */
export interface LeadProfileRow extends LeadProfileFacts, Partial<LeadLifecycleFacts> {
  /** The actor id: the lead id, or `anon~<anonymousId>`. */
  leadId: string;
  configVersion: string;
}

/** The profile row of a lead snapshot (attribution is first touch; '' and 0 for unknown). */
export function leadProfileOf(snapshot: LeadProfileSource): LeadProfileRow {
  return {
    leadId: actorIdFor(snapshot.leadId, snapshot.anonymousId),
    configVersion: snapshot.configVersion,
    businessUnit: snapshot.businessUnit,
    source: snapshot.attribution.source ?? '',
    channel: snapshot.attribution.channel ?? '',
    campaign: snapshot.attribution.campaign ?? '',
    role: snapshot.profile.role ?? '',
    industry: snapshot.profile.industry ?? '',
    country: snapshot.profile.country ?? '',
    companySize: snapshot.profile.companySize ?? 0,
    leadSource: snapshot.profile.leadSource ?? '',
    owner: snapshot.owner ?? '',
    currentStage: snapshot.stage ?? '',
    accountId: snapshot.accountId ?? '',
    sideState: snapshot.sideState?.state ?? '',
    sideSinceMs: snapshot.sideState?.since ?? 0,
  };
}

/**
 * Writes profile rows at a version (the log position of the newest event they
 * reflect). A lead listed twice: the later row in `rows` wins, since at one
 * version ClickHouse would keep either.
 */
export async function applyLeadProfiles(client: AnalyticsClient, rows: readonly LeadProfileRow[], version: number): Promise<void> {
  checkVersion(version);
  const latest = new Map<string, LeadProfileRow>();
  for (const r of rows) latest.set(JSON.stringify([r.configVersion, r.leadId]), r);
  await client.insert(
    'lead_profile',
    [...latest.values()].map((r) => {
      if (!Number.isSafeInteger(r.companySize) || r.companySize < 0) throw new RangeError(`companySize of ${r.leadId} must be a non-negative integer (0 = unknown), got ${String(r.companySize)}`);
      return {
        config_version: r.configVersion,
        lead_id: r.leadId,
        business_unit: r.businessUnit,
        source: r.source,
        channel: r.channel,
        campaign: r.campaign,
        role: r.role,
        industry: r.industry,
        country: r.country,
        company_size: r.companySize,
        lead_source: r.leadSource,
        owner: r.owner,
        stage: r.currentStage,
        account_id: r.accountId ?? '',
        side_state: r.sideState ?? '',
        side_since: clickhouseDateTime(r.sideSinceMs ?? 0),
        version,
      };
    }),
  );
}
