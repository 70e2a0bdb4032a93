import { touchpointsFromLog } from '@sluice/domain';
import { countFunnel } from './queries/funnel/reference.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AnalyticsClient } from './client.js';
import type { FunnelDefinitionInput } from './funnel-definition.js';
import { FunnelDefinitionSchema, funnelSpecOf, parseFunnelDefinition } from './funnel-definition.js';
import { listFunnelLeads, runFunnel } from './funnel.js';
import { applyTouchpointBatch } from './sink.js';
import { testBackends } from './test-backends.js';
import type { LogLine } from './test-log.js';
import { recordedLog } from './test-log.js';

const T0 = Date.UTC(2026, 2, 2, 9, 0, 0);
const min = (m: number) => T0 + m * 60_000;
const base = { window: { value: 10, unit: 'minutes' }, dateRange: { from: '2026-03-02T00:00:00Z', to: '2026-03-03T00:00:00Z' } } as const;
const leadsAt = (result: Awaited<ReturnType<typeof runFunnel>>) => result.steps.map((s) => s.leads);

for (const backend of testBackends()) {
  describe.skipIf(backend.skip)(`funnels (${backend.name})`, () => {
    let client: AnalyticsClient;
    beforeAll(async () => {
      client = await backend.open();
    });
    beforeEach(() => backend.reset(client));
    afterAll(() => backend.close());

    /** Loads the log and returns the SQL counts, checking them against the reference on the way. */
    async function counts(lines: LogLine[], input: Partial<FunnelDefinitionInput>) {
      const log = recordedLog(lines);
      await applyTouchpointBatch(client, log);
      const def = FunnelDefinitionSchema.parse({ ...base, ...input });
      const result = await runFunnel(client, def);
      const reference = countFunnel(touchpointsFromLog(log), funnelSpecOf(def));
      expect(result.steps.map(({ type: _t, label: _l, optional: _o, ...s }) => s)).toEqual(reference.steps);
      expect(result.breakdown?.groups ?? []).toEqual(reference.breakdown);
      return result;
    }

    it('counts the same funnel over the previous period or any range beside it', async () => {
      // L1 converts on March 2nd (the funnel's day), L2 only visits on March 1st (the previous period), L3 converts on February 20th
      const lines: LogLine[] = [
        { type: 'visit', at: min(0), lead: 'L1' },
        { type: 'form_submit', at: min(5), lead: 'L1', properties: { formId: 'f' } },
        { type: 'visit', at: min(-24 * 60), lead: 'L2' },
        { type: 'visit', at: Date.UTC(2026, 1, 20, 9), lead: 'L3' },
        { type: 'form_submit', at: Date.UTC(2026, 1, 20, 9, 1), lead: 'L3', properties: { formId: 'f' } },
      ];
      const steps = [{ type: 'visit' }, { type: 'form_submit' }] as const;
      const previous = await counts(lines, { steps: [...steps], compareTo: 'previous_period' });
      expect(leadsAt(previous)).toEqual([1, 1]);
      expect(previous.comparison?.dateRange).toEqual({ from: '2026-03-01T00:00:00.000Z', to: '2026-03-02T00:00:00.000Z' });
      expect(previous.comparison?.steps.map((s) => s.leads)).toEqual([1, 0]);
      const def = FunnelDefinitionSchema.parse({ ...base, steps: [...steps], compareTo: { from: '2026-02-01T00:00:00Z', to: '2026-03-01T00:00:00Z' } });
      expect((await runFunnel(client, def)).comparison?.steps.map((s) => s.leads)).toEqual([1, 1]);
    });

    it('times each step from first reaching the previous one, in total and per breakdown value', async () => {
      // L1: visit 0 (ads), form 2, demo 7; L2: visit 0 (seo), form 4; in minutes
      const result = await counts(
        [
          { type: 'visit', at: min(0), lead: 'L1', source: 'ads' },
          { type: 'form_submit', at: min(2), lead: 'L1', properties: { formId: 'f' } },
          { type: 'demo_held', at: min(7), lead: 'L1' },
          { type: 'visit', at: min(0), lead: 'L2', source: 'seo' },
          { type: 'form_submit', at: min(4), lead: 'L2', properties: { formId: 'f' } },
        ],
        { steps: [{ type: 'visit' }, { type: 'form_submit' }, { type: 'demo_held' }], breakdown: 'source', timeToConvert: true },
      );
      const pairs = result.timeToConvert!.pairs;
      // visit -> form: 2 and 4 minutes (mean 3); form -> demo: 5 minutes of L1's; visit -> demo: 7 minutes
      expect(pairs.map((x) => [x.fromStep, x.toStep, x.total.converted, x.total.meanMs])).toEqual([
        [0, 1, 2, 3 * 60_000],
        [1, 2, 1, 5 * 60_000],
        [0, 2, 1, 7 * 60_000],
      ]);
      expect(pairs[0]!.groups.map((g) => [g.segment, g.medianMs])).toEqual([
        ['ads', 2 * 60_000],
        ['seo', 4 * 60_000],
      ]);
      // 2 and 4 minutes fall in the 1m-5m bucket
      const bucket = result.timeToConvert!.buckets.findIndex((b) => b.label === '1m-5m');
      expect(pairs[0]!.total.histogram[bucket]).toBe(2);
    });

    it('counts funnels of up to 32 steps (the step mask is 32 bits; unordered 8, at most 6 of one event type), and refuses more', async () => {
      // L1 visits 32 times a minute apart, then submits a form and holds a demo; L2 visits 20 times and L3 5 times:
      // with n visit steps in a 60-minute window each reaches min(n, its visits)
      const visits = (lead: string, k: number): LogLine[] => Array.from({ length: k }, (_, i) => ({ type: 'visit', at: min(i), lead }));
      const lines = [...visits('L1', 32), { type: 'form_submit', at: min(32), lead: 'L1' }, { type: 'demo_held', at: min(33), lead: 'L1' }, ...visits('L2', 20), ...visits('L3', 5)];
      const steps = (n: number) => Array.from({ length: n }, () => ({ type: 'visit' as const }));
      const expected = (n: number) => Array.from({ length: n }, (_, k) => [32, 20, 5].filter((v) => v > k).length);
      await applyTouchpointBatch(client, recordedLog(lines));
      const leadsOf = async (order: string, funnelSteps: ReadonlyArray<{ type: string }>) =>
        leadsAt(await runFunnel(client, FunnelDefinitionSchema.parse({ ...base, steps: funnelSteps, order, window: { value: 60, unit: 'minutes' } })));
      for (const order of ['ordered', 'strict']) expect(await leadsOf(order, steps(32))).toEqual(expected(32));
      // unordered: L1 takes all 8 steps, L2 the 6 visit steps, L3 5 of them
      expect(await leadsOf('unordered', [...steps(6), { type: 'form_submit' }, { type: 'demo_held' }])).toEqual([3, 3, 3, 3, 3, 2, 1, 1]);
      expect(parseFunnelDefinition({ ...base, steps: steps(33) })).toMatchObject({ ok: false, issues: [{ field: 'steps', message: 'a funnel has at most 32 steps' }] });
      expect(parseFunnelDefinition({ ...base, steps: [...steps(6), { type: 'form_submit' }, { type: 'demo_held' }, { type: 'meeting' }], order: 'unordered' })).toMatchObject({ ok: false, issues: [{ field: 'steps' }] });
      expect(parseFunnelDefinition({ ...base, steps: steps(7), order: 'unordered' })).toMatchObject({ ok: false, issues: [{ field: 'steps.6.type' }] });
    });

    it('counts leads, not events, and a step exactly at the end of the window is in', async () => {
      const result = await counts(
        [
          { type: 'visit', at: min(0), lead: 'L1' },
          { type: 'visit', at: min(1), lead: 'L1' },
          { type: 'form_submit', at: min(10), lead: 'L1', properties: { formId: 'f' } },
          { type: 'visit', at: min(0), lead: 'L2' },
          { type: 'form_submit', at: min(10) + 1, lead: 'L2', properties: { formId: 'f' } },
        ],
        { steps: [{ type: 'visit' }, { type: 'form_submit' }] },
      );
      expect(result.steps).toEqual([
        { index: 0, type: 'visit', leads: 2, conversionFromPrevious: 1, conversionFromFirst: 1, droppedFromPrevious: 0 },
        { index: 1, type: 'form_submit', leads: 1, conversionFromPrevious: 0.5, conversionFromFirst: 0.5, droppedFromPrevious: 1 },
      ]);
    });

    it('stitches anonymous history to the lead of the first link, even when the link comes later', async () => {
      const result = await counts(
        [
          { type: 'visit', at: min(0), anon: 'b1', source: 'ads' },
          { type: 'visit', at: min(1), anon: 'b2' },
          { type: 'form_submit', at: min(3), anon: 'b1', lead: 'L1', properties: { formId: 'f' } },
          { type: 'form_submit', at: min(4), anon: 'b1', lead: 'L9', properties: { formId: 'f' } },
        ],
        { steps: [{ type: 'visit' }, { type: 'form_submit' }], breakdown: 'source' },
      );
      expect(leadsAt(result)).toEqual([2, 1]);
      expect(result.breakdown?.groups).toEqual([
        { value: '', steps: expect.arrayContaining([expect.objectContaining({ index: 1, leads: 0 })]) },
        { value: 'ads', steps: expect.arrayContaining([expect.objectContaining({ index: 1, leads: 1 })]) },
      ]);
      const leads = await listFunnelLeads(client, FunnelDefinitionSchema.parse({ ...base, steps: [{ type: 'visit' }, { type: 'form_submit' }] }), { stepIndex: 0 });
      expect(leads.leads).toEqual([
        { unitId: 'L1', leadId: 'L1', anonymousId: null, accountId: null, reachedSteps: 2, breakdownValue: '', enteredAt: new Date(min(0)).toISOString() },
        { unitId: 'anon~b2', leadId: null, anonymousId: 'b2', accountId: null, reachedSteps: 1, breakdownValue: '', enteredAt: new Date(min(1)).toISOString() },
      ]);
    });

    it('orders equal timestamps by log position', async () => {
      const lines: LogLine[] = [
        { type: 'form_submit', at: min(0), lead: 'L1', properties: { formId: 'f' } },
        { type: 'visit', at: min(0), lead: 'L1' },
      ];
      expect(leadsAt(await counts(lines, { steps: [{ type: 'visit' }, { type: 'form_submit' }] }))).toEqual([1, 0]);
      await backend.reset(client);
      expect(leadsAt(await counts(lines, { steps: [{ type: 'form_submit' }, { type: 'visit' }] }))).toEqual([1, 1]);
    });

    it('ties: funnel_order takes events at one instant in the funnel\'s order; a grace makes a slot one instant', async () => {
      const steps = [{ type: 'visit' }, { type: 'form_submit' }];
      // the form logged before the visit, same millisecond: log_order 1 step, funnel_order 2
      await applyTouchpointBatch(client, recordedLog([{ type: 'form_submit', at: min(0), lead: 'L1', properties: { formId: 'f' } }, { type: 'visit', at: min(0), lead: 'L1' }]));
      const run = async (input: Partial<FunnelDefinitionInput>) => leadsAt(await runFunnel(client, FunnelDefinitionSchema.parse({ ...base, steps, ...input })));
      expect(await run({})).toEqual([1, 0]);
      expect(await run({ ties: 'funnel_order' })).toEqual([1, 1]);
      await backend.reset(client);
      // L2: form at 09:00:20, visit at 09:00:40: a minute's grace reads both as 09:00, one instant; L3: form 09:00:50, visit 09:01:10, two minutes
      await counts(
        [
          { type: 'form_submit', at: min(0) + 20_000, lead: 'L2', properties: { formId: 'f' } },
          { type: 'visit', at: min(0) + 40_000, lead: 'L2' },
          { type: 'form_submit', at: min(0) + 50_000, lead: 'L3', properties: { formId: 'f' } },
          { type: 'visit', at: min(1) + 10_000, lead: 'L3' },
        ],
        { steps },
      );
      expect(await run({ ties: 'funnel_order' })).toEqual([2, 0]);
      expect(await run({ ties: 'funnel_order', tieGraceSeconds: 60 })).toEqual([2, 1]);
      const lead = (await listFunnelLeads(client, FunnelDefinitionSchema.parse({ ...base, steps, ties: 'funnel_order', tieGraceSeconds: 60 }), { stepIndex: 1 })).leads;
      // entered at the slot's time, 09:00:00
      expect(lead.map((l) => [l.leadId, l.enteredAt])).toEqual([['L2', '2026-03-02T09:00:00.000Z']]);
    });

    it('strict: another event between two steps breaks the chain; ordered lets it pass', async () => {
      const lines: LogLine[] = [
        { type: 'visit', at: min(0), lead: 'L1' },
        { type: 'email_open', at: min(1), lead: 'L1' },
        { type: 'form_submit', at: min(2), lead: 'L1', properties: { formId: 'f' } },
      ];
      const steps = [{ type: 'visit' }, { type: 'form_submit' }] as const;
      expect(leadsAt(await counts(lines, { steps: [...steps], order: 'strict' }))).toEqual([1, 0]);
      await backend.reset(client);
      expect(leadsAt(await counts(lines, { steps: [...steps], order: 'ordered' }))).toEqual([1, 1]);
    });

    it('unordered: steps in any order within the window from the earliest', async () => {
      const result = await counts(
        [
          { type: 'form_submit', at: min(0), lead: 'L1', properties: { formId: 'f' } },
          { type: 'visit', at: min(5), lead: 'L1' },
        ],
        { steps: [{ type: 'visit' }, { type: 'form_submit' }], order: 'unordered' },
      );
      expect(leadsAt(result)).toEqual([1, 1]);
    });

    it('filters on envelope fields and properties (numbers compare as their JSON text), eq and in', async () => {
      const result = await counts(
        [
          { type: 'visit', at: min(0), lead: 'L1', channel: 'paid' },
          { type: 'quote', at: min(1), lead: 'L1', properties: { quoteId: 'q', amount: 24000, currency: 'EUR', x: { tier: 'gold' } } },
          { type: 'visit', at: min(0), lead: 'L2', channel: 'social' },
          { type: 'quote', at: min(1), lead: 'L2', properties: { quoteId: 'q', amount: 24000, currency: 'EUR', x: { tier: 'silver' } } },
          { type: 'visit', at: min(0), lead: 'L3', channel: 'organic' },
        ],
        {
          steps: [
            { type: 'visit', where: [{ key: 'channel', op: 'in', values: ['paid', 'social'] }] },
            { type: 'quote', where: [{ key: 'properties.amount', op: 'eq', value: 24000 }, { key: 'properties.x.tier', op: 'eq', value: 'gold' }] },
          ],
        },
      );
      expect(leadsAt(result)).toEqual([2, 1]);
    });

    it('exclusion: an unsubscribe between two steps stops the lead at the first', async () => {
      const result = await counts(
        [
          { type: 'visit', at: min(0), lead: 'L1' },
          { type: 'form_submit', at: min(1), lead: 'L1', properties: { formId: 'f' } },
          { type: 'unsubscribe', at: min(2), lead: 'L1' },
          { type: 'demo_held', at: min(3), lead: 'L1', properties: { demoId: 'd' } },
          { type: 'visit', at: min(0), lead: 'L2' },
          { type: 'unsubscribe', at: min(1), lead: 'L2' },
          { type: 'form_submit', at: min(2), lead: 'L2', properties: { formId: 'f' } },
          { type: 'demo_held', at: min(3), lead: 'L2', properties: { demoId: 'd' } },
        ],
        { steps: [{ type: 'visit' }, { type: 'form_submit' }, { type: 'demo_held' }], exclusions: [{ type: 'unsubscribe', afterStep: 1, beforeStep: 2 }] },
      );
      expect(leadsAt(result)).toEqual([2, 2, 1]);
    });

    it('only anchors inside the date range count, [from, to)', async () => {
      const result = await counts(
        [
          { type: 'visit', at: '2026-03-02T00:00:00Z', lead: 'L1' },
          { type: 'visit', at: '2026-03-03T00:00:00Z', lead: 'L2' },
          { type: 'visit', at: '2026-03-01T23:59:59.999Z', lead: 'L3' },
        ],
        { steps: [{ type: 'visit' }] },
      );
      expect(leadsAt(result)).toEqual([1]);
    });

    it('lists leads per step, the ones who dropped, by breakdown value, in pages', async () => {
      const lines: LogLine[] = [];
      for (let i = 0; i < 7; i++) {
        lines.push({ type: 'visit', at: min(i), lead: `L${i}`, source: i % 2 === 0 ? 'even' : 'odd' });
        if (i < 3) lines.push({ type: 'form_submit', at: min(i + 1), lead: `L${i}`, properties: { formId: 'f' } });
      }
      await applyTouchpointBatch(client, recordedLog(lines));
      const def = FunnelDefinitionSchema.parse({ ...base, steps: [{ type: 'visit' }, { type: 'form_submit' }], breakdown: 'source' });
      const page1 = await listFunnelLeads(client, def, { stepIndex: 0, limit: 4 });
      const page2 = await listFunnelLeads(client, def, { stepIndex: 0, limit: 4, after: page1.nextAfter! });
      expect([...page1.leads, ...page2.leads].map((l) => l.leadId)).toEqual(['L0', 'L1', 'L2', 'L3', 'L4', 'L5', 'L6']);
      expect(page2.nextAfter).toBeNull();
      expect((await listFunnelLeads(client, def, { stepIndex: 1 })).leads.map((l) => l.leadId)).toEqual(['L0', 'L1', 'L2']);
      expect((await listFunnelLeads(client, def, { stepIndex: 0, status: 'dropped' })).leads.map((l) => l.leadId)).toEqual(['L3', 'L4', 'L5', 'L6']);
      expect((await listFunnelLeads(client, def, { stepIndex: 0, status: 'dropped', breakdownValue: 'odd' })).leads.map((l) => l.leadId)).toEqual(['L3', 'L5']);
      await expect(listFunnelLeads(client, def, { stepIndex: 2 })).rejects.toThrow(/past the funnel's last step/);
    });

    it('optional steps: a lead that skips one still counts at the later steps; the one at the step are those who took it', async () => {
      // visit -> form (optional) -> demo, 10-minute window
      const lines: LogLine[] = [
        ...[{ type: 'visit', at: min(0), lead: 'L1' }, { type: 'form_submit', at: min(1), lead: 'L1', properties: { formId: 'f' } }, { type: 'demo_held', at: min(2), lead: 'L1' }],
        ...[{ type: 'visit', at: min(0), lead: 'L2' }, { type: 'demo_held', at: min(3), lead: 'L2' }], // skips the form
        ...[{ type: 'visit', at: min(0), lead: 'L3' }, { type: 'form_submit', at: min(4), lead: 'L3', properties: { formId: 'f' } }], // form, no demo
        { type: 'visit', at: min(0), lead: 'L4' },
      ];
      const steps = [{ type: 'visit' }, { type: 'form_submit', optional: true }, { type: 'demo_held' }];
      const result = await counts(lines, { steps });
      // visit 4; form L1 and L3 (2 of 4 visits); demo L1 and L2 (2 of 4: measured from visit, the previous required step)
      expect(result.steps.map((s) => [s.leads, s.conversionFromPrevious, s.optional ?? false])).toEqual([
        [4, 1, false],
        [2, 0.5, true],
        [2, 0.5, false],
      ]);
      const def = FunnelDefinitionSchema.parse({ ...base, steps });
      const at = async (stepIndex: number, status?: 'dropped') => (await listFunnelLeads(client, def, { stepIndex, ...(status ? { status } : {}) })).leads.map((l) => [l.leadId, l.skippedSteps]);
      expect(await at(1)).toEqual([
        ['L1', []],
        ['L3', []],
      ]);
      expect(await at(2)).toEqual([
        ['L1', []],
        ['L2', [1]],
      ]);
      // dropped after the form: took it and got no further
      expect(await at(1, 'dropped')).toEqual([['L3', []]]);
    });

    it('returns the largest breakdown groups first and says when it cut some', async () => {
      const lines: LogLine[] = ['a', 'b', 'b', 'c', 'c', 'c'].map((campaign, i) => ({ type: 'visit', at: min(i), lead: `L${i}`, campaign }));
      await applyTouchpointBatch(client, recordedLog(lines));
      const def = FunnelDefinitionSchema.parse({ ...base, steps: [{ type: 'visit' }], breakdown: 'campaign' });
      const result = await runFunnel(client, def, { breakdownLimit: 2 });
      expect(leadsAt(result)).toEqual([6]);
      expect(result.breakdown).toEqual({
        key: 'campaign',
        keys: ['campaign'],
        groups: [
          { value: 'c', steps: [expect.objectContaining({ leads: 3 })] },
          { value: 'b', steps: [expect.objectContaining({ leads: 2 })] },
        ],
        truncated: true,
      });
    });

    it('gives zero counts for an empty funnel', async () => {
      const def = FunnelDefinitionSchema.parse({ ...base, steps: [{ type: 'visit' }, { type: 'payment' }], breakdown: 'source' });
      const result = await runFunnel(client, def);
      expect(leadsAt(result)).toEqual([0, 0]);
      expect(result.breakdown).toEqual({ key: 'source', keys: ['source'], groups: [], truncated: false });
    });

    it('breaks down by several keys at once, and by every value an attempt starts with', async () => {
      // L1 visits from ads/paid and fills the form; L2 visits from ads/organic, then from seo/organic, and fills the form within 10 minutes of the second
      const lines: LogLine[] = [
        { type: 'visit', at: min(0), lead: 'L1', source: 'ads', channel: 'paid' },
        { type: 'form_submit', at: min(1), lead: 'L1', properties: { formId: 'f' } },
        { type: 'visit', at: min(0), lead: 'L2', source: 'ads', channel: 'organic' },
        { type: 'visit', at: min(20), lead: 'L2', source: 'seo', channel: 'organic' },
        { type: 'form_submit', at: min(25), lead: 'L2', properties: { formId: 'f' } },
      ];
      const steps = [{ type: 'visit' }, { type: 'form_submit' }] as const;
      const groupsOf = (r: Awaited<ReturnType<typeof runFunnel>>) => r.breakdown?.groups.map((g) => [g.value, g.steps.map((s) => s.leads)]);
      // first touch of the counted attempt: L1 ads/paid, L2 seo/organic (its second visit reaches the form)
      const both = await counts(lines, { steps: [...steps], breakdown: ['source', 'channel'] });
      expect(both.breakdown?.keys).toEqual(['source', 'channel']);
      expect(groupsOf(both)).toEqual([
        ['["ads","paid"]', [1, 1]],
        ['["seo","organic"]', [1, 1]],
      ]);
      const def = FunnelDefinitionSchema.parse({ ...base, steps: [...steps], breakdown: ['source', 'channel'] });
      expect((await listFunnelLeads(client, def, { stepIndex: 0, breakdownValue: '["seo","organic"]' })).leads.map((l) => l.leadId)).toEqual(['L2']);
      // all values: L2 also counts under ads/organic, as far as that attempt got (step 0); the totals still count two leads
      const all = await runFunnel(client, { ...def, attribution: 'all_values' });
      expect(leadsAt(all)).toEqual([2, 2]);
      expect(all.breakdown?.overlapping).toBe(true);
      expect(groupsOf(all)).toEqual([
        ['["ads","organic"]', [1, 0]],
        ['["ads","paid"]', [1, 1]],
        ['["seo","organic"]', [1, 1]],
      ]);
    });
  });
}

describe('funnel definition schema', () => {
  it('names every bad field', () => {
    const r = parseFunnelDefinition({
      steps: [{ type: 'vist' }, { type: 'visit', where: [{ key: 'utm', op: 'eq', value: 'x' }, { key: 'source', op: 'in', values: [] }] }],
      order: 'sideways',
      window: { value: 4000, unit: 'days' },
      dateRange: { from: '2026-03-02T00:00:00Z', to: '2026-03-01T00:00:00Z' },
      exclusions: [{ type: 'unsubscribe', afterStep: 1, beforeStep: 5 }],
      extra: true,
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const byField = Object.fromEntries(r.issues.map((i) => [i.field, i.message]));
    expect(byField['steps.0.type']).toMatch(/unknown event type "vist"; known types: .*visit/);
    expect(byField['steps.1.where.0.key']).toMatch(/must be one of source, channel, campaign, accountId or properties.<path>/);
    expect(byField['steps.1.where.1.values']).toBe('needs at least one value');
    expect(byField['order']).toBeDefined();
    expect(byField['window']).toBe('must be at most 3650 days');
    expect(byField['dateRange.to']).toBe('from must be before to');
    expect(byField['']).toMatch(/unknown property: extra/);
  });

  it('reports unusable fields instead of throwing', () => {
    const issues = (input: unknown) => {
      const r = parseFunnelDefinition(input);
      return r.ok ? [] : r.issues.map((i) => i.field);
    };
    expect(issues({ ...base, steps: [{ type: 'visit' }], dateRange: { from: 'yesterday', to: '2026-02-30T00:00:00Z' } })).toEqual(['dateRange.from', 'dateRange.to']);
    expect(issues({ ...base, steps: [{ type: 7 }], window: { value: 2, unit: 'weeks' }, dateRange: {} })).toEqual(['steps.0.type', 'window.unit', 'dateRange.from', 'dateRange.to']);
    expect(issues(null)).toEqual(['']);
  });

  it('checks exclusions against the steps and the order', () => {
    const steps = [{ type: 'visit' }, { type: 'form_submit' }];
    const issues = (input: object) => {
      const r = parseFunnelDefinition({ ...base, steps, ...input });
      return r.ok ? [] : r.issues;
    };
    expect(issues({ exclusions: [{ type: 'unsubscribe', afterStep: 0, beforeStep: 2 }] })).toEqual([{ field: 'exclusions.0.beforeStep', message: 'must be a step index below 2' }]);
    expect(issues({ exclusions: [{ type: 'unsubscribe', afterStep: 1, beforeStep: 1 }] })).toEqual([{ field: 'exclusions.0.afterStep', message: 'must be below beforeStep' }]);
    expect(issues({ order: 'unordered', exclusions: [{ type: 'unsubscribe', afterStep: 0, beforeStep: 1 }] })).toEqual([
      { field: 'exclusions', message: expect.stringMatching(/exclusions need an order/) },
    ]);
  });

  it('checks optional steps against the order, the exclusions and the attribution', () => {
    const steps = [{ type: 'visit' }, { type: 'form_submit', optional: true }, { type: 'demo_held' }];
    const issues = (input: object) => {
      const r = parseFunnelDefinition({ ...base, steps, ...input });
      return r.ok ? [] : r.issues;
    };
    expect(issues({ steps: [{ type: 'visit', optional: true }, { type: 'form_submit' }] })).toEqual([{ field: 'steps.0.optional', message: 'step 0 cannot be optional: it starts every attempt' }]);
    expect(issues({ order: 'unordered' })).toEqual([{ field: 'steps.1.optional', message: 'optional steps need an order ("ordered" or "strict")' }]);
    expect(issues({ exclusions: [{ type: 'unsubscribe', afterStep: 1, beforeStep: 2 }] })).toEqual([
      { field: 'exclusions.0.afterStep', message: 'step 1 is optional: an exclusion runs between required steps' },
    ]);
    expect(issues({ attribution: 'step:1' })).toEqual([{ field: 'attribution', message: 'step:1 names an optional step; step:N needs a required step' }]);
    expect(issues({ exclusions: [{ type: 'unsubscribe', afterStep: 0, beforeStep: 2 }], attribution: 'step:2' })).toEqual([]);
  });

  it('takes a tie grace in whole seconds up to an hour', () => {
    const issues = (tieGraceSeconds: unknown) => {
      const r = parseFunnelDefinition({ ...base, steps: [{ type: 'visit' }], tieGraceSeconds });
      return r.ok ? funnelSpecOf(r.definition).options : r.issues;
    };
    expect(issues(60)).toMatchObject({ tieGraceMs: 60_000, ties: 'log_order' });
    expect(issues(1.5)).toEqual([{ field: 'tieGraceSeconds', message: 'must be a whole number of seconds, 0 to 3600' }]);
    expect(issues(7200)).toEqual([{ field: 'tieGraceSeconds', message: 'must be at most 3600 seconds (an hour)' }]);
  });

  it('tells a missing field from one of the wrong type', () => {
    const r = parseFunnelDefinition({ steps: [{ type: 'visit' }], window: { value: '30', unit: 'days' }, reentry: 'yes' });
    expect(r.ok ? [] : r.issues).toEqual([
      { field: 'window.value', message: 'Invalid input: expected number, received string' },
      { field: 'dateRange', message: 'required' },
      { field: 'reentry', message: 'Invalid input: expected boolean, received string' },
    ]);
  });

  it('caps steps, values and the window, and defaults the rest', () => {
    const tooMany = parseFunnelDefinition({ ...base, steps: Array.from({ length: 33 }, () => ({ type: 'visit' })) });
    expect(tooMany.ok ? [] : tooMany.issues).toEqual([{ field: 'steps', message: 'a funnel has at most 32 steps' }]);
    const ok = parseFunnelDefinition({ ...base, steps: [{ type: 'visit', where: [{ key: 'properties.x.flag', op: 'in', values: [true, 3, 'y'] }] }] });
    expect(ok.ok && ok.definition).toMatchObject({ order: 'ordered', exclusions: [], steps: [{ where: [{ values: ['true', '3', 'y'] }] }] });
    expect(ok.ok && funnelSpecOf(ok.definition)).toMatchObject({ windowMs: 600_000, fromMs: Date.UTC(2026, 2, 2), toMs: Date.UTC(2026, 2, 3) });
  });
});
