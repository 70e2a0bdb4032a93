import type { LeadSnapshot } from './snapshot.js';
import { type Rules, rulesOf } from './rules.js';

/**
 * Per-owner caps ("500 leads, 100 active customers per rep") span many leads,
 * so they are checked over snapshots the projector already has, not inside a
 * lead's state. Active: owned and not in a side state.
 */
export interface OwnerLoad {
  readonly activeLeads: number;
  readonly activeCustomers: number;
}

export interface OwnerCapBreach {
  readonly ownerId: string;
  readonly cap: 'activeLeads' | 'activeCustomers';
  readonly count: number;
  readonly limit: number;
}

export function ownerLoad(snapshots: Iterable<LeadSnapshot>): Map<string, OwnerLoad> {
  const load = new Map<string, OwnerLoad>();
  for (const s of snapshots) {
    if (s.owner === undefined || s.sideState !== undefined || s.mergedInto !== undefined) continue;
    const l = load.get(s.owner) ?? { activeLeads: 0, activeCustomers: 0 };
    load.set(s.owner, s.isCustomer ? { ...l, activeCustomers: l.activeCustomers + 1 } : { ...l, activeLeads: l.activeLeads + 1 });
  }
  return load;
}

export function ownerCapBreaches(load: ReadonlyMap<string, OwnerLoad>, rules: Rules): OwnerCapBreach[] {
  const caps = rulesOf(rules).config.pool.ownerCaps;
  if (caps === undefined) return [];
  const out: OwnerCapBreach[] = [];
  for (const [ownerId, l] of [...load].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    for (const cap of ['activeLeads', 'activeCustomers'] as const) {
      const limit = caps[cap];
      if (limit !== undefined && l[cap] > limit) out.push({ ownerId, cap, count: l[cap], limit });
    }
  }
  return out;
}
