import { QUERIES } from '@sluice/analytics';
import type { EventStore } from '@sluice/event-store';
import { SlaNotConfiguredError, sqliteReadModels } from '@sluice/projector';
import { SlaReportQuerySchema } from '@sluice/schemas';
import type { ConversionBucket, SlaGroupRow, SlaReport } from '@sluice/projector';
import { CliError, formatPercent, formatTable, printJson, usageError } from '../output.js';
import type { Settings } from '../settings.js';
import { postQuery, withCaughtUpProjections } from './analytics-engine.js';
import { declaredCommand, defined, instantOf, invalidQueryError, readQueryFile } from './query-flags.js';

/**
 * `sluice report cost` and `sluice report sla`: the two reports of the API
 * (POST /v1/reports/cost, /v1/reports/sla) on a server (--url) or on the
 * data directory, caught up with the log first.
 */

export interface ReportFlags {
  file?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
  url?: string | undefined;
}
export interface CostFlags extends ReportFlags {
  period?: string | undefined;
  by?: string | undefined;
  attribution?: string | undefined;
}
export interface SlaFlags extends ReportFlags {
  'as-of'?: string | undefined;
  breaches?: string | undefined;
}

function rangeOf(command: string, flags: ReportFlags, timeZone: string) {
  if (flags.from === undefined || flags.to === undefined) throw usageError(`sluice report ${command} needs --from DATE --to DATE (or --file report.json)`);
  return { dateRange: { from: instantOf(flags.from, timeZone), to: instantOf(flags.to, timeZone) } };
}

export function costBodyOf(flags: CostFlags, timeZone: string): unknown {
  if (flags.file !== undefined) return readQueryFile(flags.file, 'cost report');
  return { ...rangeOf('cost', flags, timeZone), ...defined({ period: flags.period, groupBy: flags.by, attribution: flags.attribution }) };
}

export const reportCost = declaredCommand(QUERIES.costReport, costBodyOf);

const minutes = (m: number | null) => (m === null ? '-' : m < 120 ? `${m.toFixed(1)} min` : `${(m / 60).toFixed(1)} h`);

function groupTable(title: string, rows: readonly SlaGroupRow[]): string {
  return `${title}\n${formatTable(
    [title === 'by owner' ? 'owner' : 'unit', 'MQLs', 'contacted', 'touch met', 'breached', 'pending', 'attempts met', 'breached', 'median', 'p90'],
    rows.map((g) => [g.key === '' ? '(none)' : g.key, g.leads, g.contacted, g.firstTouch.met, g.firstTouch.breached, g.firstTouch.pending, g.attempts?.met ?? '-', g.attempts?.breached ?? '-', minutes(g.medianMinutes), minutes(g.p90Minutes)]),
  )}`;
}

const bucketTable = (title: string, buckets: readonly ConversionBucket[], next: string) =>
  `${title}\n${formatTable([title.split(' ')[0]!, 'MQLs', `reached ${next}`, 'rate', 'customers'], buckets.map((b) => [b.label, b.leads, b.converted, formatPercent(b.rate), b.customers]))}`;

export function formatSla(r: SlaReport): string {
  const t = r.targets;
  let out = `SLA from ${t.startStage}: first touch within ${t.firstTouchWithinMinutes} min${t.attempts === null ? '' : `, ${t.attempts.atLeast} attempts within ${t.attempts.withinDays} days`}; as of ${r.asOf}\n\n`;
  out += `marketing\n${formatTable(
    ['unit', `${t.startStage} delivered`, 'committed', 'met'],
    r.marketing.map((m) => [m.businessUnit, m.delivered, m.committed === null ? '-' : m.committed.toFixed(1), m.met === null ? 'no commitment' : m.met ? 'yes' : 'no']),
  )}\n`;
  out += `${groupTable('by unit', [...r.sales.byBusinessUnit, r.sales.total])}\n${groupTable('by owner', r.sales.byOwner)}\n`;
  const next = t.nextStage ?? 'next stage';
  out += `${bucketTable('speed to lead (time to first touch)', r.speedToLead, next)}\n`;
  if (r.persistence !== null) out += `${bucketTable('attempts in the window', r.persistence, next)}\n`;
  out += `breaching leads: ${r.breaches.total}${r.breaches.truncated ? ` (the first ${r.breaches.leads.length} listed)` : ''}\n`;
  if (r.breaches.leads.length > 0) {
    out += formatTable(
      ['lead', 'owner', 'unit', 'started', 'first touch', 'attempts', 'breaches'],
      r.breaches.leads.map((b) => [b.leadId, b.owner ?? '-', b.businessUnit, b.startedAt, b.firstTouchAt === null ? 'never' : minutes(b.minutesToFirstTouch), b.attempts === null ? '-' : `${b.attempts}/${b.attemptsRequired}`, b.breaches.join(', ')]),
    );
  }
  return out;
}

export async function reportSla(openStore: () => Promise<EventStore>, settings: Settings, flags: SlaFlags, json: boolean, nowMs: number): Promise<void> {
  const body =
    flags.file !== undefined
      ? readQueryFile(flags.file, 'SLA report')
      : { ...rangeOf('sla', flags, settings.timeZone), ...defined({ asOf: flags['as-of'] === undefined ? undefined : instantOf(flags['as-of'], settings.timeZone), breachLimit: flags.breaches === undefined ? undefined : Number(flags.breaches) }) };
  let result: SlaReport;
  if (flags.url !== undefined) result = await postQuery<SlaReport>(flags.url, '/v1/reports/sla', body, settings);
  else {
    const parsed = SlaReportQuerySchema.safeParse(body);
    if (!parsed.success) throw invalidQueryError('SLA report', parsed.error.issues.map((i) => ({ field: i.path.map(String).join('.'), message: i.message })));
    const q = parsed.data;
    const store = await openStore();
    try {
      result = await withCaughtUpProjections(store, settings, async (projections) => {
        try {
          return await sqliteReadModels(projections).slaReport(settings.config, { fromMs: Date.parse(q.dateRange.from), toMs: Date.parse(q.dateRange.to), asOfMs: q.asOf === undefined ? nowMs : Date.parse(q.asOf), breachLimit: q.breachLimit });
        } catch (err) {
          if (err instanceof SlaNotConfiguredError) throw new CliError(err.message);
          throw err;
        }
      });
    } finally {
      await store.close();
    }
  }
  if (json) printJson(result);
  else process.stdout.write(formatSla(result));
}
