import type { AnalyticsClient } from '@sluice/analytics';

/**
 * A funnel-shaped touchpoint log for `pnpm bench funnel`, generated inside
 * ClickHouse: INSERT ... SELECT over numbers() with cityHash64 of (actor,
 * salt) as the pseudo-randomness. Writing tens of millions of events through
 * the event store, projector and sink (or even shipping the demo generator's
 * rows as JSON) takes hours; this writes millions of rows a second, and the
 * same actor number always gives the same journey, so a bigger size is the
 * smaller one plus more actors.
 *
 * It fills the tables the product reads, with the columns the sink and the
 * projector write: touchpoints, identity_links, stage_transitions and
 * lead_profile, all derived from one per-actor journey so they agree.
 *
 * A journey: a first visit somewhere in the 12 months from START_MS, then
 * form_submit -> demo_requested -> sales_accepted -> payment with drop-off
 * after each (12%, 45%, 45%, 30% go on; 1 to 14 days apart, skewed short),
 * plus repeat visits, page views and, for leads, e-mail opens spread over the
 * journey. An actor who never submits a form stays an anonymous visitor
 * (anonymousId only, ~88%); one who does is a lead: anonymous before the form,
 * both ids on it (plus an identity link), leadId only after. Stage facts
 * (visitor, lead, mql, sql, customer) sit at the step events' times; nobody
 * skips a stage. Step events never share a millisecond with each other.
 */

export const START_MS = Date.UTC(2025, 0, 1);
export const MONTHS = 12;
export const CONFIG_VERSION = 'bench-funnel-1';
/** The journey's steps and the stage each one enters, in order. */
export const STEP_TYPES = ['visit', 'form_submit', 'demo_requested', 'sales_accepted', 'payment'] as const;
export const STAGES = ['visitor', 'lead', 'mql', 'sql', 'customer'] as const;

const DAY_MS = 86_400_000;
/** Positions are actor * SLOTS + event index: room for every event of a journey and its identity link. */
const SLOTS = 32;
const LINK_SLOT = SLOTS - 1;

const list = (values: readonly string[]) => `[${values.map((v) => `'${v}'`).join(', ')}]`;
/** A uniform number in [0, 1) fixed by the actor and a salt. */
const uniform = (salt: number) => `(cityHash64(a, ${salt}) % 1000000) / 1000000`;
/** One of `values`, fixed by the actor and a salt. */
const pick = (values: readonly string[], salt: number) => `${list(values)}[1 + cityHash64(a, ${salt}) % ${values.length}]`;
const gap = (salt: number) => `toInt64(60000 + pow(${uniform(salt)}, 2) * ${14 * DAY_MS})`;

const CHANNELS = ['paid_search', 'organic_search', 'social', 'referral', 'email', 'direct'];
const SOURCES = ['google', 'bing', 'linkedin', 'partner', 'newsletter', 'direct'];

/** The columns of actors first..first+count-1 that every table derives from. */
function actorsSql(first: number, count: number): string {
  return `
    SELECT number AS a,
      ${uniform(1)} < 0.12 AS r2, r2 AND ${uniform(2)} < 0.45 AS r3, r3 AND ${uniform(3)} < 0.45 AS r4, r4 AND ${uniform(4)} < 0.3 AS r5,
      toUInt8(1 + r2 + r3 + r4 + r5) AS depth,
      depth >= 2 AS is_lead,
      concat('lead-', toString(a)) AS lead, concat('anon-', toString(a)) AS anon,
      toInt64(${START_MS} + ${uniform(5)} * ${365 * DAY_MS}) AS t0,
      arrayCumSum([t0, ${gap(6)}, ${gap(7)}, ${gap(8)}, ${gap(9)}]) AS step_ms,
      toUInt64(step_ms[depth] - t0 + ${7 * DAY_MS}) AS span,
      toUInt8(floor(pow(${uniform(10)}, 3) * 4)) AS repeat_visits,
      toUInt8(floor(${uniform(11)} * 7)) AS page_views,
      toUInt8(if(is_lead, floor(${uniform(12)} * 4), 0)) AS email_opens,
      1 + cityHash64(a, 20) % ${CHANNELS.length} AS channel_index,
      ${list(CHANNELS)}[channel_index] AS channel, ${list(SOURCES)}[channel_index] AS source,
      concat(channel, '-', toString(toYear(fromUnixTimestamp64Milli(t0, 'UTC'))), 'q', toString(toQuarter(fromUnixTimestamp64Milli(t0, 'UTC')))) AS campaign
    FROM numbers(${first}, ${count})`;
}

function touchpointsSql(first: number, count: number): string {
  const later = (salt: number, from: string) => `${from} + 1 + toInt64(cityHash64(a, ${salt} + i) % span)`;
  const path = `${list(['/pricing', '/product', '/blog', '/docs', '/'])}[1 + cityHash64(a, 30, idx) % 5]`;
  return `
    INSERT INTO touchpoints (position, event_id, stream_id, type, lead_id, anonymous_id, account_id, occurred_at, recorded_at, source, channel, campaign, properties, props)
    SELECT a * ${SLOTS} + idx - 1 AS position, concat('e', toString(position)) AS event_id,
      if(lead_id != '', lead_id, anonymous_id) AS stream_id, ev.1 AS type,
      -- a lead is anonymous until its form, named on it, and known by leadId only after
      if(is_lead AND ev.2 >= step_ms[2], lead, '') AS lead_id,
      if(is_lead AND ev.2 > step_ms[2], '', anon) AS anonymous_id,
      if(is_lead, concat('acct-', toString(a % 50000)), '') AS account_id,
      fromUnixTimestamp64Milli(ev.2, 'UTC') AS occurred_at, fromUnixTimestamp64Milli(ev.2 + 1000, 'UTC') AS recorded_at,
      source, channel, campaign,
      if(type = 'page_view', concat('{"path":"', ${path}, '"}'), '{}') AS properties,
      if(type = 'page_view', map('path', ${path}), CAST(map(), 'Map(String, String)')) AS props
    FROM (
      SELECT *, arrayConcat(
        -- the step events come first, so a step's position is a * SLOTS + its index
        arrayZip(arraySlice(${list(STEP_TYPES)}, 1, depth), arraySlice(step_ms, 1, depth)),
        arrayMap(i -> ('visit', ${later(100, 't0')}), range(repeat_visits)),
        arrayMap(i -> ('page_view', ${later(200, 't0')}), range(page_views)),
        arrayMap(i -> ('email_open', ${later(300, 'step_ms[2]')}), range(email_opens))
      ) AS events
      FROM (${actorsSql(first, count)})
    )
    ARRAY JOIN events AS ev, arrayEnumerate(events) AS idx`;
}

function identityLinksSql(first: number, count: number): string {
  return `
    INSERT INTO identity_links (anonymous_id, lead_id, position, event_id, occurred_at)
    SELECT anon, lead, a * ${SLOTS} + ${LINK_SLOT}, concat('link-', toString(a)), fromUnixTimestamp64Milli(step_ms[2], 'UTC')
    FROM (${actorsSql(first, count)})
    WHERE is_lead`;
}

function stageTransitionsSql(first: number, count: number): string {
  return `
    INSERT INTO stage_transitions (config_version, lead_id, stage, from_stage, entered_at, skipped, rule, event_id, version, is_deleted)
    SELECT '${CONFIG_VERSION}', if(is_lead, lead, concat('anon~', anon)), ${list(STAGES)}[k], if(k = 1, '', ${list(STAGES)}[k - 1]),
      fromUnixTimestamp64Milli(step_ms[k], 'UTC'), false, concat(${list(STAGES)}[k], '.bench'),
      concat('e', toString(a * ${SLOTS} + k - 1)), a * ${SLOTS} + k - 1, 0
    FROM (${actorsSql(first, count)})
    ARRAY JOIN range(1, depth + 1) AS k`;
}

function leadProfilesSql(first: number, count: number): string {
  return `
    INSERT INTO lead_profile (config_version, lead_id, business_unit, source, channel, campaign, role, industry, country, company_size, lead_source, owner, stage, version)
    SELECT '${CONFIG_VERSION}', lead, ${pick(['smb', 'enterprise', 'partners'], 40)}, source, channel, campaign,
      ${pick(['marketing', 'sales', 'engineering', 'finance', 'operations'], 41)}, ${pick(['software', 'retail', 'manufacturing', 'finance', 'health'], 42)},
      ${pick(['DE', 'US', 'GB', 'FR', 'NL', 'SG'], 43)}, toUInt32(1 + pow(${uniform(44)}, 3) * 10000), 'inbound',
      if(depth >= 3, concat('owner-', toString(cityHash64(a, 45) % 40)), ''), ${list(STAGES)}[depth], a * ${SLOTS} + depth - 1
    FROM (${actorsSql(first, count)})
    WHERE is_lead`;
}

/** The tables the generator fills: every one the funnel and stage queries read. */
export const LOG_TABLES = ['touchpoints', 'identity_links', 'stage_transitions', 'lead_profile'] as const;

async function countOf(client: AnalyticsClient, table: (typeof LOG_TABLES)[number]): Promise<number> {
  const [row] = await client.rows<{ n: number | string }>(`SELECT count() AS n FROM ${table}`);
  return Number(row?.n ?? 0);
}

export interface GeneratedLog {
  actors: number;
  events: number;
  leads: number;
  stageFacts: number;
}

/** Actors per INSERT: big enough that ClickHouse works in large blocks, small enough to show progress. */
const MAX_CHUNK_ACTORS = 500_000;

/**
 * Adds actors after `from.actors` until the log holds at least `targetEvents`
 * touchpoints (overshooting by at most a chunk's tail), printing progress.
 */
export async function growLog(client: AnalyticsClient, from: GeneratedLog, targetEvents: number, progress: (line: string) => void): Promise<GeneratedLog> {
  let { actors, events } = from;
  const started = performance.now();
  while (events < targetEvents) {
    const perActor = actors === 0 ? 5 : events / actors;
    // 1% past the target: an estimate that falls short by a few events would cost one more round of inserts
    const chunk = Math.min(MAX_CHUNK_ACTORS, Math.max(1000, Math.ceil((1.01 * targetEvents - events) / perActor)));
    for (const sql of [touchpointsSql, identityLinksSql, stageTransitionsSql, leadProfilesSql]) await client.command(sql(actors, chunk));
    actors += chunk;
    events = await countOf(client, 'touchpoints');
    const seconds = (performance.now() - started) / 1000;
    progress(`  ${events.toLocaleString('en-US')} / ${targetEvents.toLocaleString('en-US')} events (${Math.min(100, (100 * events) / targetEvents).toFixed(0)}%), ${actors.toLocaleString('en-US')} actors, ${seconds.toFixed(0)} s`);
  }
  // One part per partition, as if background merges had settled: each size is
  // measured on the same layout rather than on however many parts the inserts
  // and the merges running at that moment happened to leave.
  progress('  merging parts ...');
  for (const table of LOG_TABLES) await client.command(`OPTIMIZE TABLE ${table} FINAL`);
  return { actors, events, leads: await countOf(client, 'lead_profile'), stageFacts: await countOf(client, 'stage_transitions') };
}
