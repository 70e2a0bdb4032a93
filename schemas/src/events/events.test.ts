import { describe, expect, it } from 'vitest';
import { EVENT_TYPES, EXTENSION_LIMITS, parseEvent } from '../index.js';

const base = { id: 'evt-1', occurredAt: '2026-03-01T10:00:00+08:00', leadId: 'lead-1' };
const fieldsOf = (r: ReturnType<typeof parseEvent>) => (r.ok ? [] : r.issues.map((i) => i.field));
/** properties.x nested `levels` deep: x itself is level 1 */
const nested = (levels: number) => {
  let x: Record<string, unknown> = {};
  for (let i = 1; i < levels; i++) x = { a: x };
  return x;
};

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

  it.each([
    ['+24:00', '2026-03-01T10:00:00+24:00', 'has an offset no time zone has: offsets run from -12:00 to +14:00'],
    ['+99:99', '2026-03-01T10:00:00+99:99', 'has an offset no time zone has: offsets run from -12:00 to +14:00'],
    ['+14:01', '2026-03-01T10:00:00+14:01', 'has an offset no time zone has: offsets run from -12:00 to +14:00'],
    ['-12:30', '2026-03-01T10:00:00-12:30', 'has an offset no time zone has: offsets run from -12:00 to +14:00'],
    ['+05:60', '2026-03-01T10:00:00+05:60', 'has an offset no time zone has: offsets run from -12:00 to +14:00'],
    ['year 0000', '0000-01-01T00:00:00Z', 'must lie between 1900-01-01T00:00:00Z and 2299-12-31T23:59:59.999Z (the instants analytics stores)'],
    ['year 0050 (Date.UTC reads it as 1950)', '0050-06-01T00:00:00Z', 'must lie between 1900-01-01T00:00:00Z and 2299-12-31T23:59:59.999Z (the instants analytics stores)'],
    ['year 9999', '9999-12-31T23:59:59Z', 'must lie between 1900-01-01T00:00:00Z and 2299-12-31T23:59:59.999Z (the instants analytics stores)'],
    ['1900 local, 1899 in UTC', '1900-01-01T00:30:00+01:00', 'must lie between 1900-01-01T00:00:00Z and 2299-12-31T23:59:59.999Z (the instants analytics stores)'],
    ['2299 local, 2300 in UTC', '2299-12-31T23:30:00-01:00', 'must lie between 1900-01-01T00:00:00Z and 2299-12-31T23:59:59.999Z (the instants analytics stores)'],
  ])('rejects occurredAt with an offset or a year out of range: %s', (_label, occurredAt, message) => {
    expect(parseEvent({ ...base, type: 'visit', occurredAt })).toEqual({ ok: false, issues: [{ field: 'occurredAt', message }] });
  });

  it.each(['2026-03-01T10:00:00+14:00', '2026-03-01T10:00:00-12:00', '2026-03-01T10:00:00+05:45', '1900-01-01T00:00:00Z', '1899-12-31T23:00:00-01:00', '2299-12-31T23:59:59.999Z', '2300-01-01T00:30:00+01:00'])(
    'accepts occurredAt at the edges: %s',
    (occurredAt) => {
      expect(parseEvent({ ...base, type: 'visit', occurredAt }).ok).toBe(true);
    },
  );

  it('holds instant properties to the same rule as occurredAt', () => {
    const spend = { id: 's', type: 'spend', occurredAt: '2026-04-01T00:00:00Z', source: 'google', properties: { amount: 1, currency: 'USD', periodStart: '2026-03-01T00:00:00+24:00', periodEnd: '9999-04-01T00:00:00Z' } };
    expect(fieldsOf(parseEvent(spend))).toEqual(['properties.periodStart', 'properties.periodEnd']);
    expect(fieldsOf(parseEvent({ ...base, type: 'invoice', properties: { invoiceId: 'i', amount: 1, currency: 'EUR', dueAt: '0001-01-01T00:00:00Z' } }))).toEqual(['properties.dueAt']);
    expect(fieldsOf(parseEvent({ ...base, type: 'demo_scheduled', properties: { demoId: 'd', scheduledFor: '2026-03-01T10:00:00-13:00' } }))).toEqual(['properties.scheduledFor']);
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

  it.each([
    ['a lone high surrogate', 'google\ud800x'],
    ['a lone low surrogate', '\udc00'],
    ['NUL', 'goo\u0000gle'],
  ])('rejects %s in any text field, envelope, properties and properties.x alike', (_label, text) => {
    const message = 'must be well-formed Unicode text: no lone surrogate (such as \\ud800) and no NUL (\\u0000)';
    expect(parseEvent({ ...base, type: 'visit', source: text, campaign: text })).toEqual({ ok: false, issues: [{ field: 'source', message }, { field: 'campaign', message }] });
    expect(parseEvent({ ...base, type: 'page_view', properties: { url: text } })).toEqual({ ok: false, issues: [{ field: 'properties.url', message }] });
    expect(parseEvent({ ...base, type: 'deal_lost', properties: { reason: 'price', note: text } })).toEqual({ ok: false, issues: [{ field: 'properties.note', message }] });
    expect(parseEvent({ ...base, type: 'visit', properties: { x: { utm: { terms: ['ok', text] } } } })).toEqual({ ok: false, issues: [{ field: 'properties.x.utm.terms.1', message }] });
    expect(parseEvent({ ...base, type: 'visit', properties: { x: { utm: { [text]: 1 } } } })).toEqual({ ok: false, issues: [{ field: `properties.x.utm.${text}`, message: `key ${message}` }] });
    expect(parseEvent({ ...base, type: 'visit', properties: { x: { [text]: 1 } } })).toEqual({ ok: false, issues: [{ field: `properties.x.${text}`, message: `key ${message}` }] });
  });

  it('takes any well-formed text: emoji (surrogate pairs), accents, CJK', () => {
    const r = parseEvent({ ...base, type: 'visit', source: 'café 🚀 検索', properties: { x: { '🚀': 'naïve ✓' } } });
    expect(r.ok).toBe(true);
  });

  it('answers a 10,000-level properties.x with an issue naming it, not a stack overflow', () => {
    expect(parseEvent({ ...base, type: 'visit', properties: { x: nested(10_000) } })).toEqual({
      ok: false,
      issues: [{ field: 'properties.x', message: 'nests deeper than 32 levels of objects and arrays' }],
    });
    // arrays nest too
    let deepArray: unknown = [];
    for (let i = 0; i < 100_000; i++) deepArray = [deepArray];
    expect(fieldsOf(parseEvent({ ...base, type: 'visit', properties: { x: { a: deepArray } } }))).toEqual(['properties.x']);
  });

  it('bounds properties.x: 32 levels, 1,000 keys and items, 64 KiB of JSON', () => {
    expect(EXTENSION_LIMITS).toMatchObject({ maxDepth: 32, maxValues: 1000, maxBytes: 65_536 });
    expect(parseEvent({ ...base, type: 'visit', properties: { x: nested(32) } }).ok).toBe(true);
    expect(fieldsOf(parseEvent({ ...base, type: 'visit', properties: { x: nested(33) } }))).toEqual(['properties.x']);
    const items = (n: number) => ({ list: Array.from({ length: n - 1 }, (_, i) => i) });
    expect(parseEvent({ ...base, type: 'visit', properties: { x: items(1000) } }).ok).toBe(true);
    expect(parseEvent({ ...base, type: 'visit', properties: { x: items(1001) } })).toEqual({ ok: false, issues: [{ field: 'properties.x', message: 'holds more than 1000 keys and array items' }] });
    // 64 KiB counts UTF-8 bytes: 'é' is two
    const sized = (bytes: number, char: string) => ({ t: char.repeat((bytes - '{"t":""}'.length) / Buffer.byteLength(char)) });
    expect(parseEvent({ ...base, type: 'visit', properties: { x: sized(65_536, 'é') } }).ok).toBe(true);
    expect(parseEvent({ ...base, type: 'visit', properties: { x: sized(65_538, 'é') } })).toEqual({ ok: false, issues: [{ field: 'properties.x', message: 'is larger than 64 KiB as JSON' }] });
  });

  it('checks amounts, currencies and enums', () => {
    const r = parseEvent({ ...base, type: 'quote', properties: { quoteId: 'q1', amount: -1, currency: 'euro' } });
    expect(r.ok ? [] : r.issues.map((i) => i.field)).toEqual(['properties.amount', 'properties.currency']);
    expect(fieldsOf(parseEvent({ ...base, type: 'payment', properties: { amount: 10, currency: 'QQQ' } }))).toEqual(['properties.currency']);
    expect(parseEvent({ ...base, type: 'payment', properties: { amount: 1.7e308, currency: 'EUR' } })).toEqual({ ok: false, issues: [{ field: 'properties.amount', message: 'must be at most 1e15 (10^15)' }] });
    expect(parseEvent({ ...base, type: 'payment', properties: { amount: 1e15, currency: 'VND' } }).ok).toBe(true);
    expect(parseEvent({ ...base, type: 'payment', properties: { amount: 24000, currency: 'CLF' } }).ok).toBe(true);
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
