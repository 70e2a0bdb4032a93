import type { FoldedOpenOpportunity } from '@sluice/revenue';
import type { SluiceEvent } from '@sluice/schemas';
import { OPPORTUNITY_TYPES } from '@sluice/schemas';
import type { AnalyticsClient } from './client.js';

/**
 * The opportunity events the touchpoint sink has written to ClickHouse that
 * occurred before `beforeMs`, as the events they were: the input of the
 * revenue fold (@sluice/revenue), which computes the pipeline and the
 * waterfall from them. Read without FINAL: a row delivered twice is the same
 * event id, which the fold counts once. The instant comes back in UTC (the
 * offset the producer wrote is not kept; the instant is).
 */
export async function readOpportunityEvents(client: AnalyticsClient, beforeMs: number): Promise<SluiceEvent[]> {
  const rows = await client.rows<{ event_id: string; type: string; at_ms: number | string; account_id: string; properties: string }>(
    `SELECT event_id, type, toUnixTimestamp64Milli(occurred_at) AS at_ms, account_id, properties
     FROM touchpoints
     WHERE type IN {types:Array(String)} AND occurred_at < fromUnixTimestamp64Milli({before_ms:Int64}, 'UTC')`,
    { types: [...OPPORTUNITY_TYPES], before_ms: beforeMs },
  );
  return rows.map(
    (r) =>
      ({
        id: r.event_id,
        type: r.type,
        occurredAt: new Date(Number(r.at_ms)).toISOString(),
        accountId: r.account_id,
        properties: JSON.parse(r.properties) as unknown,
      }) as SluiceEvent,
  );
}

/**
 * The open opportunities as of an instant, folded by ClickHouse with the
 * semantics of @sluice/revenue's fold (its reference; a property test holds
 * them equal): events before `asOfMs`, each id once, ordered by (occurredAt,
 * event id); an opportunity from its first creation on (earlier events and
 * later creations pass); closed, and so left out, by any win or loss after
 * it. Its stage is the last set; it entered it at the first event of the last
 * run of that stage (a change to the same stage is no entry), at the last
 * probability an event of that run gave. Amount and currency, close date and
 * owner are the last set; unit and segment the creation's.
 */
export async function openOpportunitiesAsOf(client: AnalyticsClient, asOfMs: number): Promise<FoldedOpenOpportunity[]> {
  const rows = await client.rows<{
    opp: string;
    account: string;
    stage: string;
    entered_ms: number | string;
    probability: number | null;
    amount: number;
    currency: string;
    close_date: string;
    owner: string;
    business_unit: string;
    segment: string;
  }>(
    `WITH
       ev AS (
         SELECT props['opportunityId'] AS opp, event_id AS id, type, toUnixTimestamp64Milli(occurred_at) AS t, account_id, props
         FROM touchpoints
         WHERE type IN {types:Array(String)} AND occurred_at < fromUnixTimestamp64Milli({as_of_ms:Int64}, 'UTC')
         LIMIT 1 BY event_id
       ),
       created AS (
         SELECT opp, argMin(tuple(t, id, account_id), tuple(t, id)) AS c FROM ev WHERE type = 'opportunity_created' GROUP BY opp
       ),
       live AS (
         SELECT ev.opp AS opp, ev.id AS id, ev.type AS type, ev.t AS t, ev.props AS props, created.c.3 AS account,
                ev.type = 'opportunity_created' AND ev.id = created.c.2 AS is_creation
         FROM ev INNER JOIN created ON ev.opp = created.opp
         WHERE tuple(ev.t, ev.id) >= tuple(created.c.1, created.c.2)
       ),
       open_live AS (
         SELECT * FROM live WHERE opp NOT IN (SELECT opp FROM live WHERE type IN ('opportunity_won', 'opportunity_lost'))
       ),
       staged AS (
         SELECT opp, t, id, props['stage'] AS stage, mapContains(props, 'probability') AS has_p, toFloat64OrNull(props['probability']) AS p,
                stage != lagInFrame(props['stage'], 1, '') OVER (PARTITION BY opp ORDER BY t, id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS entry
         FROM open_live WHERE is_creation OR type = 'opportunity_stage_changed'
       ),
       runs AS (
         SELECT opp, t, id, stage, has_p, p, sum(entry) OVER (PARTITION BY opp ORDER BY t, id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS run
         FROM staged
       ),
       stage_now AS (
         SELECT opp, any(stage) AS stage, min(t) AS entered_ms, argMaxIf(p, tuple(t, id), has_p) AS probability
         FROM (SELECT *, max(run) OVER (PARTITION BY opp) AS last_run FROM runs) WHERE run = last_run
         GROUP BY opp
       ),
       facts AS (
         SELECT opp, any(account) AS account,
                argMaxIf(tuple(toFloat64OrZero(props['amount']), props['currency']), tuple(t, id), is_creation OR type = 'opportunity_amount_changed') AS money,
                argMaxIf(props['closeDate'], tuple(t, id), is_creation OR type = 'opportunity_close_date_changed') AS close_date,
                argMaxIf(props['ownerId'], tuple(t, id), is_creation OR type = 'opportunity_owner_changed') AS owner,
                anyIf(props['businessUnit'], is_creation) AS business_unit,
                anyIf(props['segment'], is_creation) AS segment
         FROM open_live GROUP BY opp
       )
     SELECT f.opp AS opp, f.account AS account, s.stage AS stage, s.entered_ms AS entered_ms, s.probability AS probability,
            f.money.1 AS amount, f.money.2 AS currency, f.close_date AS close_date, f.owner AS owner, f.business_unit AS business_unit, f.segment AS segment
     FROM facts AS f INNER JOIN stage_now AS s ON f.opp = s.opp
     ORDER BY opp`,
    { types: [...OPPORTUNITY_TYPES], as_of_ms: asOfMs },
  );
  const orNull = (text: string) => (text === '' ? null : text);
  return rows.map((r) => ({
    opportunityId: r.opp,
    accountId: r.account,
    stage: r.stage,
    enteredMs: Number(r.entered_ms),
    probability: r.probability,
    amount: r.amount,
    currency: r.currency,
    closeDate: r.close_date,
    ownerId: orNull(r.owner),
    businessUnit: orNull(r.business_unit),
    segment: orNull(r.segment),
  }));
}
