import { openFromFolded } from '@sluice/revenue';
import type { ForecastSource, OpportunityJourney } from '@sluice/revenue';
import type { OpportunityModel } from '@sluice/schemas';
import { OPPORTUNITY_TYPES } from '@sluice/schemas';
import type { AnalyticsClient } from './client.js';
import { openOpportunitiesAsOf } from './opportunity-log.js';

/**
 * Every opportunity's journey as of an instant, folded by ClickHouse with the
 * semantics of @sluice/revenue's `opportunityJourneys` (the reference; a
 * property test holds them equal): the opportunity events that occurred
 * before `beforeMs`, each id once, in (occurredAt, event id) order; an
 * opportunity from its first creation on; its first win or loss closes it and
 * later events change nothing. Its stays are the runs of one stage among the
 * creation and its stage changes (a change to the same stage is no entry),
 * each left at the next run's entry or at the close. Amount and currency are
 * the last set (a win's signed amount included), the owner the last named,
 * the segment the creation's. The account's first touch is the earliest row
 * about a person (lead or anonymous id) naming the account.
 *
 * The measures (win rates, cycles, stage flow, velocity, deal sizes) are the
 * reference's pure sums over these journeys (@sluice/revenue), so only the
 * fold of the log, the part that grows with it, runs in SQL.
 */
export async function opportunityJourneysBefore(client: AnalyticsClient, beforeMs: number): Promise<OpportunityJourney[]> {
  const rows = await client.rows<{
    opp: string;
    account: string;
    created_ms: number | string;
    close_type: string;
    closed_ms: number | string;
    amount: number;
    currency: string;
    owner: string;
    segment: string;
    first_source: string | null;
    stays: Array<[string, number | string]>;
  }>(
    `WITH
       ev AS (
         SELECT props['opportunityId'] AS opp, event_id AS id, type, toUnixTimestamp64Milli(occurred_at) AS t, account_id, props
         FROM touchpoints
         WHERE type IN {types:Array(String)} AND occurred_at < fromUnixTimestamp64Milli({before_ms:Int64}, 'UTC')
         LIMIT 1 BY event_id
       ),
       created AS (
         SELECT opp, argMin(tuple(t, id, account_id), tuple(t, id)) AS c FROM ev WHERE type = 'opportunity_created' GROUP BY opp
       ),
       after_creation AS (
         SELECT ev.opp AS opp, ev.id AS id, ev.type AS type, ev.t AS t, ev.props AS props, created.c.1 AS created_ms, created.c.3 AS account,
                ev.type = 'opportunity_created' AND ev.id = created.c.2 AS is_creation
         FROM ev INNER JOIN created ON ev.opp = created.opp
         WHERE tuple(ev.t, ev.id) >= tuple(created.c.1, created.c.2)
       ),
       closes AS (
         SELECT opp AS closed_opp, argMin(tuple(t, id, type), tuple(t, id)) AS close_key
         FROM after_creation WHERE type IN ('opportunity_won', 'opportunity_lost') GROUP BY opp
       ),
       live AS (
         SELECT a.*, closes.closed_opp AS closed_opp, closes.close_key AS close_key
         FROM after_creation AS a LEFT JOIN closes ON a.opp = closes.closed_opp
         WHERE closes.closed_opp = '' OR tuple(a.t, a.id) <= tuple(closes.close_key.1, closes.close_key.2)
       ),
       staged AS (
         SELECT opp, t, id, props['stage'] AS stage,
                stage != lagInFrame(props['stage'], 1, '') OVER (PARTITION BY opp ORDER BY t, id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS entry
         FROM live WHERE is_creation OR type = 'opportunity_stage_changed'
       ),
       stays AS (
         SELECT opp, arrayMap(x -> tuple(x.2, x.3), arraySort(x -> x.1, groupArray(tuple(run, stage, entered)))) AS stays
         FROM (
           SELECT opp, run, any(stage) AS stage, min(t) AS entered
           FROM (SELECT opp, t, stage, sum(entry) OVER (PARTITION BY opp ORDER BY t, id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS run FROM staged)
           GROUP BY opp, run
         )
         GROUP BY opp
       ),
       facts AS (
         SELECT opp, any(account) AS account, any(created_ms) AS created_ms, any(closed_opp) != '' AS closed, any(close_key) AS close_key,
                argMaxIf(tuple(toFloat64OrZero(props['amount']), props['currency']), tuple(t, id),
                         is_creation OR type = 'opportunity_amount_changed'
                         OR (type = 'opportunity_won' AND mapContains(props, 'amount') AND mapContains(props, 'currency'))) AS money,
                argMaxIf(props['ownerId'], tuple(t, id), is_creation OR type = 'opportunity_owner_changed') AS owner,
                anyIf(props['segment'], is_creation) AS segment
         FROM live GROUP BY opp
       ),
       first_touch AS (
         SELECT account_id, argMin(source, tuple(occurred_at, event_id)) AS first_source
         FROM touchpoints
         WHERE type NOT IN {types:Array(String)} AND account_id != '' AND (lead_id != '' OR anonymous_id != '')
           AND occurred_at < fromUnixTimestamp64Milli({before_ms:Int64}, 'UTC')
         GROUP BY account_id
       )
     SELECT f.opp AS opp, f.account AS account, f.created_ms AS created_ms,
            if(f.closed, f.close_key.3, '') AS close_type, if(f.closed, f.close_key.1, 0) AS closed_ms,
            f.money.1 AS amount, f.money.2 AS currency, f.owner AS owner, f.segment AS segment,
            ft.first_source AS first_source, s.stays AS stays
     FROM facts AS f
     INNER JOIN stays AS s ON f.opp = s.opp
     LEFT JOIN first_touch AS ft ON f.account = ft.account_id
     ORDER BY opp
     SETTINGS join_use_nulls = 0`,
    { types: [...OPPORTUNITY_TYPES], before_ms: beforeMs },
  );
  const orNull = (text: string | null) => (text === null || text === '' ? null : text);
  return rows.map((r) => {
    const status = r.close_type === 'opportunity_won' ? 'won' : r.close_type === 'opportunity_lost' ? 'lost' : 'open';
    const closedAtMs = status === 'open' ? null : Number(r.closed_ms);
    const entries = r.stays.map(([stage, entered]) => ({ stage, enteredAtMs: Number(entered) }));
    return {
      opportunityId: r.opp,
      accountId: r.account,
      ownerId: orNull(r.owner),
      segment: orNull(r.segment),
      firstTouchSource: orNull(r.first_source),
      createdAtMs: Number(r.created_ms),
      status,
      closedAtMs,
      amount: r.amount,
      currency: r.currency,
      // a stay ends where the next begins, or at the close
      stays: entries.map((e, i) => ({ ...e, leftAtMs: entries[i + 1]?.enteredAtMs ?? closedAtMs })),
    };
  });
}

/** What the forecast and its back-test read, folded by ClickHouse: the journeys and the open pipeline (under the stage model) as of an instant. */
export const clickHouseForecastSource = (client: AnalyticsClient, model: OpportunityModel): ForecastSource => ({
  journeysBefore: (beforeMs) => opportunityJourneysBefore(client, beforeMs),
  openAsOf: async (asOfMs) => (await openOpportunitiesAsOf(client, asOfMs)).map((f) => openFromFolded(f, asOfMs, model)),
});
