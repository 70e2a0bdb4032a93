import { clickHouseForecastSource, parseWith } from '@sluice/analytics';
import type { EventStore } from '@sluice/event-store';
import { ForecastQuerySchema, answerForecast } from '@sluice/revenue';
import type { ForecastAnswer } from '@sluice/revenue';
import { formatTable, printJson } from '../output.js';
import type { Settings } from '../settings.js';
import { getQuery, withEmbeddedAnalytics } from './analytics-engine.js';
import { defined, instantOf, invalidQueryError } from './query-flags.js';

/**
 * `sluice forecast --period 2026-Q3 [--backtest N]`: GET /v1/forecast from a
 * running server (--url), or on the data directory, its ClickHouse caught up
 * with the log first; periods are read in the business time zone.
 */

export interface ForecastFlags {
  period?: string | undefined;
  backtest?: string | undefined;
  seed?: string | undefined;
  runs?: string | undefined;
  'as-of'?: string | undefined;
  url?: string | undefined;
}

/** Issues name the flag the user typed. */
const flagOf = (field: string) => ({ asOf: '--as-of', period: '--period', backtest: '--backtest', seed: '--seed', runs: '--runs' })[field] ?? field;

export async function forecastCommand(openStore: () => Promise<EventStore>, settings: Settings, flags: ForecastFlags, json: boolean, nowMs: number): Promise<void> {
  const input = defined({
    period: flags.period,
    timeZone: settings.timeZone,
    asOf: flags['as-of'] === undefined ? undefined : instantOf(flags['as-of'], settings.timeZone, 'as-of', 'end'),
    backtest: flags.backtest,
    seed: flags.seed,
    runs: flags.runs,
  });
  const parsed = parseWith(ForecastQuerySchema, input);
  if (!parsed.ok) throw invalidQueryError('forecast', parsed.issues.map((i) => ({ field: flagOf(i.field), message: i.message })));
  const q = parsed.query;
  const answer =
    flags.url === undefined
      ? await withEmbeddedAnalytics(openStore, settings, (client) => answerForecast(q, nowMs, clickHouseForecastSource(client, settings.config.opportunities)))
      : await getQuery<ForecastAnswer>(flags.url, '/v1/forecast', input as Record<string, string>, settings);
  if (json) printJson(answer);
  else process.stdout.write(formatForecast(answer));
}

const money = (n: number) => Math.round(n);
const percent = (n: number | null) => (n === null ? '-' : `${(n * 100).toFixed(1)}%`);

export function formatForecast(f: ForecastAnswer): string {
  let out = `forecast of ${f.period.label} [${f.period.start}, ${f.period.end}) as of ${f.asOf} (${f.options.runs} draws, seed ${f.options.seed})\n`;
  if (f.rows.length === 0) out += 'nothing won, open or expected in this period\n';
  else {
    out += formatTable(
      ['currency', 'won so far', 'open pipeline', 'not yet created', 'expected', 'P10', 'P50', 'P90'],
      f.rows.map((r) => [r.currency, money(r.wonSoFar), money(r.pipeline), money(r.notYetCreated), money(r.expected), money(r.p10), money(r.p50), money(r.p90)]),
    );
    out += '\nby forecast category:\n';
    out += formatTable(['category', 'currency', 'expected', 'P10', 'P50', 'P90'], f.byCategory.map((r) => [r.group ?? '-', r.currency, money(r.expected), money(r.p10), money(r.p50), money(r.p90)]));
    out += '\nby owner:\n';
    out += formatTable(['owner', 'currency', 'expected', 'P10', 'P50', 'P90'], f.byOwner.map((r) => [r.group ?? '(none or not yet created)', r.currency, money(r.expected), money(r.p10), money(r.p50), money(r.p90)]));
  }
  if (f.backtest !== null) {
    out += '\nback-test (each period forecast as of its start, against what was won in it):\n';
    out += formatTable(
      ['period', 'currency', 'forecast', 'P10', 'P90', 'actual', 'error'],
      f.backtest.periods.flatMap((p) =>
        // a period with nothing forecast and nothing won still shows
        p.rows.length === 0 ? [[p.label, '-', 0, 0, 0, 0, '-']] : p.rows.map((r) => [p.label, r.currency, money(r.forecast), money(r.p10), money(r.p90), money(r.actual), percent(r.absolutePercentageError)]),
      ),
    );
    out += `mean absolute percentage error: ${f.backtest.meanAbsolutePercentageError.map((m) => `${m.currency} ${percent(m.value)} over ${m.periods} period${m.periods === 1 ? '' : 's'}`).join(', ') || '-'}\n`;
  }
  return out;
}
