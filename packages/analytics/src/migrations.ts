import type { AnalyticsClient } from './client.js';

/**
 * Versioned schema. A migration's statements must each be idempotent
 * (IF NOT EXISTS, ADD COLUMN IF NOT EXISTS ...): ClickHouse has no DDL
 * transactions, so a crash between a statement and the version row means the
 * next run repeats the whole migration. Two processes migrating at once is
 * harmless for the same reason, and their version rows collapse.
 */
interface Migration {
  version: number;
  name: string;
  statements: readonly string[];
}

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'touchpoints, identity links, sink checkpoints',
    statements: [
      /*
       * One row per touchpoint event, as the envelope says (lead_id is the
       * envelope's leadId, '' for anonymous-only events; ownership is resolved
       * at query time, see touchpoints_resolved).
       *
       * ReplacingMergeTree: the log is delivered at least once, so the same
       * event may be inserted again (replay, crash before the checkpoint
       * moved). Every sort-key column is a function of the event, and
       * event_id is unique, so a re-delivered row has the same key and
       * collapses; queries read with FINAL, which collapses unmerged parts
       * too. The key starts with the envelope's ids and then time, so one
       * person's rows sit together and in time order, the access pattern of
       * per-person funnel folds. Partitions by month bound what a date range
       * scans; an event's month never changes, so duplicates share a
       * partition (FINAL only collapses within one).
       */
      `CREATE TABLE IF NOT EXISTS touchpoints (
        position UInt64,
        event_id String,
        stream_id String,
        type LowCardinality(String),
        lead_id String,
        anonymous_id String,
        account_id String,
        occurred_at DateTime64(3, 'UTC'),
        recorded_at DateTime64(3, 'UTC'),
        source LowCardinality(String),
        channel LowCardinality(String),
        campaign String,
        properties String,
        props Map(String, String)
      ) ENGINE = ReplacingMergeTree
      PARTITION BY toYYYYMM(occurred_at)
      ORDER BY (lead_id, anonymous_id, occurred_at, event_id)`,
      /*
       * identity_linked events, one row each. Which lead owns an anonymous
       * history is decided at query time from ALL links (the lowest position
       * wins), never by rewriting touchpoint rows: the answer then does not
       * depend on delivery order, replays or duplicates, and a late link
       * re-attributes history that was already inserted.
       */
      `CREATE TABLE IF NOT EXISTS identity_links (
        anonymous_id String,
        lead_id String,
        position UInt64,
        event_id String,
        occurred_at DateTime64(3, 'UTC')
      ) ENGINE = ReplacingMergeTree
      ORDER BY (anonymous_id, position)`,
      `CREATE VIEW IF NOT EXISTS identity_owners AS
        SELECT anonymous_id, argMin(lead_id, position) AS lead_id
        FROM identity_links
        GROUP BY anonymous_id`,
      /*
       * Touchpoints with their owner: lead_id is the lead the event names, else
       * the owner of its anonymous history, else ''. actor_id is who funnels
       * count: the lead, or 'anon~<anonymousId>' for an unclaimed visitor
       * (ANONYMOUS_ACTOR_PREFIX in @sluice/domain; '~' never occurs in ids).
       */
      `CREATE VIEW IF NOT EXISTS touchpoints_resolved AS
        SELECT
          t.position AS position, t.event_id AS event_id, t.type AS type,
          t.lead_id AS event_lead_id, t.anonymous_id AS anonymous_id, t.account_id AS account_id,
          t.occurred_at AS occurred_at, t.source AS source, t.channel AS channel, t.campaign AS campaign,
          t.properties AS properties, t.props AS props,
          if(t.lead_id != '', t.lead_id, ifNull(o.lead_id, '')) AS lead_id,
          if(t.lead_id != '', t.lead_id, if(ifNull(o.lead_id, '') != '', ifNull(o.lead_id, ''), concat('anon~', t.anonymous_id))) AS actor_id
        FROM touchpoints AS t FINAL
        LEFT JOIN identity_owners AS o ON o.anonymous_id = t.anonymous_id`,
      /* A sink's checkpoint only moves forward: the highest position wins. */
      `CREATE TABLE IF NOT EXISTS sink_checkpoints (
        name String,
        position UInt64,
        updated_at DateTime64(3, 'UTC') DEFAULT now64(3)
      ) ENGINE = ReplacingMergeTree(position)
      ORDER BY name`,
    ],
  },
  {
    version: 2,
    name: 'stage transitions, lead profiles',
    statements: [
      /*
       * One row per (rule configuration, lead, stage reached), written by the
       * projector through applyStageTransitionChanges. lead_id is the actor:
       * the lead id, or 'anon~<anonymousId>' for an anonymous subject
       * (ANONYMOUS_ACTOR_PREFIX), as in touchpoints_resolved.actor_id.
       * from_stage is '' for the first stage reached; a skipped stage has
       * skipped = true and the time of the stage that was reached.
       *
       * ReplacingMergeTree(version, is_deleted): a late, older event can move
       * a transition's time or rule, or remove it (an older disqualification),
       * so a row is a STATE of its key, not a fact. version is the log
       * position of the change: the highest wins, and a removal is a row with
       * is_deleted = 1 that wins the same way (FINAL hides deleted keys). A
       * batch applied again carries the same version and the same content, so
       * it collapses into what is there; an older batch replayed after a
       * newer one loses.
       *
       * ORDER BY (config_version, lead_id, stage) is the replacement key: one
       * row per lead and stage under each config. config_version leads because
       * every query reads exactly one config (the live one, or a what-if
       * candidate replayed side by side), so it prunes to a contiguous range;
       * then a lead's stages sit together, the shape of the per-lead pairing
       * the conversion queries do. entered_at cannot be in the key or the
       * partition: it changes for a key, and replacement only happens within
       * one key and one partition (hence no PARTITION BY on time).
       */
      `CREATE TABLE IF NOT EXISTS stage_transitions (
        config_version LowCardinality(String),
        lead_id String,
        stage LowCardinality(String),
        from_stage LowCardinality(String),
        entered_at DateTime64(3, 'UTC'),
        skipped Bool,
        rule LowCardinality(String),
        event_id String,
        version UInt64,
        is_deleted UInt8
      ) ENGINE = ReplacingMergeTree(version, is_deleted)
      ORDER BY (config_version, lead_id, stage)`,
      /*
       * The current profile of each lead under a config: what stage-level
       * queries segment and filter by (first-touch attribution, business unit
       * as the config resolves it, persona, firmographics, owner, furthest
       * stage). '' / 0 mean unknown. Written by applyLeadProfiles;
       * ReplacingMergeTree(version) keyed by (config_version, lead_id): the
       * newest snapshot (highest log position) wins, a replayed one
       * collapses. Read with FINAL.
       */
      `CREATE TABLE IF NOT EXISTS lead_profile (
        config_version LowCardinality(String),
        lead_id String,
        business_unit LowCardinality(String),
        source LowCardinality(String),
        channel LowCardinality(String),
        campaign String,
        role LowCardinality(String),
        industry LowCardinality(String),
        country LowCardinality(String),
        company_size UInt32,
        lead_source LowCardinality(String),
        owner String,
        stage LowCardinality(String),
        version UInt64
      ) ENGINE = ReplacingMergeTree(version)
      ORDER BY (config_version, lead_id)`,
    ],
  },
  {
    version: 3,
    name: 'lead profiles: account and side state',
    statements: [
      /*
       * Account-level counting and the disqualify / recycle rates need, per
       * lead, its account (the last accountId its events carried, as the
       * projector folds it) and the side state the projector holds for it
       * ('' / 'disqualified' / 'recycled', and since when). They ride on the
       * profile row because they are current state of the lead, written with
       * it at the same version. Rows written before this migration read ''
       * and 0 until the stage tables are rebuilt.
       */
      `ALTER TABLE lead_profile ADD COLUMN IF NOT EXISTS account_id String DEFAULT ''`,
      `ALTER TABLE lead_profile ADD COLUMN IF NOT EXISTS side_state LowCardinality(String) DEFAULT ''`,
      `ALTER TABLE lead_profile ADD COLUMN IF NOT EXISTS side_since DateTime64(3, 'UTC') DEFAULT 0`,
    ],
  },
  {
    version: 4,
    name: 'parked events',
    statements: [
      /*
       * What a ClickHouse follower could not apply (an event whose row the
       * server refuses, a subject whose state it cannot write), kept with the
       * reason so that the follower goes on past it and `sluice parked` can
       * list it. Keyed by follower and position: parking the same item again
       * (a replay) collapses. A rebuild retries them (followers start over).
       */
      `CREATE TABLE IF NOT EXISTS parked_events (
        follower LowCardinality(String),
        position UInt64,
        item_id String,
        item_type LowCardinality(String),
        reason String,
        parked_at DateTime64(3, 'UTC') DEFAULT now64(3)
      ) ENGINE = ReplacingMergeTree(parked_at)
      ORDER BY (follower, position, item_id)`,
    ],
  },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** Brings the schema to the latest version; returns the versions it applied (none when up to date). */
export async function migrate(client: AnalyticsClient): Promise<{ applied: number[] }> {
  await client.command(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version UInt32,
    name String,
    applied_at DateTime64(3, 'UTC') DEFAULT now64(3)
  ) ENGINE = ReplacingMergeTree
  ORDER BY version`);
  const done = new Set((await client.rows<{ version: number | string }>('SELECT DISTINCT version FROM schema_migrations')).map((r) => Number(r.version)));
  const applied: number[] = [];
  for (const m of MIGRATIONS) {
    if (done.has(m.version)) continue;
    for (const statement of m.statements) await client.command(statement);
    await client.insert('schema_migrations', [{ version: m.version, name: m.name }]);
    applied.push(m.version);
  }
  return { applied };
}

/** Versions recorded as applied, ascending. */
export async function appliedSchemaVersions(client: AnalyticsClient): Promise<number[]> {
  const rows = await client.rows<{ version: number | string }>('SELECT DISTINCT version FROM schema_migrations ORDER BY version');
  return rows.map((r) => Number(r.version));
}
