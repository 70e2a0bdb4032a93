import { describe, expect, it } from 'vitest';
import { EVENT_TYPES, parseEvent } from '../index.js';

const base = { id: 'evt-1', occurredAt: '2026-03-01T10:00:00+08:00', leadId: 'lead-1' };

describe('parseEvent', () => {
  it('accepts a payment with an amount and a currency', () => {
    const r = parseEvent({ ...base, type: 'payment', properties: { amount: 24000, currency: 'EUR' } });
    expect(r).toEqual({ ok: true, event: { ...base, type: 'payment', properties: { amount: 24000, currency: 'EUR' } } });
  });

  it('gives a missing properties object as {} and still reports required properties', () => {
    expect(parseEvent({ ...base, type: 'visit' })).toMatchObject({ ok: true, event: { properties: {} } });
    expect(parseEvent({ ...base, type: 'form_submit' })).toEqual({ ok: false, issues: [{ field: 'properties.formId', message: 'required' }] });
  });

  it('rejects an unknown type naming the known ones', () => {
    const r = parseEvent({ ...base, type: 'vist' });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.issues[0]?.field).toBe('type');
      expect(r.issues[0]?.message).toContain('unknown event type "vist"');
      expect(r.issues[0]?.message).toContain('visit');
    }
  });

  it('rejects unknown properties on the envelope and inside properties, pointing at properties.x', () => {
    expect(parseEvent({ ...base, type: 'visit', utm: 'x' })).toEqual({ ok: false, issues: [{ field: 'utm', message: 'unknown property' }] });
    expect(parseEvent({ ...base, type: 'visit', properties: { utm: 'x' } })).toEqual({
      ok: false,
      issues: [{ field: 'properties.utm', message: 'unknown property (custom data goes under properties.x)' }],
    });
  });

  it('accepts any JSON under the properties.x extension namespace', () => {
    const r = parseEvent({ ...base, type: 'visit', properties: { x: { utm_term: 'crm', nested: { a: [1, 2] } } } });
    expect(r.ok).toBe(true);
  });

  it.each([
    ['no offset', '2026-03-01T10:00:00'],
    ['date only', '2026-03-01'],
    ['not a date', 'yesterday'],
    ['Feb 30', '2026-02-30T10:00:00Z'],
    ['hour 24', '2026-03-01T24:00:00Z'],
  ])('rejects occurredAt with %s', (_label, occurredAt) => {
    const r = parseEvent({ ...base, type: 'visit', occurredAt });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues.map((i) => i.field)).toEqual(['occurredAt']);
  });

  it.each(['2026-03-01T10:00Z', '2026-03-01T10:00:00.123456Z', '2028-02-29T23:59:59-05:30'])('accepts occurredAt %s', (occurredAt) => {
    expect(parseEvent({ ...base, type: 'visit', occurredAt }).ok).toBe(true);
  });

  it('needs a leadId or an anonymousId, and a leadId for profile facts and decisions', () => {
    const anonymous = { id: 'e', occurredAt: base.occurredAt, anonymousId: 'anon-1' };
    expect(parseEvent({ ...anonymous, type: 'visit' }).ok).toBe(true);
    expect(parseEvent({ id: 'e', occurredAt: base.occurredAt, type: 'visit' })).toEqual({
      ok: false,
      issues: [{ field: 'leadId', message: 'an event needs a leadId, an anonymousId, or both' }],
    });
    expect(parseEvent({ ...anonymous, type: 'disqualified', properties: { reason: 'spam' } })).toEqual({
      ok: false,
      issues: [{ field: 'leadId', message: 'required for disqualified events' }],
    });
  });

  it('takes spend about no person: a source instead of ids, a period that ends after it starts', () => {
    const spend = {
      id: 'spend-1',
      type: 'spend',
      occurredAt: '2026-04-01T00:00:00Z',
      source: 'google',
      campaign: 'spring',
      properties: { amount: 1200.5, currency: 'USD', periodStart: '2026-03-01T00:00:00-05:00', periodEnd: '2026-04-01T00:00:00-04:00', businessUnit: 'smb' },
    };
    expect(parseEvent(spend)).toEqual({ ok: true, event: spend });
    const { source: _source, ...sourceless } = spend;
    expect(parseEvent({ ...sourceless, leadId: 'lead-1', anonymousId: 'a-1' })).toEqual({
      ok: false,
      issues: [
        { field: 'leadId', message: 'not allowed on spend events: they are about no person' },
        { field: 'anonymousId', message: 'not allowed on spend events: they are about no person' },
        { field: 'source', message: 'required for spend events' },
      ],
    });
    expect(parseEvent({ ...spend, properties: { ...spend.properties, periodEnd: spend.properties.periodStart } })).toEqual({
      ok: false,
      issues: [{ field: 'properties.periodEnd', message: 'must be after periodStart' }],
    });
  });

  it('checks amounts, currencies and enums', () => {
    const r = parseEvent({ ...base, type: 'quote', properties: { quoteId: 'q1', amount: -1, currency: 'euro' } });
    expect(r.ok ? [] : r.issues.map((i) => i.field)).toEqual(['properties.amount', 'properties.currency']);
    const call = parseEvent({ ...base, type: 'call', properties: { direction: 'inbound', outcome: 'connected', durationSeconds: 60, bant: { budget: true, money: true } } });
    expect(call.ok ? [] : call.issues.map((i) => i.field)).toEqual(['properties.bant.money']);
  });

  it('rejects ids with spaces or the reserved ~', () => {
    expect(parseEvent({ ...base, id: 'a b', type: 'visit' }).ok).toBe(false);
    expect(parseEvent({ ...base, id: 'a~link', type: 'visit' }).ok).toBe(false);
  });

  it('rejects values that are not objects', () => {
    for (const v of [null, 3, 'x', [base]]) expect(parseEvent(v)).toEqual({ ok: false, issues: [{ field: '', message: 'an event must be a JSON object' }] });
  });

  it('covers every touchpoint family of the domain', () => {
    for (const t of ['visit', 'page_view', 'content_download', 'form_submit', 'email_open', 'email_click', 'webinar_registered', 'webinar_attended', 'ad_click', 'call', 'meeting', 'demo_scheduled', 'demo_held', 'demo_no_show', 'trial_started', 'poc_started', 'quote', 'quote_accepted', 'invoice', 'payment', 'renewal', 'upsell', 'referral', 'unsubscribe', 'identify', 'sales_accepted', 'disqualified', 'deal_lost', 'owner_assigned', 'social_follow']) {
      expect(EVENT_TYPES).toContain(t);
    }
  });
});

describe('issue messages', () => {
  it('tells a missing field from a field of the wrong type', () => {
    const r = parseEvent({ ...base, type: 'payment', properties: { amount: '10' } });
    expect(r).toEqual({
      ok: false,
      issues: [
        { field: 'properties.amount', message: 'Invalid input: expected number, received string' },
        { field: 'properties.currency', message: 'required' },
      ],
    });
  });
});
