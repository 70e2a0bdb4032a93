import { touchpointsFromLog } from '@sluice/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnalyticsClient } from './client.js';
import type { FunnelDefinitionInput } from './funnel-definition.js';
import { FunnelDefinitionSchema, funnelSpecOf } from './funnel-definition.js';
import { listFunnelLeads, runFunnel } from './funnel.js';
import { countFunnel, funnelOutcomes } from './queries/funnel/reference.js';
import { touchpointTimeToConvert } from './queries/time-to-convert/reference.js';
import { applyTouchpointBatch } from './sink.js';
import { testBackends } from './test-backends.js';
import type { TimeToConvertQueryInput, TouchpointTimeToConvertQuery } from './time-to-convert.js';
import { TimeToConvertQuerySchema, runTimeToConvert, touchpointTimeToConvertSpecOf } from './time-to-convert.js';
import { recordedLog } from './test-log.js';

/*
 * Accounts as buying groups, worked by hand: one contact fills the form,
 * another of the same account pays. Best-lead mode (`accounts`) needs one
 * contact to make the whole chain, so the account stops at the form; pooled
 * mode (`accounts_pooled`) reads the account's people as one history, so it
 * converts; time to convert between the two steps likewise. The reference
 * and the SQL must both say so.
 */

const T0 = Date.UTC(2026, 2, 2, 9, 0, 0);
const min = (m: number) => T0 + m * 60_000;

// Acme: ana fills the form (naming Acme); bo opens an email naming Acme, then pays without naming it (bo's account is still Acme: the lead's last named one)
// Globex: cy fills the form and never pays. dee names no account: she fills the form and pays, and counts as herself in every mode.
const LOG = recordedLog([
  { type: 'visit', at: min(0), lead: 'ana', source: 'ads' },
  { type: 'form_submit', at: min(1), lead: 'ana', accountId: 'acme', properties: { formId: 'demo' } },
  { type: 'email_open', at: min(2), lead: 'bo', accountId: 'acme', properties: { emailId: 'm1' } },
  { type: 'payment', at: min(5), lead: 'bo', properties: { amount: 100, currency: 'EUR' } },
  { type: 'form_submit', at: min(1), lead: 'cy', accountId: 'globex', properties: { formId: 'demo' } },
  { type: 'form_submit', at: min(3), lead: 'dee', properties: { formId: 'demo' } },
  { type: 'payment', at: min(4), lead: 'dee', properties: { amount: 50, currency: 'EUR' } },
]);

const definition = (unit: FunnelDefinitionInput['unit']) =>
  FunnelDefinitionSchema.parse({
    steps: [{ type: 'form_submit' }, { type: 'payment' }],
    order: 'ordered',
    window: { value: 1, unit: 'days' },
    dateRange: { from: '2026-03-02T00:00:00Z', to: '2026-03-03T00:00:00Z' },
    unit,
  });

const UNITS_REACHED = {
  // ana, cy and dee fill the form; only dee pays after her own form
  leads: { steps: [3, 1], outcomes: [['ana', 1], ['cy', 1], ['dee', 2]] },
  // Acme is as far as its furthest contact (ana: the form), Globex as cy
  accounts: { steps: [3, 1], outcomes: [['account~acme', 1], ['account~globex', 1], ['dee', 2]] },
  // Acme's history: ana's form, then bo's payment
  accounts_pooled: { steps: [3, 2], outcomes: [['account~acme', 2], ['account~globex', 1], ['dee', 2]] },
} as const;

const timeToConvertQuery = (unit: TimeToConvertQueryInput['unit']): TimeToConvertQueryInput => ({
  from: { type: 'form_submit' },
  to: { type: 'payment' },
  dateRange: { from: '2026-03-02T00:00:00Z', to: '2026-03-03T00:00:00Z' },
  ...(unit === undefined ? {} : { unit }),
});

// form -> payment: leads: ana, cy, dee enter, dee converts in 1 minute; pooled: Acme (ana's form at 1, bo's payment at 5: 4 minutes), Globex and dee enter, Acme and dee convert
const TIME_TO_CONVERT = {
  leads: { entered: 3, converted: 1, meanMs: 60_000 },
  accounts_pooled: { entered: 3, converted: 2, meanMs: 150_000 },
} as const;

describe('accounts as buying groups, by the reference', () => {
  it.each(Object.entries(UNITS_REACHED))('%s', (unit, expected) => {
    const spec = funnelSpecOf(definition(unit as keyof typeof UNITS_REACHED));
    const touchpoints = touchpointsFromLog(LOG);
    expect(countFunnel(touchpoints, spec).steps.map((s) => s.leads)).toEqual(expected.steps);
    expect(funnelOutcomes(touchpoints, spec).map((o) => [o.actorId, o.reached])).toEqual(expected.outcomes);
  });

  it('pooled: an account enters when any contact takes step 0, and the chain is the account\'s', () => {
    const spec = funnelSpecOf(definition('accounts_pooled'));
    const acme = funnelOutcomes(touchpointsFromLog(LOG), spec).find((o) => o.actorId === 'account~acme');
    expect(acme).toEqual({ actorId: 'account~acme', reached: 2, breakdown: '', enteredAtMs: min(1) });
  });

  it.each(Object.entries(TIME_TO_CONVERT))('time to convert, %s', (unit, expected) => {
    const q = TimeToConvertQuerySchema.parse(timeToConvertQuery(unit as keyof typeof TIME_TO_CONVERT)) as TouchpointTimeToConvertQuery;
    const [row] = touchpointTimeToConvert(touchpointsFromLog(LOG), touchpointTimeToConvertSpecOf(q)).rows;
    expect({ entered: row?.entered, converted: row?.converted, meanMs: row?.meanMs }).toEqual(expected);
  });

  it('time to convert between stages takes no unit: the conversion query counts accounts there', () => {
    const parsed = TimeToConvertQuerySchema.safeParse({ ...timeToConvertQuery('accounts_pooled'), from: 'mql', to: 'sql', configVersion: 'v1' });
    expect(parsed.success ? [] : parsed.error.issues.map((i) => i.path.join('.'))).toEqual(['unit']);
  });
});

for (const backend of testBackends()) {
  describe.skipIf(backend.skip)(`accounts as buying groups in SQL (${backend.name})`, () => {
    let client: AnalyticsClient;
    beforeAll(async () => {
      client = await backend.open();
      await backend.reset(client);
      await applyTouchpointBatch(client, LOG);
    });
    afterAll(() => backend.close());

    it.each(Object.entries(UNITS_REACHED))('%s', async (unit, expected) => {
      const def = definition(unit as keyof typeof UNITS_REACHED);
      const result = await runFunnel(client, def);
      expect(result.unit).toBe(unit);
      expect(result.steps.map((s) => s.leads)).toEqual(expected.steps);
      const units = await listFunnelLeads(client, def, { stepIndex: 0, limit: 100 });
      expect(units.leads.map((l) => [l.unitId, l.reachedSteps])).toEqual(expected.outcomes);
    });

    it.each(Object.entries(TIME_TO_CONVERT))('time to convert, %s', async (unit, expected) => {
      const result = await runTimeToConvert(client, timeToConvertQuery(unit as keyof typeof TIME_TO_CONVERT));
      const [row] = result.rows;
      expect({ entered: row?.entered, converted: row?.converted, meanMs: row?.meanMs }).toEqual(expected);
    });

    it('pooled: a unit row names the account, not a lead', async () => {
      const units = await listFunnelLeads(client, definition('accounts_pooled'), { stepIndex: 1, limit: 100 });
      expect(units.leads.map((l) => ({ unitId: l.unitId, leadId: l.leadId, accountId: l.accountId, enteredAt: l.enteredAt }))).toEqual([
        { unitId: 'account~acme', leadId: null, accountId: 'acme', enteredAt: new Date(min(1)).toISOString() },
        { unitId: 'dee', leadId: 'dee', accountId: null, enteredAt: new Date(min(3)).toISOString() },
      ]);
    });
  });
}
