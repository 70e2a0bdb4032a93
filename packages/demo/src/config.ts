import type { OpportunityStage, SluiceConfigInput } from '@sluice/schemas';
import { BUSINESS_UNITS } from './market.js';

/**
 * The demo's opportunity stage model: a demo stage where the default model
 * has qualification, so a newcomer sees the model is theirs to write. The
 * demo's deals move through these stages.
 */
export const DEMO_OPPORTUNITY_STAGES = [
  { id: 'discovery', name: 'Discovery', probability: 0.1, category: 'pipeline' },
  { id: 'demo', name: 'Demo', probability: 0.25, category: 'pipeline' },
  { id: 'proposal', name: 'Proposal', probability: 0.5, category: 'best_case' },
  { id: 'negotiation', name: 'Negotiation', probability: 0.8, category: 'commit' },
] as const satisfies readonly OpportunityStage[];

/**
 * The rules the demo data set is meant to be read under: its business units
 * (so segments and plans split by unit instead of folding every lead into
 * `default`) and a rate table for the three currencies its deals and spend
 * are in (so the cost report can sum them). The rates are ILLUSTRATIVE, fixed
 * here so the demo is reproducible; they are not market data. Its deals
 * follow the demo's opportunity stage model.
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
    opportunities: { stages: DEMO_OPPORTUNITY_STAGES.map((s) => ({ ...s })) },
  };
}
