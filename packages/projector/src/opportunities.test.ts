import { describe, expect, it } from 'vitest';
import { contentHash } from './index.js';
import { eventsFor, isoAt } from './test-support.js';
import { journeyProjections } from './test-stores.js';

/**
 * The projector's choice for opportunity events: they move no lead read
 * model. They are about an account's deal, not a person; crediting them to
 * the account's contacts as touchpoints would change stages and scores by a
 * rule no one wrote (which contact "did" a stage change?). A contact's own
 * touchpoints stay theirs; the revenue fold and ClickHouse read opportunities.
 */
describe('opportunity events in the log', () => {
  const project = journeyProjections();

  it('given a deal around a journey, when projected, then its events sit in the opportunity stream and move no read model', async () => {
    const plain = await project('plain');
    const dealt = await project('dealt', (journey) => {
      const opp = eventsFor({}, 'opp');
      const account = { accountId: 'acme' };
      const deal = [
        opp('opportunity_created', isoAt(2), { opportunityId: 'o1', stage: 'discovery', amount: 5000, currency: 'EUR', closeDate: isoAt(60), ownerId: 'rep-1' }, account),
        opp('opportunity_contact_added', isoAt(2, 5), { opportunityId: 'o1', leadId: journey.find((e) => e.leadId !== undefined)!.leadId!, role: 'champion' }, account),
        opp('opportunity_stage_changed', isoAt(9), { opportunityId: 'o1', stage: 'proposal' }, account),
        opp('opportunity_won', isoAt(20), { opportunityId: 'o1' }, account),
      ];
      return [...deal.slice(0, 2), ...journey, ...deal.slice(2)];
    });
    expect(dealt.streams.filter((s) => s.startsWith('opp-'))).toEqual(['opp-o1', 'opp-o1', 'opp-o1', 'opp-o1']);
    expect(dealt.position).toBe(plain.position + 4);
    expect(contentHash(dealt.projections)).toBe(contentHash(plain.projections));
  });
});
