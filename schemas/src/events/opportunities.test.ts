import { describe, expect, it } from 'vitest';
import { ACTORLESS_TYPES, OPPORTUNITY_TYPES, parseEvent } from '../index.js';

const opp = { id: 'o-1', occurredAt: '2026-03-01T10:00:00+01:00', accountId: 'acme' };
const created = {
  ...opp,
  type: 'opportunity_created',
  properties: { opportunityId: 'opp-1', stage: 'discovery', amount: 48000, currency: 'EUR', closeDate: '2026-06-30T00:00:00+02:00', ownerId: 'rep-1', segment: 'enterprise' },
};

describe('opportunity events', () => {
  it('given a complete opportunity_created, then it is taken as sent', () => {
    expect(parseEvent(created)).toEqual({ ok: true, event: created });
  });

  it('given each type with its required properties, then each is taken', () => {
    const cases = [
      { type: 'opportunity_stage_changed', properties: { opportunityId: 'opp-1', stage: 'proposal' } },
      { type: 'opportunity_stage_changed', properties: { opportunityId: 'opp-1', stage: 'negotiation', probability: 0.9 } },
      { type: 'opportunity_amount_changed', properties: { opportunityId: 'opp-1', amount: 0, currency: 'JPY' } },
      { type: 'opportunity_close_date_changed', properties: { opportunityId: 'opp-1', closeDate: '2026-09-30T00:00:00Z' } },
      { type: 'opportunity_owner_changed', properties: { opportunityId: 'opp-1', ownerId: 'rep-2' } },
      { type: 'opportunity_contact_added', properties: { opportunityId: 'opp-1', leadId: 'lead-7', role: 'economic_buyer' } },
      { type: 'opportunity_won', properties: { opportunityId: 'opp-1' } },
      { type: 'opportunity_won', properties: { opportunityId: 'opp-1', amount: 45000, currency: 'EUR', note: 'signed' } },
      { type: 'opportunity_lost', properties: { opportunityId: 'opp-1', reason: 'competitor' } },
    ];
    for (const c of cases) expect(parseEvent({ ...opp, ...c }), c.type).toEqual({ ok: true, event: { ...opp, ...c } });
  });

  it('given an opportunity event without its account or with a person, then each is named', () => {
    const { accountId: _a, ...accountless } = created;
    expect(parseEvent({ ...accountless, leadId: 'lead-1', anonymousId: 'v-1' })).toEqual({
      ok: false,
      issues: [
        { field: 'leadId', message: "not allowed on opportunity_created events: they are about an account's deal (a contact joins it with opportunity_contact_added's properties.leadId)" },
        { field: 'anonymousId', message: "not allowed on opportunity_created events: they are about an account's deal (a contact joins it with opportunity_contact_added's properties.leadId)" },
        { field: 'accountId', message: 'required for opportunity_created events' },
      ],
    });
  });

  it('given bad properties, then the same strict rules as every other type name them', () => {
    const bad = (properties: Record<string, unknown>) => parseEvent({ ...created, properties: { ...created.properties, ...properties } });
    const fields = (r: ReturnType<typeof parseEvent>) => (r.ok ? [] : r.issues.map((i) => `${i.field}: ${i.message}`));
    expect(fields(bad({ closeDate: '2026-06-30' }))).toEqual(['properties.closeDate: must be an ISO 8601 date-time with an offset or Z, e.g. 2026-03-01T10:00:00+08:00']);
    expect(fields(bad({ currency: 'EURO' }))).toEqual(['properties.currency: must be an ISO 4217 code such as EUR or USD']);
    expect(fields(bad({ amount: 2e15 }))).toEqual(['properties.amount: must be at most 1e15 (10^15)']);
    expect(fields(bad({ amount: -1 }))).toHaveLength(1);
    expect(fields(bad({ stage: 'Closed Won' }))).toEqual(['properties.stage: must be an opportunity stage id: lower_snake_case (a-z, 0-9, _), starting with a letter']);
    expect(fields(bad({ opportunityId: 'has space' }))).toHaveLength(1);
    expect(fields(bad({ segment: 'ent\u0000' }))).toEqual(['properties.segment: must be well-formed Unicode text: no lone surrogate (such as \\ud800) and no NUL (\\u0000)']);
    expect(fields(bad({ probability: 1.5 }))).toEqual(['properties.probability: must be a probability from 0 to 1 (0.25 for 25%)']);
    expect(fields(bad({ weight: 0.5 }))).toEqual(['properties.weight: unknown property (custom data goes under properties.x)']);
    const { opportunityId: _o, ...noId } = created.properties;
    expect(fields(parseEvent({ ...created, properties: noId }))).toEqual(['properties.opportunityId: required']);
    expect(fields(parseEvent({ ...opp, type: 'opportunity_contact_added', properties: { opportunityId: 'opp-1', leadId: 'lead-7', role: 'boss' } }))).toHaveLength(1);
    expect(fields(parseEvent({ ...opp, type: 'opportunity_lost', properties: { opportunityId: 'opp-1' } }))[0]).toMatch(/^properties.reason: Invalid option: expected one of "price"/);
    expect(fields(parseEvent({ ...opp, type: 'opportunity_won', properties: { opportunityId: 'opp-1', amount: 10 } }))).toEqual(['properties.currency: amount and currency go together: give both or neither']);
  });

  it('given the type sets, then every opportunity type is about no person (no funnel step or lead stage names it)', () => {
    expect([...OPPORTUNITY_TYPES].sort()).toEqual([
      'opportunity_amount_changed',
      'opportunity_close_date_changed',
      'opportunity_contact_added',
      'opportunity_created',
      'opportunity_lost',
      'opportunity_owner_changed',
      'opportunity_stage_changed',
      'opportunity_won',
    ]);
    for (const t of OPPORTUNITY_TYPES) expect(ACTORLESS_TYPES.has(t)).toBe(true);
    expect(ACTORLESS_TYPES.has('spend')).toBe(true);
  });
});
