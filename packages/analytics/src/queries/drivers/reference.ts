import { segmentValue } from '@sluice/domain';
import type { ConversionWindow, FunnelTouchpoint, LeadProfileFacts, SegmentKey, StageFact } from '@sluice/domain';
import { CONFIDENCE_Z, type ConfidenceLevel } from '../close-rates/reference.js';

/**
 * Conversion drivers: which touchpoints and profile facts go with converting
 * between two stages more (or less) often than without them. `driverCounts`
 * is the reference the ClickHouse query is tested against; `driverReport`
 * turns counts (from either) into odds ratios, intervals and p-values, and is
 * shared by both.
 *
 * Semantics of the counts
 * - Population: the actors with a `from` fact entered in [fromMs, toMs).
 * - Converted: a member with a `to` fact at or after its `from` time, within
 *   the optional inclusive window (as stage conversion counts it).
 * - An event feature is a touchpoint type, or with `property` a (type, value
 *   of that flattened property) pair ('' when absent), optionally restricted
 *   to `types`. A member has it when it has such a touchpoint strictly before
 *   converting (the event that converts does not predict itself); a member
 *   that did not convert, at or before its window's end (from time + window),
 *   or at any time without a window. Before entering `from` counts too.
 * - A profile feature is a lead_profile key with one of its values (company
 *   sizes in bands; an unknown value, '', is no feature); a member without a
 *   profile has none.
 * - asOf (optional): facts and touchpoints after it are ignored.
 * - Features are listed by members (desc), then kind, key, value; with a
 *   limit, the first `featureLimit` of that order.
 *
 * Each member counts once per feature, so every feature is a 2x2 table over
 * the population: with / without it, converted / not.
 */

export interface DriverSpec extends ConversionWindow {
  from: string;
  to: string;
  /** A flattened property path whose value splits each event type. */
  property?: string | undefined;
  /** Event features of these touchpoint types only; undefined: all. */
  types?: readonly string[] | undefined;
  /** Profile keys whose values are features. */
  profileKeys: readonly SegmentKey[];
  featureLimit?: number | undefined;
}

export const DRIVER_KINDS = ['event', 'profile'] as const;
export type DriverKind = (typeof DRIVER_KINDS)[number];

export interface DriverFeatureCounts {
  kind: DriverKind;
  /** The touchpoint type, or the profile key. */
  key: string;
  /** The property's value ('' without a property), or the profile value. */
  value: string;
  /** Population members with the feature. */
  leads: number;
  /** Of those, how many converted. */
  converted: number;
}

export interface DriverCounts {
  /** Population size and how many converted. */
  leads: number;
  converted: number;
  features: DriverFeatureCounts[];
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export function driverCounts(touchpoints: readonly FunnelTouchpoint[], facts: readonly StageFact[], profileOf: (leadId: string) => LeadProfileFacts | undefined, spec: DriverSpec): DriverCounts {
  const visible = (ms: number) => spec.asOfMs === undefined || ms <= spec.asOfMs;
  const fromAt = new Map<string, number>();
  const toAt = new Map<string, number>();
  for (const f of facts) {
    if (!visible(f.enteredAtMs)) continue;
    if (f.stage === spec.from) fromAt.set(f.leadId, f.enteredAtMs);
    if (f.stage === spec.to) toAt.set(f.leadId, f.enteredAtMs);
  }
  /** Per member: converted or not, and the instant its features must come before (exclusive) or at (inclusive). */
  const members = new Map<string, { converted: boolean; until: number; inclusive: boolean }>();
  for (const [lead, from] of fromAt) {
    if (from < spec.fromMs || from >= spec.toMs) continue;
    const to = toAt.get(lead);
    const converted = to !== undefined && to >= from && (spec.windowMs === undefined || to - from <= spec.windowMs);
    members.set(lead, converted ? { converted, until: to, inclusive: false } : { converted, until: spec.windowMs === undefined ? Infinity : from + spec.windowMs, inclusive: true });
  }
  const features = new Map<string, { kind: DriverKind; key: string; value: string; leads: Set<string> }>();
  const add = (kind: DriverKind, key: string, value: string, lead: string) => {
    const id = JSON.stringify([kind, key, value]);
    let f = features.get(id);
    if (!f) features.set(id, (f = { kind, key, value, leads: new Set() }));
    f.leads.add(lead);
  };
  const types = spec.types === undefined ? undefined : new Set(spec.types);
  for (const tp of touchpoints) {
    const m = members.get(tp.actorId);
    if (!m || !visible(tp.occurredAtMs) || (types && !types.has(tp.type))) continue;
    if (m.inclusive ? tp.occurredAtMs > m.until : tp.occurredAtMs >= m.until) continue;
    add('event', tp.type, spec.property === undefined ? '' : (tp.properties[spec.property] ?? ''), tp.actorId);
  }
  for (const lead of members.keys()) {
    const profile = profileOf(lead);
    for (const key of spec.profileKeys) {
      const value = segmentValue(profile, key);
      if (value !== '') add('profile', key, value, lead);
    }
  }
  const isConverted = (lead: string) => members.get(lead)!.converted;
  let list = [...features.values()]
    .map((f) => ({ kind: f.kind, key: f.key, value: f.value, leads: f.leads.size, converted: [...f.leads].filter(isConverted).length }))
    .sort(byMembers);
  if (spec.featureLimit !== undefined) list = list.slice(0, spec.featureLimit);
  return { leads: members.size, converted: [...members.keys()].filter(isConverted).length, features: list };
}

/** The order features are listed and cut in: most members first, then kind, key, value. */
export const byMembers = (x: DriverFeatureCounts, y: DriverFeatureCounts): number => y.leads - x.leads || compare(x.kind, y.kind) || compare(x.key, y.key) || compare(x.value, y.value);

/**
 * Two-sided Fisher exact test of a 2x2 table [[a, b], [c, d]]: the
 * probability, under independence with the margins fixed, of a table at most
 * as likely as the one seen. Exact, so honest for the small counts late
 * stages have (a dozen SQOs), where chi-square's approximation is not. The
 * hypergeometric terms are computed as ratios from the mode outwards (no
 * factorials, no overflow); terms that underflow to 0 are left out. Ties
 * with the observed term
 * within a relative 1e-7 count as "at most as likely", as R does.
 */
export function fisherExactTwoSided(a: number, b: number, c: number, d: number): number {
  const row = a + b;
  const col = a + c;
  const n = a + b + c + d;
  const low = Math.max(0, row + col - n);
  const high = Math.min(row, col);
  if (low === high) return 1;
  // P(x + 1) / P(x) for the hypergeometric count x in the top-left cell
  const ratio = (x: number) => ((row - x) * (col - x)) / ((x + 1) * (n - row - col + x + 1));
  const mode = Math.min(high, Math.max(low, Math.floor(((row + 1) * (col + 1)) / (n + 2))));
  const weights = new Map<number, number>([[mode, 1]]);
  let total = 1;
  for (let x = mode, w = 1; x < high; x++) {
    w *= ratio(x);
    if (w === 0) break;
    weights.set(x + 1, w);
    total += w;
  }
  for (let x = mode, w = 1; x > low; x--) {
    w /= ratio(x - 1);
    if (w === 0) break;
    weights.set(x - 1, w);
    total += w;
  }
  const observed = weights.get(a) ?? 0;
  if (observed === 0) return 0;
  let p = 0;
  for (const w of weights.values()) if (w <= observed * (1 + 1e-7)) p += w;
  return Math.min(1, p / total);
}

/**
 * Benjamini-Hochberg adjusted p-values (q-values), in the input's order: a
 * feature with q < alpha is a discovery with the false discovery rate held
 * at alpha over all features tested. Chosen over Bonferroni because drivers
 * are screened by the dozen or hundred and Bonferroni would hide everything
 * but the strongest effects; the FDR is the error an analyst screening
 * candidates cares about.
 */
export function benjaminiHochberg(pValues: readonly number[]): number[] {
  const m = pValues.length;
  const order = pValues.map((p, i) => [p, i] as const).sort((x, y) => y[0] - x[0] || y[1] - x[1]);
  const q = new Array<number>(m);
  let running = 1;
  order.forEach(([p, i], k) => {
    const rank = m - k;
    running = Math.min(running, (p * m) / rank);
    q[i] = running;
  });
  return q;
}

export interface DriverOptions {
  confidence: ConfidenceLevel;
}

export interface ConversionDriver extends DriverFeatureCounts {
  /** 1 = strongest evidence (smallest p-value, then the larger effect). */
  rank: number;
  /** converted / leads, with the feature. */
  rateWith: number;
  /** Among the population without it; null when every member has it. */
  rateWithout: number | null;
  /**
   * Odds of converting with the feature over the odds without; with 0.5
   * added to every cell when one is 0 (Haldane-Anscombe), so it stays
   * finite. Null when every member has the feature (nothing to compare).
   */
  oddsRatio: number | null;
  /** Woolf (log odds ratio +- z x its standard error) at the report's confidence, on the same cells. */
  interval: { low: number; high: number } | null;
  /** Two-sided Fisher exact test. */
  pValue: number;
  /** Benjamini-Hochberg adjusted over every feature of the report. */
  qValue: number;
  /** qValue < 1 - confidence: raises (odds ratio > 1) or lowers the odds, beyond chance across all features tested; else unclear. */
  effect: 'raises' | 'lowers' | 'unclear';
}

export interface DriverReport {
  leads: number;
  converted: number;
  /** converted / leads; null for an empty population. */
  conversionRate: number | null;
  confidence: ConfidenceLevel;
  drivers: ConversionDriver[];
  note: string;
}

export function driverReport(counts: DriverCounts, options: DriverOptions): DriverReport {
  const z = CONFIDENCE_Z[options.confidence];
  const alpha = 1 - options.confidence;
  const base = counts.features.map((f) => {
    const a = f.converted;
    const b = f.leads - f.converted;
    const c = counts.converted - a;
    const d = counts.leads - counts.converted - b;
    const without = counts.leads - f.leads;
    const comparable = without > 0;
    const k = a === 0 || b === 0 || c === 0 || d === 0 ? 0.5 : 0;
    const logOr = Math.log(((a + k) * (d + k)) / ((b + k) * (c + k)));
    const se = Math.sqrt(1 / (a + k) + 1 / (b + k) + 1 / (c + k) + 1 / (d + k));
    return {
      ...f,
      rateWith: a / f.leads,
      rateWithout: comparable ? c / without : null,
      oddsRatio: comparable ? Math.exp(logOr) : null,
      interval: comparable ? { low: Math.exp(logOr - z * se), high: Math.exp(logOr + z * se) } : null,
      pValue: fisherExactTwoSided(a, b, c, d),
      logOr: comparable ? Math.abs(logOr) : 0,
    };
  });
  const q = benjaminiHochberg(base.map((f) => f.pValue));
  const drivers = base
    .map(({ logOr, ...f }, i) => ({
      ...f,
      rank: 0,
      qValue: q[i]!,
      effect: (q[i]! < alpha && f.oddsRatio !== null && f.oddsRatio !== 1 ? (f.oddsRatio > 1 ? 'raises' : 'lowers') : 'unclear') as ConversionDriver['effect'],
      strength: logOr,
    }))
    .sort((x, y) => x.pValue - y.pValue || y.strength - x.strength || byMembers(x, y))
    .map(({ strength: _strength, ...f }, i) => ({ ...f, rank: i + 1 }));
  return {
    leads: counts.leads,
    converted: counts.converted,
    conversionRate: counts.leads === 0 ? null : counts.converted / counts.leads,
    confidence: options.confidence,
    drivers,
    note:
      `Associations in history, not causes. p-values: two-sided Fisher exact test per feature; qValue: Benjamini-Hochberg over the ${drivers.length} features ` +
      `tested (false discovery rate ${Math.round(alpha * 100)}%); effect says raises / lowers only when qValue < ${alpha.toFixed(2)}. Odds ratios and their ` +
      `${Math.round(options.confidence * 100)}% Woolf intervals add 0.5 to every cell of a table with an empty cell.`,
  };
}
