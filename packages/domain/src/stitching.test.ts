import type { SluiceEvent } from '@sluice/schemas';
import { describe, expect, it } from 'vitest';
import { type LeadState, absorbAnonymousHistory, evolve, foldLead, identityLinkFor, leadStateAsOf, touchpointsOf } from './index.js';
import { eventsFor, isoAt, msAt, ruleConfig } from './test-events.js';

const config = ruleConfig({ scoring: { engagement: { halfLifeDays: null } } });
const leadSubject = { kind: 'lead', leadId: 'lead-1' } as const;
const anonSubject = { kind: 'anonymous', anonymousId: 'anon-1' } as const;

/** Anonymous visits on days 0 and 1, then a form on day 2 that carries both ids. */
function history() {
  const anon = eventsFor({ anonymousId: 'anon-1' });
  const visits = [anon('visit', isoAt(0), {}, { channel: 'paid', campaign: 'spring' }), anon('visit', isoAt(1))];
  const form = eventsFor({ leadId: 'lead-1', anonymousId: 'anon-1' }, 'form')('form_submit', isoAt(2), { formId: 'trial' });
  const link = identityLinkFor(form)!;
  return { visits, form, link };
}

describe('identity stitching', () => {
  it('given anonymous visits before identify, when the history is absorbed, then the lead was a visitor since the first visit and the visits count', () => {
    const { visits, form, link } = history();
    const anonymous = foldLead(anonSubject, [...visits, link], config);
    expect(anonymous.mergedInto).toBe('lead-1');
    const lead = absorbAnonymousHistory(foldLead(leadSubject, [form], config), anonymous, config);
    const snap = leadStateAsOf(lead, isoAt(2), config);
    expect(snap.stages.map((s) => [s.stage, s.at, s.skipped, s.eventId])).toEqual([
      ['visitor', msAt(0), false, 'anon-1-1'],
      ['lead', msAt(2), false, 'form-1'],
    ]);
    // eng.visit (1 each) + eng.form_submit (10)
    expect(snap.scores.engagement).toBe(12);
    expect(snap.attribution).toEqual({ source: undefined, channel: 'paid', campaign: 'spring' });
    expect(snap.firstTouchAt).toBe(msAt(0));
    expect(lead.absorbed).toEqual(['anon-1']);

    // without stitching the same lead looks like it skipped the visitor stage
    expect(leadStateAsOf(foldLead(leadSubject, [form], config), isoAt(2), config).stages[0]).toMatchObject({ stage: 'visitor', skipped: true });
  });

  it('given the history, when it is absorbed before or after later lead events, or twice, then the lead state is the same', () => {
    const { visits, form, link } = history();
    const anonymous = foldLead(anonSubject, [...visits, link], config);
    const later = eventsFor({ leadId: 'lead-1' })('content_download', isoAt(3));
    const early = evolve(absorbAnonymousHistory(foldLead(leadSubject, [form], config), anonymous, config), later, config);
    const late = absorbAnonymousHistory(foldLead(leadSubject, [form, later], config), anonymous, config);
    const observed = (s: LeadState) => ({ absorbed: s.absorbed, touchpoints: touchpointsOf(s), view: leadStateAsOf(s, isoAt(5), config) });
    expect(observed(late)).toEqual(observed(early));
    expect(absorbAnonymousHistory(late, anonymous, config)).toBe(late);
  });

  it('given a stream linked twice, when links to two leads arrive, then the first one owns the history and a redelivered link changes nothing', () => {
    const { visits, link } = history();
    const other = identityLinkFor(eventsFor({ leadId: 'lead-2', anonymousId: 'anon-1' })('identify', isoAt(1), { email: 'x@y.example' }))!;
    const anonymous = foldLead(anonSubject, [...visits, link, other, link], config);
    expect(anonymous.mergedInto).toBe('lead-1');
    expect(() => absorbAnonymousHistory(foldLead({ kind: 'lead', leadId: 'lead-2' }, [], config), anonymous, config)).toThrow(/belongs to lead-1, not lead-2/);
  });

  it('given a linked anonymous stream, when more anonymous events arrive later, then the projector can apply them to the lead directly', () => {
    const { visits, form, link } = history();
    const anonymous = foldLead(anonSubject, [...visits, link], config);
    const pricing: SluiceEvent = eventsFor({ anonymousId: 'anon-1' })('page_view', isoAt(4), { url: 'https://x.example/pricing', pageType: 'pricing' });
    const lead = evolve(absorbAnonymousHistory(foldLead(leadSubject, [form], config), anonymous, config), pricing, config);
    expect(leadStateAsOf(lead, isoAt(4), config).scores.engagement).toBe(12 + 1 + 10);
  });

  it('ignores the link on a lead stream: links only decide who owns an anonymous stream', () => {
    const { form, link } = history();
    const lead = foldLead(leadSubject, [form], config);
    expect(evolve(lead, link, config)).toBe(lead);
  });
});
