import { QUERIES } from '@sluice/analytics';
import { usageError } from '../output.js';
import { commonBody, declaredCommand, defined, filterOf, readQueryFile, windowOf } from './query-flags.js';
import type { QueryRangeFlags } from './query-flags.js';
import { endsOf } from './query-time.js';

/**
 * `sluice query conversion`, `sluice query close-rates` and `sluice query drivers`: stage-level
 * questions answered by ClickHouse over the stage tables the projector
 * writes. Each is its declaration in @sluice/analytics (QUERIES, the API's
 * routes are made from the same, and how its answer reads as a table), plus
 * how its flags make a body; on the embedded engine the live rules fill
 * what the body leaves out, as the server does.
 */

export interface ConversionFlags extends QueryRangeFlags {
  period?: string | undefined;
  pairs?: string | undefined;
  segment?: string | undefined;
  filter?: string[] | undefined;
  window?: string | undefined;
  unit?: string | undefined;
}

export interface DriverFlags extends QueryRangeFlags {
  stages?: string | undefined;
  window?: string | undefined;
  property?: string | undefined;
  types?: string | undefined;
  profile?: string | undefined;
}

export interface CloseRateFlags extends QueryRangeFlags {
  population?: string | undefined;
  customer?: string | undefined;
  property?: string | undefined;
  types?: string | undefined;
}

/** `step_to_step`, `from_first`, or explicit pairs `lead:mql,mql:sql`. */
function pairsOf(text: string): unknown {
  if (text === 'step_to_step' || text === 'from_first') return text;
  return text.split(',').map((pair) => {
    const [from, to, ...rest] = pair.split(':').map((s) => s.trim());
    if (!from || !to || rest.length > 0) throw usageError(`--pairs takes step_to_step, from_first or from:to pairs such as lead:mql,mql:sql; got "${pair}"`);
    return { from, to };
  });
}

export function conversionBodyOf(flags: ConversionFlags, timeZone: string): unknown {
  if (flags.file !== undefined) return readQueryFile(flags.file, 'conversion query');
  return {
    ...commonBody('conversion', flags, timeZone),
    ...defined({
      period: flags.period,
      pairs: flags.pairs === undefined ? undefined : pairsOf(flags.pairs),
      segment: flags.segment,
      filters: flags.filter?.map(filterOf),
      window: flags.window === undefined ? undefined : windowOf(flags.window),
      unit: flags.unit,
    }),
  };
}

const listOf = (text: string | undefined) => text?.split(',').map((t) => t.trim());

export function driversBodyOf(flags: DriverFlags, timeZone: string): unknown {
  if (flags.file !== undefined) return readQueryFile(flags.file, 'drivers query');
  const [from, to] = flags.stages === undefined ? [undefined, undefined] : endsOf('stages', flags.stages);
  return {
    ...commonBody('drivers', flags, timeZone),
    ...defined({
      from,
      to,
      window: flags.window === undefined ? undefined : windowOf(flags.window),
      property: flags.property,
      types: listOf(flags.types),
      profileKeys: flags.profile === undefined ? undefined : flags.profile === '' ? [] : listOf(flags.profile),
    }),
  };
}

export function closeRatesBodyOf(flags: CloseRateFlags, timeZone: string): unknown {
  if (flags.file !== undefined) return readQueryFile(flags.file, 'close-rates query');
  return {
    ...commonBody('close-rates', flags, timeZone),
    ...defined({
      populationStage: flags.population,
      customerStage: flags.customer,
      property: flags.property,
      types: listOf(flags.types),
    }),
  };
}

export const queryConversion = declaredCommand(QUERIES.conversion, conversionBodyOf);

export const queryCloseRates = declaredCommand(QUERIES.closeRates, closeRatesBodyOf);

export const queryDrivers = declaredCommand(QUERIES.drivers, driversBodyOf);
