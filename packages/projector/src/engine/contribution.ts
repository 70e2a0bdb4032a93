import type { LocalDays } from './local-day.js';

/**
 * What one actor adds to the live conversion counters (see README "Live
 * conversion"). An actor is a lead (with the anonymous history it owns) or an
 * anonymous visitor no lead has claimed; a merged anonymous subject adds
 * nothing. For every stage S the actor entered (skipped stages included: they
 * were passed through at the time of the stage reached), in the cohort of the
 * local day it entered S, under its business unit and source:
 * - (S, S) counts 1: it entered S;
 * - (S, T) for every later stage T it entered counts 1 and adds T's entry
 *   time minus S's to the velocity sum;
 * - each of these also counts 1 in `skipped` when S was skipped.
 * The projector keeps what it last added for each actor and, when the actor
 * changes, subtracts that and adds the new contribution.
 */
export interface Contribution {
  readonly businessUnit: string;
  readonly source: string;
  /** stage entries in stage order */
  readonly entries: readonly { readonly stage: string; readonly at: number; readonly skipped: boolean }[];
}

export const NO_CONTRIBUTION: Contribution = { businessUnit: '', source: '', entries: [] };

export function sameContribution(a: Contribution, b: Contribution): boolean {
  if (a === b) return true;
  if (a.businessUnit !== b.businessUnit || a.source !== b.source || a.entries.length !== b.entries.length) return false;
  for (let i = 0; i < a.entries.length; i++) {
    const x = a.entries[i]!;
    const y = b.entries[i]!;
    if (x.stage !== y.stage || x.at !== y.at || x.skipped !== y.skipped) return false;
  }
  return true;
}

export interface CounterDelta {
  readonly day: string;
  readonly businessUnit: string;
  readonly source: string;
  readonly from: string;
  readonly to: string;
  leads: number;
  skipped: number;
  velocityMs: number;
}

/** Counter changes of one flush, summed per counter. */
export class CounterDeltas {
  readonly #deltas = new Map<string, CounterDelta>();

  constructor(private readonly days: LocalDays) {}

  add(c: Contribution, sign: 1 | -1): void {
    const { entries, businessUnit, source } = c;
    for (let i = 0; i < entries.length; i++) {
      const from = entries[i]!;
      const day = this.days.dateOf(from.at);
      for (let j = i; j < entries.length; j++) {
        const to = entries[j]!;
        const key = `${day}\u0000${businessUnit}\u0000${source}\u0000${from.stage}\u0000${to.stage}`;
        let d = this.#deltas.get(key);
        if (d === undefined) this.#deltas.set(key, (d = { day, businessUnit, source, from: from.stage, to: to.stage, leads: 0, skipped: 0, velocityMs: 0 }));
        d.leads += sign;
        if (from.skipped) d.skipped += sign;
        d.velocityMs += sign * (to.at - from.at);
      }
    }
  }

  /** The non-zero changes. */
  *changes(): Iterable<CounterDelta> {
    for (const d of this.#deltas.values()) if (d.leads !== 0 || d.skipped !== 0 || d.velocityMs !== 0) yield d;
  }
}
