import { STAGE_QUERIES } from '@sluice/analytics';
import type { RetentionCohortsResult, TimeToConvertResult } from '@sluice/analytics';
import { formatCount, formatPercent, formatSpan, formatTable, usageError } from '../output.js';
import { commonBody, declaredCommand, defined, filterOf, readQueryFile, windowOf } from './query-flags.js';
import type { QueryRangeFlags } from './query-flags.js';

/**
 * `sluice query time-to-convert` (how long conversions take, between two
 * stages or two touchpoint steps) and `sluice query cohorts` (customers
 * retained by periods since their first purchase). Bodies are the API's
 * (POST /v1/time-to-convert, /v1/cohorts).
 */

export interface TimeToConvertFlags extends QueryRangeFlags {
  stages?: string | undefined;
  steps?: string | undefined;
  window?: string | undefined;
  buckets?: string | undefined;
  segment?: string | undefined;
  filter?: string[] | undefined;
  breakdown?: string | undefined;
  /** the trend: day, week, month, quarter or year */
  period?: string | undefined;
}

export interface CohortFlags extends QueryRangeFlags {
  period?: string | undefined;
  offsets?: string | undefined;
  purchase?: string | undefined;
  retention?: string | undefined;
  segment?: string | undefined;
  /** leads or accounts: who is a customer */
  unit?: string | undefined;
}

const BUCKET_UNITS = { m: 'minutes', h: 'hours', d: 'days' } as const;

/** `--buckets 1h,1d,7d`: histogram edges */
function bucketsOf(text: string) {
  if (text === 'auto') return 'auto';
  return text.split(',').map((edge) => {
    const m = /^(\d+)([mhd])$/.exec(edge.trim());
    if (!m) throw usageError(`--buckets takes edges such as 1h,1d,7d (units m, h, d) or auto; got "${edge}"`);
    return { value: Number(m[1]), unit: BUCKET_UNITS[m[2] as keyof typeof BUCKET_UNITS] };
  });
}

/** `a,b` into the two ends of a time-to-convert (or drivers) query. */
export function endsOf(flag: string, text: string): [string, string] {
  const ends = text.split(',').map((s) => s.trim());
  if (ends.length !== 2 || !ends[0] || !ends[1]) throw usageError(`--${flag} takes two, from and to: e.g. --${flag} ${flag === 'stages' ? 'mql,sql' : 'form_submit,demo_held'}; got "${text}"`);
  return [ends[0], ends[1]];
}

export function timeToConvertBodyOf(flags: TimeToConvertFlags, timeZone: string): unknown {
  if (flags.file !== undefined) return readQueryFile(flags.file, 'time-to-convert query');
  if ((flags.stages === undefined) === (flags.steps === undefined)) throw usageError('sluice query time-to-convert needs either --stages from,to or --steps from_type,to_type');
  const [from, to] = flags.stages !== undefined ? endsOf('stages', flags.stages) : endsOf('steps', flags.steps!).map((type) => ({ type }));
  return {
    ...commonBody('time-to-convert', flags, timeZone),
    from,
    to,
    ...defined({
      window: flags.window === undefined ? undefined : windowOf(flags.window),
      buckets: flags.buckets === undefined ? undefined : bucketsOf(flags.buckets),
      segment: flags.segment,
      filters: flags.filter?.map(filterOf),
      breakdown: flags.breakdown,
      period: flags.period,
    }),
  };
}

export function cohortsBodyOf(flags: CohortFlags, timeZone: string): unknown {
  if (flags.file !== undefined) return readQueryFile(flags.file, 'cohorts query');
  const types = (text: string | undefined) => text?.split(',').map((t) => t.trim());
  const offsets = flags.offsets === undefined ? undefined : Number(flags.offsets);
  if (offsets !== undefined && !Number.isInteger(offsets)) throw usageError(`--offsets must be a whole number, got "${flags.offsets}"`);
  return {
    ...commonBody('cohorts', flags, timeZone),
    ...defined({ period: flags.period, offsets, purchaseTypes: types(flags.purchase), retentionTypes: types(flags.retention), segment: flags.segment, unit: flags.unit }),
  };
}

const endName = (end: unknown) => (typeof end === 'string' ? end : (end as { type: string }).type);
const BAR_WIDTH = 30;

/** ` [value]` after the title, unless the only segment is the empty one (no segment asked). */
const segmentTag = (segment: string, alone: boolean) => (segment === '' && alone ? '' : ` [${segment === '' ? '(none)' : segment}]`);

const truncation = (result: TimeToConvertResult) => (result.truncated ? `\n(${formatCount(result.segments)} segments had entries; the largest are shown)\n` : '');

export function formatTimeToConvert(result: TimeToConvertResult): string {
  const title = `${endName(result.query.from)} -> ${endName(result.query.to)}`;
  if (result.rows.length === 0) return `${title}: nothing entered ${endName(result.query.from)} in the date range\n`;
  if (result.query.period !== undefined) return formatTrend(result, title, result.query.period);
  let out = '';
  for (const row of result.rows) {
    out += `${out === '' ? '' : '\n'}${title}${segmentTag(row.segment, result.rows.length === 1)}: ${formatCount(row.converted)} of ${formatCount(row.entered)} converted (${formatPercent(row.converted / row.entered)}); `;
    out += `mean ${formatSpan(row.meanMs)}, median ${formatSpan(row.medianMs)}, p90 ${formatSpan(row.p90Ms)}\n`;
    if (result.buckets.length === 0) continue;
    const most = Math.max(1, ...row.histogram);
    out += formatTable(
      ['time', 'converted', 'share', ''],
      result.buckets.map((b, i) => {
        const n = row.histogram[i] ?? 0;
        return [b.label, n, formatPercent(row.converted === 0 ? null : n / row.converted), '#'.repeat(Math.round((n / most) * BAR_WIDTH))];
      }),
    );
  }
  return out + truncation(result);
}

/**
 * The trend, per segment: a row per period (entered, converted, statistics),
 * then the histogram with a column per period, so periods read across.
 */
function formatTrend(result: TimeToConvertResult, title: string, period: string): string {
  const segments = [...new Set(result.rows.map((r) => r.segment))].sort();
  let out = '';
  for (const segment of segments) {
    const rows = result.rows.filter((r) => r.segment === segment);
    out += `${out === '' ? '' : '\n'}${title}${segmentTag(segment, segments.length === 1)}: by ${period}\n`;
    out += formatTable(
      [period, 'entered', 'converted', 'rate', 'mean', 'median', 'p90'],
      rows.map((r) => [r.periodLabel ?? '', r.entered, r.converted, formatPercent(r.converted / r.entered), formatSpan(r.meanMs), formatSpan(r.medianMs), formatSpan(r.p90Ms)]),
    );
    if (result.buckets.length === 0) continue;
    out += `\nconverted by time taken\n`;
    out += formatTable(
      ['time', ...rows.map((r) => r.periodLabel ?? '')],
      result.buckets.map((b, i) => [b.label, ...rows.map((r) => r.histogram[i] ?? 0)]),
    );
  }
  return out + truncation(result);
}

export function formatCohorts(result: RetentionCohortsResult): string {
  if (result.cohorts.length === 0) return 'no first purchase in the date range\n';
  const segmented = result.cohorts.some((c) => c.segment !== '');
  const unit = result.query.period === 'quarter' ? 'Q' : 'M';
  const offsets = Array.from({ length: result.query.offsets + 1 }, (_, k) => `${unit}${k}`);
  // by account, a customer is an account: say so, as the plan does
  let out = `${result.query.unit === 'accounts' ? 'accounts' : 'customers'} by first ${result.query.purchaseTypes.join('/')}, share with a ${result.query.retentionTypes.join('/')} in each ${result.query.period} since\n`;
  out += formatTable(
    ['cohort', ...(segmented ? ['segment'] : []), 'customers', ...offsets],
    result.cohorts.map((c) => [c.periodLabel, ...(segmented ? [c.segment === '' ? '(none)' : c.segment] : []), c.customers, ...c.rates.map((r) => formatPercent(r))]),
  );
  if (result.truncated) out += `\n(${formatCount(result.segments)} segments had customers; the largest are shown)\n`;
  return out;
}

export const queryTimeToConvert = declaredCommand(STAGE_QUERIES.timeToConvert, timeToConvertBodyOf, formatTimeToConvert);

export const queryCohorts = declaredCommand(STAGE_QUERIES.cohorts, cohortsBodyOf, formatCohorts);
