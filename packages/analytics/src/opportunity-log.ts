import type { FoldedOpenOpportunity, FoldedWaterfallSource, PipelineMovement, WaterfallGroupValues, WaterfallTermName } from '@sluice/revenue';
import { OPPORTUNITY_TYPES } from '@sluice/schemas';
import type { AnalyticsClient } from './client.js';

/**
 * The opportunity log as the revenue fold reads it, as CTEs over the rows the
 * sink wrote before {before_ms}: `ev` each event id once; `live` an
 * opportunity's events from its first creation on (earlier events and later
 * creations pass; `creation` marks the creation), ordered by (t, id) as the
 * fold orders them; `kept` the live events up to and with the first win or
 * loss (a closed deal is final; `closed` says it closed). Each step is a
 * window over the opportunity, not a join back to an earlier step: ClickHouse
 * inlines CTEs, so a join would read the table again per reference.
 */
export const OPPORTUNITY_LOG = `
       ev AS (
         SELECT props['opportunityId'] AS opp, event_id AS id, type, toUnixTimestamp64Milli(occurred_at) AS t, account_id, props
         FROM touchpoints
         WHERE type IN {types:Array(String)} AND occurred_at < fromUnixTimestamp64Milli({before_ms:Int64}, 'UTC')
         LIMIT 1 BY event_id
       ),
       keyed AS (
         SELECT *, countIf(type = 'opportunity_created') OVER o AS creations, minIf(tuple(t, id), type = 'opportunity_created') OVER o AS creation_key,
                argMinIf(account_id, tuple(t, id), type = 'opportunity_created') OVER o AS account
         FROM ev WINDOW o AS (PARTITION BY opp)
       ),
       live AS (
         SELECT opp, id, type, t, props, account, type = 'opportunity_created' AS creation
         FROM keyed
         WHERE creations > 0 AND tuple(t, id) >= creation_key AND NOT (type = 'opportunity_created' AND tuple(t, id) != creation_key)
       ),
       kept AS (
         SELECT opp, id, type, t, props, account, creation, closes > 0 AS closed
         FROM (
           SELECT *, countIf(type IN ('opportunity_won', 'opportunity_lost')) OVER o AS closes,
                  minIf(tuple(t, id), type IN ('opportunity_won', 'opportunity_lost')) OVER o AS close_key
           FROM live WINDOW o AS (PARTITION BY opp)
         )
         WHERE closes = 0 OR tuple(t, id) <= close_key
       )`;
export const logParams = (beforeMs: number) => ({ types: [...OPPORTUNITY_TYPES], before_ms: beforeMs });

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
    `WITH${OPPORTUNITY_LOG},
       open_live AS (SELECT * FROM kept WHERE NOT closed),
       staged AS (
         SELECT opp, t, id, props['stage'] AS stage, mapContains(props, 'probability') AS has_p, toFloat64OrNull(props['probability']) AS p,
                stage != lagInFrame(props['stage'], 1, '') OVER (PARTITION BY opp ORDER BY t, id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS entry
         FROM open_live WHERE creation OR type = 'opportunity_stage_changed'
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
                argMaxIf(tuple(toFloat64OrZero(props['amount']), props['currency']), tuple(t, id), creation OR type = 'opportunity_amount_changed') AS money,
                argMaxIf(props['closeDate'], tuple(t, id), creation OR type = 'opportunity_close_date_changed') AS close_date,
                argMaxIf(props['ownerId'], tuple(t, id), creation OR type = 'opportunity_owner_changed') AS owner,
                anyIf(props['businessUnit'], creation) AS business_unit,
                anyIf(props['segment'], creation) AS segment
         FROM open_live GROUP BY opp
       )
     SELECT f.opp AS opp, f.account AS account, s.stage AS stage, s.entered_ms AS entered_ms, s.probability AS probability,
            f.money.1 AS amount, f.money.2 AS currency, f.close_date AS close_date, f.owner AS owner, f.business_unit AS business_unit, f.segment AS segment
     FROM facts AS f INNER JOIN stage_now AS s ON f.opp = s.opp
     ORDER BY opp`,
    logParams(asOfMs),
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

/**
 * The movements of the pipeline of [fromMs, toMs) (open deals whose close
 * date lies in it), walked by ClickHouse with the semantics of
 * @sluice/revenue's waterfall (its reference; a property test holds them
 * equal): each opportunity's events in order, the state after each (last
 * amount and currency, last close date, a win moving it to the win, closed
 * by the first win or loss), and for each event in the period what it did:
 * created or pulled in, pushed out, amount up or down (a currency change is
 * the old amount down and the new up), lost, or for a win pulled in when its
 * close date lay outside, the signed amount's change, then won.
 */
export async function waterfallMovements(client: AnalyticsClient, fromMs: number, toMs: number): Promise<PipelineMovement[]> {
  const rows = await client.rows<{ opp: string; account: string; term: WaterfallTermName; currency: string; amount: number }>(
    `WITH${OPPORTUNITY_LOG},
       setting AS (
         SELECT *, type = 'opportunity_won' AND mapContains(props, 'amount') AND mapContains(props, 'currency') AS signed,
                if(creation OR type = 'opportunity_amount_changed' OR signed, toFloat64OrZero(props['amount']), NULL) AS set_amount,
                if(creation OR type = 'opportunity_amount_changed' OR signed, props['currency'], NULL) AS set_currency,
                multiIf(creation OR type = 'opportunity_close_date_changed', toUnixTimestamp64Milli(parseDateTime64BestEffort(props['closeDate'], 3, 'UTC')),
                        type = 'opportunity_won', t, NULL) AS set_close
         FROM kept
       ),
       walked AS (
         SELECT opp, id, type, t, account, creation, signed, set_amount, set_currency,
                anyLast(set_amount) OVER w AS a_amount, anyLast(set_currency) OVER w AS a_currency, anyLast(set_close) OVER w AS a_close
         FROM setting
         WINDOW w AS (PARTITION BY opp ORDER BY t, id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
       ),
       stepped AS (
         SELECT *, type NOT IN ('opportunity_won', 'opportunity_lost') AND a_close >= {from_ms:Int64} AND a_close < {to_ms:Int64} AS a_in,
                lagInFrame(a_amount) OVER w AS b_amount, lagInFrame(a_currency) OVER w AS b_currency,
                lagInFrame(a_close) OVER w AS b_close
         FROM walked
         WINDOW w AS (PARTITION BY opp ORDER BY t, id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
       ),
       moved AS (
         SELECT opp, account, t, type, creation, a_in, a_amount, a_currency, b_amount, b_currency,
                NOT creation AND b_close >= {from_ms:Int64} AND b_close < {to_ms:Int64} AS b_in,
                set_amount AS w_amount, set_currency AS w_currency, signed
         FROM stepped
         WHERE t >= {from_ms:Int64}
       )
     SELECT opp, account, m.1 AS term, m.2 AS currency, m.3 AS amount
     FROM moved
     ARRAY JOIN multiIf(
       creation, if(a_in, [tuple('created', a_currency, a_amount)], []),
       type = 'opportunity_won', arrayConcat(
         if(b_in, [], [tuple('pulledIn', b_currency, b_amount)]),
         if(NOT signed OR (w_amount = b_amount AND w_currency = b_currency), [],
            if(w_currency = b_currency, [tuple(if(w_amount > b_amount, 'amountUp', 'amountDown'), w_currency, abs(w_amount - b_amount))],
               [tuple('amountDown', b_currency, b_amount), tuple('amountUp', w_currency, w_amount)])),
         [tuple('won', a_currency, a_amount)]),
       type = 'opportunity_lost', if(b_in, [tuple('lost', b_currency, b_amount)], []),
       NOT b_in AND a_in, [tuple('pulledIn', a_currency, a_amount)],
       b_in AND NOT a_in, [tuple('pushedOut', b_currency, b_amount)],
       b_in AND a_in AND b_currency != a_currency, [tuple('amountDown', b_currency, b_amount), tuple('amountUp', a_currency, a_amount)],
       b_in AND a_in AND a_amount != b_amount, [tuple(if(a_amount > b_amount, 'amountUp', 'amountDown'), a_currency, abs(a_amount - b_amount))],
       []) AS m
     ORDER BY opp, t`,
    { ...logParams(toMs), from_ms: fromMs, to_ms: toMs },
  );
  return rows.map((r) => ({ opportunityId: r.opp, accountId: r.account, term: r.term, currency: r.currency, amount: r.amount }));
}

/** What each opportunity created before `beforeMs` is grouped by as of then: its last owner (up to its close), its creation's unit and segment. */
export async function opportunityGroupsAsOf(client: AnalyticsClient, beforeMs: number): Promise<Map<string, WaterfallGroupValues>> {
  const rows = await client.rows<{ opp: string; owner: string; business_unit: string; segment: string }>(
    `WITH${OPPORTUNITY_LOG}
     SELECT opp, argMaxIf(props['ownerId'], tuple(t, id), creation OR type = 'opportunity_owner_changed') AS owner,
            anyIf(props['businessUnit'], creation) AS business_unit, anyIf(props['segment'], creation) AS segment
     FROM kept GROUP BY opp`,
    logParams(beforeMs),
  );
  const orNull = (text: string) => (text === '' ? null : text);
  return new Map(rows.map((r) => [r.opp, { ownerId: orNull(r.owner), businessUnit: orNull(r.business_unit), segment: orNull(r.segment) }]));
}

/** ClickHouse as the waterfall's source: what @sluice/revenue assembles a waterfall from. */
export const clickHouseWaterfallSource = (client: AnalyticsClient): FoldedWaterfallSource => ({
  openAsOf: (asOfMs) => openOpportunitiesAsOf(client, asOfMs),
  movements: (fromMs, toMs) => waterfallMovements(client, fromMs, toMs),
  groupsAsOf: (beforeMs) => opportunityGroupsAsOf(client, beforeMs),
});
