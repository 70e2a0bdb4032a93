import { QUERIES } from '@sluice/analytics';
import { usageError } from '../output.js';
import { declaredCommand, defined, instantOf, readQueryFile, windowOf } from './query-flags.js';

export interface FunnelFlags {
  file?: string | undefined;
  steps?: string | undefined;
  window?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
  order?: string | undefined;
  breakdown?: string | undefined;
  unit?: string | undefined;
  attribution?: string | undefined;
  'window-anchor'?: string | undefined;
  'date-scope'?: string | undefined;
  ties?: string | undefined;
  'tie-grace'?: string | undefined;
  entry?: string | undefined;
  reentry?: string | undefined;
  'exclusion-effect'?: string | undefined;
  exclude?: string[] | undefined;
  hold?: string | undefined;
  'compare-to'?: string | undefined;
  'time-to-convert'?: boolean | undefined;
  url?: string | undefined;
}

/** A definition from a JSON file, or from flags for the common case (validated as the declaration's body). */
export function funnelBodyOf(flags: FunnelFlags, timeZone: string): unknown {
  if (flags.file !== undefined) return readQueryFile(flags.file, 'funnel definition');
  if (flags.steps === undefined || flags.from === undefined || flags.to === undefined) {
    throw usageError('sluice query funnel needs --steps a,b,c --from DATE --to DATE (or --file funnel.json)');
  }
  return {
    // a trailing ? marks an optional step: --steps visit,form_submit?,demo_held
    steps: flags.steps.split(',').map((raw) => {
      const type = raw.trim();
      return type.endsWith('?') ? { type: type.slice(0, -1), optional: true } : { type };
    }),
    window: windowOf(flags.window ?? '30d'),
    dateRange: { from: instantOf(flags.from, timeZone, 'from'), to: instantOf(flags.to, timeZone, 'to', 'end') },
    ...(flags.order === undefined ? {} : { order: flags.order }),
    // several keys at once: --breakdown source,channel
    ...(flags.breakdown === undefined ? {} : { breakdown: flags.breakdown.includes(',') ? flags.breakdown.split(',').map((k) => k.trim()) : flags.breakdown }),
    ...(flags.unit === undefined ? {} : { unit: flags.unit }),
    ...(flags.attribution === undefined ? {} : { attribution: flags.attribution }),
    ...(flags['window-anchor'] === undefined ? {} : { windowAnchor: flags['window-anchor'] }),
    ...(flags['date-scope'] === undefined ? {} : { dateScope: flags['date-scope'] }),
    ...(flags.ties === undefined ? {} : { ties: flags.ties }),
    // seconds as a number, so a typo reaches the schema and comes back naming tieGraceSeconds
    ...(flags['tie-grace'] === undefined ? {} : { tieGraceSeconds: Number.isNaN(Number(flags['tie-grace'])) ? flags['tie-grace'] : Number(flags['tie-grace']) }),
    ...(flags['time-to-convert'] ? { timeToConvert: true } : {}),
    ...(flags.entry === undefined ? {} : { entry: flags.entry }),
    // true and false as booleans; anything else reaches the schema as it is, which names reentry
    ...(flags.reentry === undefined ? {} : { reentry: ({ true: true, false: false } as Record<string, boolean>)[flags.reentry] ?? flags.reentry }),
    ...(flags['exclusion-effect'] === undefined ? {} : { exclusionEffect: flags['exclusion-effect'] }),
    ...(flags.exclude === undefined ? {} : { exclusions: flags.exclude.map(exclusionOf) }),
    ...(flags.hold === undefined ? {} : { holdConstant: flags.hold.split(',').map((k) => k.trim()) }),
    ...(flags['compare-to'] === undefined ? {} : { compareTo: comparedRangeOf(flags['compare-to'], timeZone) }),
  };
}

/** --exclude TYPE:A-B: no TYPE event between steps A and B, numbered as the table prints them (from 1). */
function exclusionOf(text: string): { type: string; afterStep: number; beforeStep: number } {
  const m = /^([a-z_]+):(\d+)-(\d+)$/.exec(text.trim());
  if (!m || Number(m[2]) < 1) throw usageError(`--exclude takes TYPE:A-B, steps numbered from 1 as the table prints them (e.g. unsubscribe:2-3); got "${text}"`);
  return { type: m[1]!, afterStep: Number(m[2]) - 1, beforeStep: Number(m[3]) - 1 };
}

/** --compare-to previous_period, or FROM..TO (days in the business zone, or instants). */
function comparedRangeOf(text: string, timeZone: string): unknown {
  if (text === 'previous_period') return text;
  const [from, to, ...rest] = text.split('..');
  if (from === undefined || to === undefined || rest.length > 0) throw usageError(`--compare-to takes previous_period or FROM..TO (e.g. 2025-01-01..2025-04-01); got "${text}"`);
  return { from: instantOf(from, timeZone, 'compare-to'), to: instantOf(to, timeZone, 'compare-to', 'end') };
}

/**
 * Against a running server (--url) through its API, or on the embedded engine
 * of the data directory after bringing its ClickHouse copy up to the log's head.
 */
export const queryFunnel = declaredCommand(QUERIES.funnel, funnelBodyOf);

/** Which leads of the funnel: a step, numbered from 1 as the funnel's table prints it, and the page. */
export interface FunnelLeadsFlags extends FunnelFlags {
  step?: string | undefined;
  status?: string | undefined;
  'breakdown-value'?: string | undefined;
  limit?: string | undefined;
  cursor?: string | undefined;
}

/** The leads' options as the API's query string takes them (stepIndex from 0); a bad value reaches the options' schema, which names it. */
export function funnelLeadsOptionsOf(flags: FunnelLeadsFlags): Record<string, string> {
  if (flags.step === undefined) throw usageError('sluice query funnel-leads needs --step N, the step numbered from 1 as sluice query funnel prints it');
  const step = /^\d+$/.test(flags.step) ? Number(flags.step) : Number.NaN;
  if (!(step >= 1)) throw usageError(`--step takes a step numbered from 1 as sluice query funnel prints it; got "${flags.step}"`);
  // numbered as the user numbers them (a --file funnel's count is the definition's check, by stepIndex)
  const stepCount = flags.file === undefined ? flags.steps?.split(',').length : undefined;
  if (stepCount !== undefined && step > stepCount) throw usageError(`--step ${step}: the funnel has ${stepCount} steps`);
  return defined({
    stepIndex: String(step - 1),
    status: flags.status,
    breakdownValue: flags['breakdown-value'],
    limit: flags.limit,
    after: flags.cursor,
  }) as Record<string, string>;
}

/** The leads at one step of the funnel the same flags (or --file) define: who the funnel counted there, a page at a time. */
export const queryFunnelLeads = declaredCommand(QUERIES.funnelLeads, (flags: FunnelLeadsFlags, timeZone) => funnelBodyOf(flags, timeZone), funnelLeadsOptionsOf);
