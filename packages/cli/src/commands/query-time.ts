import { QUERIES } from '@sluice/analytics';
import { usageError } from '../output.js';
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

export const queryTimeToConvert = declaredCommand(QUERIES.timeToConvert, timeToConvertBodyOf);

export const queryCohorts = declaredCommand(QUERIES.cohorts, cohortsBodyOf);
