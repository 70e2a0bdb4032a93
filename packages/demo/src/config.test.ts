import { SluiceConfigSchema } from '@sluice/schemas';
import { describe, expect, it } from 'vitest';
import { DEMO_OPPORTUNITY_STAGES, demoConfig } from './config.js';

describe('the demo rules', () => {
  it('given the demo rules, when parsed, then they hold the demo opportunity stage model as written', () => {
    const config = SluiceConfigSchema.parse(demoConfig('Europe/Berlin'));
    expect(config.opportunities.stages.map((s) => [s.id, s.probability, s.category])).toEqual([
      ['discovery', 0.1, 'pipeline'],
      ['demo', 0.25, 'pipeline'],
      ['proposal', 0.5, 'best_case'],
      ['negotiation', 0.8, 'commit'],
    ]);
    expect(config.opportunities.stages).toEqual(DEMO_OPPORTUNITY_STAGES);
  });
});
