import { openFromFolded } from '@sluice/revenue';
import type { ForecastSource, OpportunityJourney } from '@sluice/revenue';
import type { OpportunityModel } from '@sluice/schemas';
import type { AnalyticsClient } from './client.js';
import { OPPORTUNITY_LOG, logParams, openOpportunitiesAsOf } from './opportunity-log.js';

/**
 * Every opportunity's journey as of an instant, folded by ClickHouse with the
 * semantics of @sluice/revenue's `opportunityJourneys` (the reference; a
 * property test holds them equal), over the opportunity log as the pipeline
 * reads it (OPPORTUNITY_LOG: each id once, from the first creation on, up to
 * and with the first win or loss, in (occurredAt, event id) order). Its stays
 * are the runs of one stage among the creation and its stage changes (a
 * change to the same stage is no entry), each left at the next run's entry
 * or at the close. Amount and currency are the last set (a win's signed
 * amount included), the owner the last named, the segment the creation's.
 * One pass over the log: the stage before each event is a window over the
 * opportunity, not a join (ClickHouse would read the table again). The
 * account's first touch is the earliest row about a person (lead or
 * anonymous id) naming the account.
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
    `WITH ${OPPORTUNITY_LOG},
       staged AS (
         SELECT *, if(creation OR type = 'opportunity_stage_changed', props['stage'], NULL) AS stage_set,
                anyLast(stage_set) OVER (PARTITION BY opp ORDER BY t, id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS stage_before
         FROM kept
       ),
       facts AS (
         SELECT opp, any(account) AS account, minIf(t, creation) AS created_ms, any(closed) AS closed,
                argMaxIf(tuple(t, type), tuple(t, id), type IN ('opportunity_won', 'opportunity_lost')) AS close,
                argMaxIf(tuple(toFloat64OrZero(props['amount']), props['currency']), tuple(t, id),
                         creation OR type = 'opportunity_amount_changed'
                         OR (type = 'opportunity_won' AND mapContains(props, 'amount') AND mapContains(props, 'currency'))) AS money,
                argMaxIf(props['ownerId'], tuple(t, id), creation OR type = 'opportunity_owner_changed') AS owner,
                anyIf(props['segment'], creation) AS segment,
                arrayMap(x -> tuple(x.3, x.1), arraySort(x -> tuple(x.1, x.2),
                  groupArrayIf(tuple(t, id, assumeNotNull(stage_set)), stage_set IS NOT NULL AND ifNull(stage_before, '') != stage_set))) AS stays
         FROM staged GROUP BY opp
       ),
       first_touch AS (
         SELECT account_id, argMin(source, tuple(occurred_at, event_id)) AS first_source
         FROM touchpoints
         WHERE type NOT IN {types:Array(String)} AND account_id != '' AND (lead_id != '' OR anonymous_id != '')
           AND occurred_at < fromUnixTimestamp64Milli({before_ms:Int64}, 'UTC')
         GROUP BY account_id
       )
     SELECT f.opp AS opp, f.account AS account, f.created_ms AS created_ms,
            if(f.closed, f.close.2, '') AS close_type, if(f.closed, f.close.1, 0) AS closed_ms,
            f.money.1 AS amount, f.money.2 AS currency, f.owner AS owner, f.segment AS segment,
            ft.first_source AS first_source, f.stays AS stays
     FROM facts AS f
     LEFT JOIN first_touch AS ft ON f.account = ft.account_id
     ORDER BY opp
     SETTINGS join_use_nulls = 0`,
    logParams(beforeMs),
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
