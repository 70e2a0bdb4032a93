import { STAGE_QUERIES } from '@sluice/analytics';
import type { ActivityCloseRatesResult, ConversionDriversResult, StageConversionResult } from '@sluice/analytics';
import { formatCount, formatPercent, formatSpan, formatTable, usageError } from '../output.js';
import { commonBody, declaredCommand, defined, filterOf, readQueryFile, windowOf } from './query-flags.js';
import type { QueryRangeFlags } from './query-flags.js';
import { endsOf } from './query-time.js';

/**
 * `sluice query conversion`, `sluice query close-rates` and `sluice query drivers`: stage-level
 * questions answered by ClickHouse over the stage tables the projector
 * writes. Each is its declaration in @sluice/analytics (STAGE_QUERIES, the
 * API's routes are made from the same), plus how its flags make a body and
 * how its answer reads as a table; on the embedded engine the live rules fill
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

export function formatConversion(result: StageConversionResult): string {
  if (result.rows.length === 0) return 'no lead entered these stages in the date range\n';
  const segmented = result.rows.some((r) => r.segment !== '');
  const withOpen = result.rows.some((r) => r.open !== null);
  const headers = ['cohort', ...(segmented ? ['segment'] : []), 'entered', 'converted', 'rate', 'disqualified', 'recycled', ...(withOpen ? ['open'] : []), 'median', 'p90'];
  let out = '';
  result.pairs.forEach((pair, index) => {
    const rows = result.rows.filter((r) => r.pair === index);
    if (rows.length === 0) return;
    out += `${out === '' ? '' : '\n'}${pair.from} -> ${pair.to}\n`;
    out += formatTable(
      headers,
      rows.map((r) => [
        r.periodLabel,
        ...(segmented ? [r.segment === '' ? '(none)' : r.segment] : []),
        r.entered,
        r.converted,
        formatPercent(r.rate),
        r.disqualified,
        r.recycled,
        ...(withOpen ? [r.open ?? 0] : []),
        formatSpan(r.medianMs),
        formatSpan(r.p90Ms),
      ]),
    );
  });
  if (result.truncated) out += `\n(${formatCount(result.segments)} segments had entries; the largest are shown: raise segmentLimit for more)\n`;
  return out;
}

export function formatDrivers(result: ConversionDriversResult): string {
  let out = `${formatCount(result.leads)} leads entered, ${formatCount(result.converted)} converted: ${formatPercent(result.conversionRate)}\n\n`;
  if (result.drivers.length === 0) return out + 'no touchpoint or profile fact in this population\n';
  const level = `${Math.round(result.confidence * 100)}% interval`;
  const ratio = (x: number) => (x >= 100 ? x.toFixed(0) : x.toPrecision(3));
  out += formatTable(
    ['rank', 'feature', 'leads', 'rate with', 'rate without', 'odds ratio', level, 'p', 'q', 'effect'],
    result.drivers.map((d) => [
      d.rank,
      d.value === '' ? d.key : `${d.key} = ${d.value}`,
      d.leads,
      formatPercent(d.rateWith),
      formatPercent(d.rateWithout),
      d.oddsRatio === null ? '-' : ratio(d.oddsRatio),
      d.interval === null ? '-' : `${ratio(d.interval.low)} - ${ratio(d.interval.high)}`,
      d.pValue.toPrecision(2),
      d.qValue.toPrecision(2),
      d.effect,
    ]),
  );
  if (result.truncated) out += `\n(more features existed: the ${formatCount(result.drivers.length)} with the most leads were tested; raise featureLimit for more)\n`;
  return out + `\n(${result.note})\n`;
}

export function formatCloseRates(result: ActivityCloseRatesResult): string {
  let out = `${formatCount(result.leads)} leads in the population, ${formatCount(result.customers)} became customers: average close rate ${formatPercent(result.averageCloseRate)}\n\n`;
  if (result.activities.length === 0) return out + 'no activity before becoming a customer in this population\n';
  const level = `${Math.round(result.confidence * 100)}% interval`;
  out += formatTable(
    ['rank', 'activity', 'leads', 'customers', 'close rate', level, 'lift'],
    result.activities.map((a) => [
      a.rank,
      a.value === '' ? a.type : `${a.type} = ${a.value}`,
      a.leads,
      a.customers,
      formatPercent(a.closeRate),
      `${formatPercent(a.interval.low)} - ${formatPercent(a.interval.high)}`,
      a.lift === null ? '-' : `${a.lift.toFixed(2)}x`,
    ]),
  );
  const { mqlRuleCandidates, scoreWeights, note } = result.suggestions;
  const named = (s: { type: string; value: string }) => (s.value === '' ? s.type : `${s.type} = ${s.value}`);
  out += `\nMQL rule candidates: ${mqlRuleCandidates.length === 0 ? 'none' : mqlRuleCandidates.map((c) => `${named(c)} (${c.lift.toFixed(1)}x)`).join(', ')}\n`;
  out += `score weights: ${scoreWeights.length === 0 ? 'none' : scoreWeights.map((w) => `${named(w)} ${w.points > 0 ? '+' : ''}${w.points}`).join(', ')}\n`;
  return out + `(${note})\n`;
}

export const queryConversion = declaredCommand(STAGE_QUERIES.conversion, conversionBodyOf, formatConversion);

export const queryCloseRates = declaredCommand(STAGE_QUERIES.closeRates, closeRatesBodyOf, formatCloseRates);

export const queryDrivers = declaredCommand(STAGE_QUERIES.drivers, driversBodyOf, formatDrivers);
