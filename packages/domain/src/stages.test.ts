import { describe, expect, it } from 'vitest';
import type { RuleConfig } from '@sluice/schemas';
import { type LeadState, evolve, foldLead, leadStateAsOf, stageTransitions } from './index.js';
import { eventsFor, isoAt, msAt, ruleConfig } from './test-events.js';

const lead = { kind: 'lead', leadId: 'lead-1' } as const;
const stagesOf = (s: LeadState, config: RuleConfig) => stageTransitions(s, config).map((t) => [t.to, t.skipped, t.rule]);

describe('stage rules', () => {
  it('given a visit, a form and an inbound demo request, when the default config applies, then the lead jumps from lead to SQL and MQL is recorded as skipped', () => {
    const config = ruleConfig();
    const e = eventsFor({ leadId: 'lead-1' });
    const state = foldLead(lead, [e('visit', isoAt(0)), e('form_submit', isoAt(0, 5), { formId: 'contact' }), e('demo_requested', isoAt(1))], config);

    expect(stageTransitions(state, config)).toEqual([
      { leadId: 'lead-1', anonymousId: undefined, from: null, to: 'visitor', at: msAt(0), skipped: false, rule: 'visitor.touch', eventId: 'lead-1-1', configVersion: 'test-1' },
      { leadId: 'lead-1', anonymousId: undefined, from: 'visitor', to: 'lead', at: msAt(0, 5), skipped: false, rule: 'lead.contact', eventId: 'lead-1-2', configVersion: 'test-1' },
      { leadId: 'lead-1', anonymousId: undefined, from: 'lead', to: 'mql', at: msAt(1), skipped: true, rule: 'sql.demo_request', eventId: 'lead-1-3', configVersion: 'test-1' },
      { leadId: 'lead-1', anonymousId: undefined, from: 'mql', to: 'sql', at: msAt(1), skipped: false, rule: 'sql.demo_request', eventId: 'lead-1-3', configVersion: 'test-1' },
    ]);
    expect(leadStateAsOf(state, isoAt(1), config)).toMatchObject({ stage: 'sql', stageEnteredAt: msAt(1), isCustomer: false });
  });

  it('given an ICP profile and growing engagement, when fit >= 60 and engagement >= 40, then the lead becomes an MQL by the score rule at that event', () => {
    const config = ruleConfig({ scoring: { engagement: { halfLifeDays: null } } });
    const e = eventsFor({ leadId: 'lead-1' });
    const profile = { email: 'ann@bank.example', title: 'VP Marketing', role: 'economic_buyer', companySize: 2000, company: 'Bank' };
    const events = [e('identify', isoAt(0), profile), e('content_download', isoAt(1)), e('content_download', isoAt(2)), e('content_download', isoAt(3))];
    const atThirty = foldLead(lead, events, config);
    expect(leadStateAsOf(atThirty, isoAt(3), config)).toMatchObject({ stage: 'lead', scores: { fit: 100, engagement: 30, total: 130 } });

    const atMql = foldLead(lead, [...events, e('webinar_attended', isoAt(4), { webinarId: 'w1' })], config);
    expect(stagesOf(atMql, config)).toEqual([
      ['visitor', true, 'lead.contact'],
      ['lead', false, 'lead.contact'],
      ['mql', false, 'mql.score'],
    ]);
    expect(stageTransitions(atMql, config)[2]?.at).toBe(msAt(4));
  });

  it('given connect calls, when all four BANT answers are positive, then the lead is an SQL; three of four are not enough', () => {
    const config = ruleConfig();
    const e = eventsFor({ leadId: 'lead-1' });
    const call = (bant: Record<string, boolean>, day: number) => e('call', isoAt(day), { direction: 'inbound', outcome: 'connected', durationSeconds: 600, bant });
    const three = foldLead(lead, [call({ budget: true, authority: true, need: true, timeline: false }, 0)], config);
    expect(stagesOf(three, config)).toEqual([
      ['visitor', true, 'lead.contact'],
      ['lead', false, 'lead.contact'],
    ]);
    const four = foldLead(lead, [call({ budget: true, authority: true, need: true, timeline: true }, 0)], config);
    expect(stagesOf(four, config)).toEqual([
      ['visitor', true, 'sql.bant'],
      ['lead', false, 'lead.contact'],
      ['mql', true, 'sql.bant'],
      ['sql', false, 'sql.bant'],
    ]);
  });

  it('given the opportunity model, when a quote and then a payment arrive, then the lead passes opportunity and becomes a customer', () => {
    const config = ruleConfig({ stageModel: { builtin: 'with_opportunity' } });
    const e = eventsFor({ leadId: 'lead-1' });
    const state = foldLead(
      lead,
      [e('sales_accepted', isoAt(0)), e('quote', isoAt(5), { quoteId: 'q1', amount: 24000, currency: 'EUR' }), e('payment', isoAt(20), { amount: 24000, currency: 'EUR' })],
      config,
    );
    expect(stagesOf(state, config).slice(3)).toEqual([
      ['sql', false, 'sql.accepted'],
      ['opportunity', false, 'opportunity.started'],
      ['customer', false, 'customer.paid_or_signed'],
    ]);
    expect(leadStateAsOf(state, isoAt(20), config).isCustomer).toBe(true);
  });

  it('given the customer journey, when three pricing views fall within 14 days, then the lead shows intent; spread over 20 days it does not', () => {
    const config = ruleConfig({ stageModel: { builtin: 'customer_journey' } });
    const pricing = (e: ReturnType<typeof eventsFor>, day: number) => e('page_view', isoAt(day), { url: 'https://x.example/pricing', pageType: 'pricing' });
    const close = eventsFor({ anonymousId: 'anon-1' });
    const within = foldLead({ kind: 'anonymous', anonymousId: 'anon-1' }, [0, 5, 10].map((d) => pricing(close, d)), config);
    expect(stagesOf(within, config)).toEqual([
      ['awareness', false, 'awareness.touch'],
      ['interest', true, 'consideration.pricing'],
      ['consideration', false, 'consideration.pricing'],
      ['intent', false, 'intent.pricing_repeat'],
    ]);
    const apart = eventsFor({ anonymousId: 'anon-2' });
    const spread = foldLead({ kind: 'anonymous', anonymousId: 'anon-2' }, [0, 10, 20].map((d) => pricing(apart, d)), config);
    expect(stageTransitions(spread, config).map((t) => t.to)).toEqual(['awareness', 'interest', 'consideration']);
  });

  it('given a custom model, when a stage has no entry rules, then any event enters it', () => {
    const config = ruleConfig({
      stageModel: {
        id: 'plg',
        stages: [
          { id: 'signup', name: 'Sign-up' },
          { id: 'activated', name: 'Activated', entry: [{ id: 'activated.trial', when: { event: 'trial_started' } }] },
          { id: 'paying', name: 'Paying', entry: [{ id: 'paying.payment', when: { event: 'payment' } }] },
        ],
        customerStage: 'paying',
      },
    });
    const e = eventsFor({ leadId: 'lead-1' });
    const state = foldLead(lead, [e('identify', isoAt(0), { email: 'a@b.example' }), e('trial_started', isoAt(1))], config);
    expect(stagesOf(state, config)).toEqual([
      ['signup', false, 'signup.any_event'],
      ['activated', false, 'activated.trial'],
    ]);
  });

  it('given a disqualified lead, when it requests a demo it does not move; when sales accept it, it moves again and the episode is kept', () => {
    const config = ruleConfig();
    const e = eventsFor({ leadId: 'lead-1' });
    const disqualified = foldLead(lead, [e('form_submit', isoAt(0), { formId: 'f' }), e('disqualified', isoAt(1), { reason: 'no_fit' }), e('demo_requested', isoAt(2))], config);
    expect(leadStateAsOf(disqualified, isoAt(3), config)).toMatchObject({ stage: 'lead', sideState: { state: 'disqualified', reason: 'no_fit', since: msAt(1) } });

    const requalified = evolve(disqualified, e('sales_accepted', isoAt(4), { ownerId: 'rep-1' }), config);
    const snap = leadStateAsOf(requalified, isoAt(4), config);
    expect(snap).toMatchObject({ stage: 'sql', sideState: undefined, owner: 'rep-1' });
    expect(snap.stages.at(-1)).toMatchObject({ stage: 'sql', rule: 'sql.accepted', at: msAt(4) });
    expect(snap.sideHistory).toEqual([{ state: 'disqualified', reason: 'no_fit', rule: undefined, eventId: 'lead-1-2', from: msAt(1), until: msAt(4) }]);
  });
});
