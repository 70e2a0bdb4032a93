import { clickHouseWaterfallSource, openOpportunitiesAsOf, parseWith } from '@sluice/analytics';
import type { EventStore } from '@sluice/event-store';
import { PipelineQuerySchema, WATERFALL_TERMS, WaterfallQuerySchema, answerPipelineOfFolded, answerWaterfallOfFolded } from '@sluice/revenue';
import type { PipelineAnswer, WaterfallAnswer } from '@sluice/revenue';
import type { z } from 'zod';
import { formatCount, formatTable, printJson } from '../output.js';
import type { Settings } from '../settings.js';
import { getQuery, withEmbeddedAnalytics } from './analytics-engine.js';
import { defined, instantOf, invalidQueryError } from './query-flags.js';

/**
 * `sluice pipeline` and `sluice waterfall`: GET /v1/pipeline and
 * /v1/waterfall from a running server (--url), or on the data directory, its ClickHouse caught up with the
 * log first, folded by ClickHouse and assembled by @sluice/revenue under
 * the live opportunity stage model.
 */

export interface PipelineFlags {
  'as-of'?: string | undefined;
  by?: string | undefined;
  /** a running server to ask (GET /v1/pipeline) instead of the data directory */
  url?: string | undefined;
}
export interface WaterfallFlags {
  from?: string | undefined;
  to?: string | undefined;
  by?: string | undefined;
  url?: string | undefined;
}

function parsed<T>(schema: z.ZodType<T>, input: unknown, what: string): T {
  const r = parseWith(schema, input);
  if (r.ok) return r.query;
  throw invalidQueryError(what, r.issues.map((i) => ({ field: flagOf(i.field), message: i.message })));
}
/** Issues name the flag the user typed. */
const flagOf = (field: string) => ({ asOf: '--as-of', groupBy: '--by', from: '--from', to: '--to' })[field] ?? field;

export async function pipelineCommand(openStore: () => Promise<EventStore>, settings: Settings, flags: PipelineFlags, json: boolean, nowMs: number): Promise<void> {
  const q = parsed(PipelineQuerySchema, defined({ asOf: flags['as-of'] === undefined ? undefined : instantOf(flags['as-of'], settings.timeZone, 'as-of', 'end'), groupBy: flags.by }), 'pipeline query');
  const answer =
    flags.url === undefined
      ? await withEmbeddedAnalytics(openStore, settings, (client) => answerPipelineOfFolded(q, nowMs, settings.config.opportunities, (ms) => openOpportunitiesAsOf(client, ms)))
      : await getQuery<PipelineAnswer>(flags.url, '/v1/pipeline', defined(q) as Record<string, string>, settings);
  if (json) printJson(answer);
  else process.stdout.write(formatPipeline(answer));
}

export async function waterfallCommand(openStore: () => Promise<EventStore>, settings: Settings, flags: WaterfallFlags, json: boolean): Promise<void> {
  // a month or a quarter given to --to means its end, as in every query command
  const at = (text: string | undefined, flag: 'from' | 'to') => (text === undefined ? undefined : instantOf(text, settings.timeZone, flag, flag === 'to' ? 'end' : 'start'));
  const q = parsed(WaterfallQuerySchema, defined({ from: at(flags.from, 'from'), to: at(flags.to, 'to'), groupBy: flags.by }), 'waterfall query');
  const answer =
    flags.url === undefined
      ? await withEmbeddedAnalytics(openStore, settings, (client) => answerWaterfallOfFolded(q, clickHouseWaterfallSource(client)))
      : await getQuery<WaterfallAnswer>(flags.url, '/v1/waterfall', defined(q) as Record<string, string>, settings);
  if (json) printJson(answer);
  else process.stdout.write(formatWaterfall(answer));
}

const money = (n: number) => Math.round(n * 100) / 100;

export function formatPipeline(p: PipelineAnswer): string {
  const total = p.opportunities.length;
  const head = `open pipeline as of ${p.asOf}${p.groupBy === null ? '' : ` by ${p.groupBy}`}: ${formatCount(total)} opportunit${total === 1 ? 'y' : 'ies'}\n`;
  if (p.rows.length === 0) return head;
  return (
    head +
    formatTable(
      [p.groupBy ?? 'all', 'currency', 'count', 'amount', 'weighted', 'mean days in stage', 'max days in stage'],
      p.rows.map((r) => [r.group ?? '(none)', r.currency, r.count, money(r.amount), money(r.weightedAmount), Math.round(r.meanDaysInStage), Math.round(r.maxDaysInStage)]),
    )
  );
}

const TERM_LABELS: Record<(typeof WATERFALL_TERMS)[number], string> = {
  created: '+ created',
  pulledIn: '+ pulled in',
  amountUp: '+ amount up',
  amountDown: '- amount down',
  pushedOut: '- pushed out',
  lost: '- lost',
  won: '- won',
};

/** A term's first opportunities (--json lists them all). */
const listed = (ids: readonly string[]) => (ids.length <= 4 ? ids.join(' ') : `${ids.slice(0, 4).join(' ')} ... (+${ids.length - 4})`);

export function formatWaterfall(w: WaterfallAnswer): string {
  let out = `pipeline waterfall of [${w.from}, ${w.to}): opportunities closing in the period${w.groupBy === null ? '' : `, by ${w.groupBy}`}\n`;
  for (const r of w.rows) {
    out += `\n${r.group === null ? '' : `${r.group}, `}${r.currency}\n`;
    out += formatTable(
      ['', 'amount', 'count', 'opportunities'],
      [
        ['start', money(r.start.amount), r.start.count, ''],
        ...WATERFALL_TERMS.map((t) => [TERM_LABELS[t], money(r[t].amount), r[t].opportunities.length, listed(r[t].opportunities.map((o) => o.opportunityId))]),
        ['= end', money(r.end.amount), r.end.count, ''],
      ],
    );
  }
  return out;
}
