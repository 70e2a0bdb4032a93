import type { EventOf } from '@sluice/schemas';
import type { BusinessUnit } from './market.js';
import { Weighted } from './prng.js';

/** Sales reps per business unit (stable ids: the same team in every demo). */
export const REPS: Readonly<Record<BusinessUnit, readonly string[]>> = {
  smb: ['rep-smb-01', 'rep-smb-02', 'rep-smb-03', 'rep-smb-04', 'rep-smb-05', 'rep-smb-06'],
  enterprise: ['rep-ent-01', 'rep-ent-02', 'rep-ent-03', 'rep-ent-04'],
  partners: ['rep-partners-01', 'rep-partners-02', 'rep-partners-03'],
};

/** Deal sizes per business unit (first-year contract value, before the currency is chosen). */
export const DEAL_SIZE: Readonly<Record<BusinessUnit, { median: number; sigma: number; min: number }>> = {
  smb: { median: 9_000, sigma: 0.45, min: 2_400 },
  enterprise: { median: 85_000, sigma: 0.6, min: 30_000 },
  partners: { median: 28_000, sigma: 0.5, min: 8_000 },
};

export const LOST_REASONS = new Weighted<EventOf<'deal_lost'>['properties']['reason']>([
  ['no_decision', 28],
  ['competitor', 22],
  ['price', 20],
  ['timing', 13],
  ['no_budget', 10],
  ['product_fit', 7],
]);
