import type { StageTransition } from '@sluice/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnalyticsClient } from './client.js';
import { AmbiguousCurrencyError, measureDealSize, measurePlanDealSize, parseDealSizeQuery } from './deal-size.js';
import { applyTouchpointBatch } from './sink.js';
import type { LeadProfileRow } from './stage-tables.js';
import { applyLeadProfiles, applyStageTransitionChanges } from './stage-tables.js';
import { testBackends } from './test-backends.js';
import { recordedLog } from './test-log.js';

const CV = 'deal-size-1';
const customer = (lead: string, at: string): StageTransition => ({
  leadId: lead,
  anonymousId: undefined,
  from: 'sql',
  to: 'customer',
  at: Date.parse(at),
  skipped: false,
  rule: 'customer.paid_or_signed',
  eventId: `${lead}-won`,
  configVersion: CV,
});
const unit = (lead: string, businessUnit: string): LeadProfileRow => ({
  leadId: lead,
  configVersion: CV,
  businessUnit,
  source: '',
  channel: '',
  campaign: '',
  role: '',
  industry: '',
  country: '',
  companySize: 0,
  leadSource: '',
  owner: '',
  currentStage: 'customer',
});
const payment = (lead: string, at: string, amount: number, currency = 'EUR') => ({ type: 'payment', at, lead, properties: { amount, currency } });
const spring = { from: '2026-03-01T00:00:00Z', to: '2026-05-01T00:00:00Z' };

for (const backend of testBackends()) {
  describe.skipIf(backend.skip)(`deal size measured from payments (${backend.name})`, () => {
    let client: AnalyticsClient;
    beforeAll(async () => {
      client = await backend.open();
      await backend.reset(client);
      // Deals won in [Mar, May):
      //   A (enterprise) won 10 Mar: pays 10,000 EUR that moment and 2,000 EUR 36 days later; 3,000 EUR 132 days later is a renewal, not the deal
      //   B (enterprise) won 20 Mar: pays 8,000 EUR five days later
      //   C (smb) won 1 Apr: pays 5,000 USD
      //   D (smb) won 5 Apr: no payment yet
      //   F (smb) won 5 Mar: its 7,000 EUR was paid a day BEFORE it became a customer, so its window holds nothing
      //   E won in December, outside the range: its 99,999 EUR is not this period's
      await applyStageTransitionChanges(client, {
        version: 1,
        removals: [],
        upserts: [
          customer('A', '2026-03-10T10:00:00Z'),
          customer('B', '2026-03-20T10:00:00Z'),
          customer('C', '2026-04-01T10:00:00Z'),
          customer('D', '2026-04-05T10:00:00Z'),
          customer('F', '2026-03-05T10:00:00Z'),
          customer('E', '2025-12-01T10:00:00Z'),
        ],
      });
      await applyLeadProfiles(client, [unit('A', 'enterprise'), unit('B', 'enterprise'), unit('C', 'smb'), unit('D', 'smb'), unit('F', 'smb'), unit('E', 'smb')], 1);
      await applyTouchpointBatch(
        client,
        recordedLog([
          payment('A', '2026-03-10T10:00:00Z', 10_000),
          payment('A', '2026-04-15T10:00:00Z', 2_000),
          payment('A', '2026-07-20T10:00:00Z', 3_000),
          payment('B', '2026-03-25T10:00:00Z', 8_000),
          payment('C', '2026-04-01T12:00:00Z', 5_000, 'USD'),
          payment('F', '2026-03-04T10:00:00Z', 7_000),
          payment('E', '2025-12-01T10:00:00Z', 99_999),
        ]),
      );
    });
    afterAll(() => backend.close());

    const query = { configVersion: CV, customerStage: 'customer', dateRange: spring };

    it('when the deals were paid in two currencies and none is asked for, then it says which rather than summing them', async () => {
      const result = await measureDealSize(client, query);
      expect(result).toMatchObject({ currency: null, deals: 0, average: null, withoutPayments: 2 });
      expect(result.currencies).toEqual([
        { currency: 'EUR', deals: 2, revenue: 20_000 },
        { currency: 'USD', deals: 1, revenue: 5_000 },
      ]);
    });

    it('when a currency is asked for, then deals are sized in it: payments from winning to the window end, the spread across deals', async () => {
      const result = await measureDealSize(client, { ...query, currency: 'EUR' });
      // A = 10,000 + 2,000 (36 days in), B = 8,000; sample standard deviation of [12,000, 8,000] = 2,000 * sqrt(2)
      expect([result.currency, result.deals, result.revenue, result.average]).toEqual(['EUR', 2, 20_000, 10_000]);
      expect(result.stdDev).toBeCloseTo(2_000 * Math.SQRT2, 6);
      // a 30-day window leaves A's second payment out: (10,000 + 8,000) / 2
      expect((await measureDealSize(client, { ...query, currency: 'EUR', revenueWindowDays: 30 })).average).toBe(9_000);
    });

    it('when a business unit is asked for, then only its deals count, and its one currency is taken', async () => {
      expect(await measureDealSize(client, { ...query, businessUnit: 'enterprise' })).toMatchObject({ currency: 'EUR', deals: 2, average: 10_000, withoutPayments: 0 });
      expect(await measureDealSize(client, { ...query, businessUnit: 'smb' })).toMatchObject({ currency: 'USD', deals: 1, average: 5_000, withoutPayments: 2 });
      expect(await measureDealSize(client, { ...query, businessUnit: 'nobody' })).toMatchObject({ currency: null, deals: 0, average: null, withoutPayments: 0, currencies: [] });
    });

    it('gives a plan the size in the one currency, refuses to pick one of several, and nothing when no deal was paid', async () => {
      expect(await measurePlanDealSize(client, { ...query, businessUnit: 'enterprise' })).toEqual({ deals: 2, revenue: 20_000, stdDev: expect.closeTo(2_000 * Math.SQRT2, 6), currency: 'EUR' });
      await expect(measurePlanDealSize(client, query)).rejects.toThrow(AmbiguousCurrencyError);
      await expect(measurePlanDealSize(client, query)).rejects.toThrow('paid in EUR (2 deals) and USD (1 deal)');
      expect(await measurePlanDealSize(client, { ...query, businessUnit: 'nobody' })).toBeUndefined();
      expect(await measurePlanDealSize(client, { ...query, currency: 'GBP' })).toBeUndefined();
    });

    it('names bad fields', () => {
      const parsed = parseDealSizeQuery({ ...query, currency: 'euro', revenueWindowDays: -1 });
      expect(parsed.ok ? [] : parsed.issues.map((i) => i.field)).toEqual(['currency', 'revenueWindowDays']);
    });
  });
}
