import { describe, expect, it } from 'vitest';
import { RuleConfigSchema } from '../index.js';

const issuesOf = (opportunities: unknown) => {
  const r = RuleConfigSchema.safeParse({ version: 'v1', opportunities });
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('the opportunity stage model', () => {
  it('given no opportunities section, then the default model: discovery 10% to negotiation 75%', () => {
    const c = RuleConfigSchema.parse({ version: 'v1' });
    expect(c.opportunities.stages).toEqual([
      { id: 'discovery', name: 'Discovery', probability: 0.1, category: 'pipeline' },
      { id: 'qualification', name: 'Qualification', probability: 0.2, category: 'pipeline' },
      { id: 'proposal', name: 'Proposal', probability: 0.5, category: 'best_case' },
      { id: 'negotiation', name: 'Negotiation', probability: 0.75, category: 'commit' },
    ]);
  });

  it('given a model of its own, then its stages in order, a missing name being the id', () => {
    const c = RuleConfigSchema.parse({ version: 'v1', opportunities: { stages: [{ id: 'intro', probability: 0.05, category: 'omitted' }, { id: 'contract', name: 'Contract out', probability: 0.9, category: 'commit' }] } });
    expect(c.opportunities.stages).toEqual([
      { id: 'intro', name: 'intro', probability: 0.05, category: 'omitted' },
      { id: 'contract', name: 'Contract out', probability: 0.9, category: 'commit' },
    ]);
  });

  it('given bad stages, then each problem is named where it is', () => {
    expect(issuesOf({ stages: [] })).toEqual(['opportunities.stages: needs at least one open stage']);
    expect(issuesOf({ stages: [{ id: 'a', probability: 1.2, category: 'pipeline' }] })).toEqual(['opportunities.stages.0.probability: must be a probability from 0 to 1 (0.25 for 25%)']);
    expect(issuesOf({ stages: [{ id: 'a', probability: 0.5, category: 'closed' }] })).toEqual([
      'opportunities.stages.0.category: closed is the category of won deals (opportunity_won); an open stage is pipeline, best_case, commit or omitted',
    ]);
    expect(issuesOf({ stages: [{ id: 'a', probability: 0.5, category: 'upside' }] })[0]).toMatch(/^opportunities.stages.0.category: Invalid option: expected one of "pipeline"\|"best_case"\|"commit"\|"closed"\|"omitted"/);
    expect(issuesOf({ stages: [{ id: 'Closed Won', probability: 0.5, category: 'commit' }] })).toEqual([
      'opportunities.stages.0.id: must be an opportunity stage id: lower_snake_case (a-z, 0-9, _), starting with a letter',
    ]);
    expect(issuesOf({ stages: [{ id: 'a', probability: 0.1, category: 'pipeline' }, { id: 'a', probability: 0.2, category: 'pipeline' }] })).toEqual(['opportunities.stages.1.id: duplicate opportunity stage id "a"']);
    expect(issuesOf({ stages: [{ id: 'a', probability: 0.1, category: 'pipeline', weight: 2 }] })[0]).toMatch(/^opportunities.stages.0: Unrecognized key: "weight"/);
  });

  it('given a parsed config, then it parses again as itself (what a what-if candidate does)', () => {
    const c = RuleConfigSchema.parse({ version: 'v1' });
    expect(RuleConfigSchema.parse(c).opportunities).toEqual(c.opportunities);
  });
});
