import { QUERIES, READ_MODEL_QUERIES } from '@sluice/analytics';
import { usageError } from '../output.js';
import { declaredCommand, declaredReadModelCommand, defined, instantOf, readQueryFile } from './query-flags.js';

/**
 * `sluice report cost` and `sluice report sla`: the two reports of the API
 * (POST /v1/reports/cost, /v1/reports/sla) on a server (--url) or on the
 * data directory, caught up with the log first. Each is its declaration in
 * @sluice/analytics (words, validation, runner, text) plus how its flags make a body.
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
  return { dateRange: { from: instantOf(flags.from, timeZone, 'from'), to: instantOf(flags.to, timeZone, 'to', 'end') } };
}

export function costBodyOf(flags: CostFlags, timeZone: string): unknown {
  if (flags.file !== undefined) return readQueryFile(flags.file, 'cost report');
  return { ...rangeOf('cost', flags, timeZone), ...defined({ period: flags.period, groupBy: flags.by, attribution: flags.attribution }) };
}

export const reportCost = declaredCommand(QUERIES.costReport, costBodyOf);

export function slaBodyOf(flags: SlaFlags, timeZone: string): unknown {
  if (flags.file !== undefined) return readQueryFile(flags.file, 'SLA report');
  return {
    ...rangeOf('sla', flags, timeZone),
    ...defined({ asOf: flags['as-of'] === undefined ? undefined : instantOf(flags['as-of'], timeZone, 'as-of', 'end'), breachLimit: flags.breaches === undefined ? undefined : Number(flags.breaches) }),
  };
}

export const reportSla = declaredReadModelCommand(READ_MODEL_QUERIES.slaReport, slaBodyOf);
