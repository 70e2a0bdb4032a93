import type { SluiceConfigInput } from '@sluice/schemas';
import { BUSINESS_UNITS } from './market.js';

/**
 * The rules the demo data set is meant to be read under: its business units
 * (so segments and plans split by unit instead of folding every lead into
 * `default`) and a rate table for the three currencies its deals and spend
 * are in (so the cost report can sum them). The rates are ILLUSTRATIVE, fixed
 * here so the demo is reproducible; they are not market data.
 */
export function demoConfig(timeZone: string): SluiceConfigInput {
  return {
    version: 'demo-1',
    timeZone,
    businessUnits: {
      default: 'smb',
      units: BUSINESS_UNITS.map((id) => ({ id, name: id === 'smb' ? 'SMB' : id[0]!.toUpperCase() + id.slice(1) })),
    },
    currencies: { report: 'USD', rates: { EUR: 1.08, GBP: 1.27 } },
  };
}
