import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INGEST_KEY, READ_KEY, chromiumSkipReason as skipReason, repoRoot, startDemoDashboard } from './demo-dashboard.js';
import type { DemoDashboard } from './demo-dashboard.js';

/**
 * The dashboard as a person uses it (demo-dashboard.ts: `sluice serve --demo`
 * and the real page in headless Chromium). Every view's numbers are compared
 * with the API's answer to the same question, asked by this test.
 *
 * The whole suite runs at two instants 13 months apart, so what it checks
 * cannot depend on the day it runs.
 */

if (skipReason) console.warn(`dashboard browser tests skipped: ${skipReason}`);

/** mid-month, so the page's current month holds two weeks of history */
const INSTANTS = ['2026-06-15T11:00:00Z', '2027-07-15T11:00:00Z'];
// modest by default so CI stays fast; DASHBOARD_DEMO_EVENTS=1000000 measures the first view on a large log
const DEMO_EVENTS = Number(process.env.DASHBOARD_DEMO_EVENTS ?? 30_000);

let demo: DemoDashboard | undefined;
let now: number;
let base: string;
let page: Page;

const api = <T>(method: 'GET' | 'POST', path: string, body?: unknown, key?: string) => demo!.api<T>(method, path, body, key);
const ready = (view: string) => demo!.ready(view);
const snap = (name: string) => demo!.snap(name);
const column = (rows: string, key: string, fieldName: string) => demo!.column(rows, key, fieldName);

/** The API's date range for the months the page's inputs show (the demo's rules are in UTC). */
async function pageRange(prefix = 'range'): Promise<{ from: string; to: string }> {
  const from = await page.inputValue(`input[name="${prefix}From"]`);
  const to = await page.inputValue(`input[name="${prefix}To"]`);
  const [y, m] = to.split('-').map(Number) as [number, number];
  return { from: `${from}-01T00:00:00Z`, to: new Date(Date.UTC(y, m, 1)).toISOString().replace('.000Z', 'Z') };
}

interface ConversionRow {
  pair: number;
  from: string;
  to: string;
  period: string;
  periodLabel: string;
  entered: number;
  converted: number;
  rate: number | null;
  medianMs: number | null;
}

/** From a from_first answer: leads entering the first stage, then how many of them reached each later stage. */
function funnelCounts(result: { rows: ConversionRow[] }): Record<string, number> {
  const rows = [...result.rows].sort((a, b) => a.pair - b.pair);
  return Object.fromEntries([[rows[0]!.from, rows[0]!.entered], ...rows.map((r) => [r.to, r.converted])]);
}

/** The cohort heatmap's cells with a value, keyed `<cohort> <from>:<to>`: one attribute of each (the rate in data-value, or data-entered). */
async function heatmapCells(attribute: 'data-value' | 'data-entered'): Promise<Record<string, number>> {
  const cells: Record<string, number> = {};
  for (const cell of await page.locator('[data-testid=cohort-heatmap] td[data-pair]').all()) {
    const periodLabel = await cell.locator('xpath=..').getAttribute('data-period');
    const value = await cell.getAttribute(attribute);
    if (value) cells[`${periodLabel} ${await cell.getAttribute('data-pair')}`] = Number(value);
  }
  return cells;
}

/** An answer's rows with a rate, as heatmapCells keys them. */
const byCell = (rows: ConversionRow[], pick: (r: ConversionRow) => number | null) => Object.fromEntries(rows.filter((r) => r.rate !== null).map((r) => [`${r.periodLabel} ${r.from}:${r.to}`, pick(r)]));

// a page, a server and a replay share two cores with the rest of the suite: generous limits, no timing asserted
describe.skipIf(skipReason).each(INSTANTS)('the dashboard in a browser, now being %s', { timeout: 180_000 }, (instant) => {
  beforeAll(async () => {
    demo = await startDemoDashboard(instant, { events: DEMO_EVENTS, viewport: { width: 1366, height: 860 } });
    ({ now, base, page } = demo);
  }, 900_000);

  afterAll(async () => {
    await demo?.close();
    demo = undefined;
  });

  it('given the demo written at now, then its history reaches up to now and holds nothing after it', async () => {
    const day = 86_400_000;
    const visits = async (from: number, to: number) =>
      (await api<{ steps: Array<{ leads: number }> }>('POST', '/v1/funnels', { steps: [{ type: 'visit' }], window: { value: 1, unit: 'days' }, dateRange: { from: new Date(from).toISOString(), to: new Date(to).toISOString() } })).steps[0]!.leads;
    expect(await visits(now - 7 * day, now)).toBeGreaterThan(0);
    expect(await visits(now, now + 60 * day)).toBe(0);
  });

  it('given a server with API keys, then the page asks for a key, a wrong one is refused, and a read key opens the funnel', async () => {
    await page.goto(`${base}/#/funnel`);
    await page.waitForSelector('#view[data-state="login"]');
    await snap('login');
    await page.fill('input[name="key"]', 'not-a-key-of-this-server');
    await page.click('form.login button[type="submit"]');
    await expect.poll(() => page.textContent('form.login [role="alert"]')).toContain('not accepted');
    await page.fill('input[name="key"]', READ_KEY);
    await page.click('form.login button[type="submit"]');
    await ready('funnel');
    expect(await page.evaluate('sessionStorage.getItem("sluice.apiKey")')).toBe(READ_KEY);
  });

  it('given a reload, then the first view is usable again (its time from navigation is measured and reported)', async () => {
    // the filter menus ask after the first numbers: let them answer, or the reload's queries would queue behind them
    await page.waitForFunction('document.querySelectorAll("select[name=channel] option").length > 1');
    await page.reload();
    await ready('funnel');
    const timing = (await page.evaluate(`(() => {
      const nav = performance.getEntriesByType('navigation')[0];
      return { firstViewReadyMs: performance.getEntriesByName('sluice:first-view-ready')[0]?.startTime ?? null,
               domContentLoadedMs: nav ? nav.domContentLoadedEventEnd : null };
    })()`)) as { firstViewReadyMs: number | null; domContentLoadedMs: number | null };
    expect(timing.firstViewReadyMs).toBeGreaterThan(0);
    const report = { demoEvents: DEMO_EVENTS, ...timing };
    writeFileSync(join(repoRoot, 'test-results', 'dashboard-timing.json'), JSON.stringify(report, null, 2) + '\n');
    console.log(`dashboard first view: ${JSON.stringify(report)}`);
  });

  it('given the funnel, then each stage shows the API cohort counts and step conversion, and filters and a comparison change them to the API answer', async () => {
    const range = await pageRange();
    const counts = funnelCounts(await api<{ rows: ConversionRow[] }>('POST', '/v1/conversion', { dateRange: range, period: 'all', pairs: 'from_first' }));
    expect(await column('[data-testid=funnel-table] tr[data-stage]', 'data-stage', 'count')).toEqual(counts);
    const steps = await api<{ rows: ConversionRow[] }>('POST', '/v1/conversion', { dateRange: range, period: 'all', pairs: 'step_to_step' });
    const medians = await column('[data-testid=funnel-table] tr[data-stage]', 'data-stage', 'median');
    for (const row of steps.rows) expect(medians[row.from]).toBe(row.medianMs);
    const step = await column('[data-testid=funnel-table] tr[data-stage]', 'data-stage', 'step');
    expect(step.lead).toBeCloseTo(counts.lead! / counts.visitor!, 12);
    await snap('funnel');

    // a channel filter
    const channels = await page.locator('select[name="channel"] option').evaluateAll((options) => options.map((o) => o.getAttribute('value')));
    const channel = channels.find((c) => c) as string;
    expect(channel).toBeTruthy();
    await page.selectOption('select[name="channel"]', channel);
    await ready('funnel');
    const filtered = funnelCounts(await api<{ rows: ConversionRow[] }>('POST', '/v1/conversion', { dateRange: range, period: 'all', pairs: 'from_first', filters: [{ key: 'channel', values: [channel] }] }));
    expect(filtered.visitor).toBeLessThan(counts.visitor!);
    expect(await column('[data-testid=funnel-table] tr[data-stage]', 'data-stage', 'count')).toEqual(filtered);
    await page.selectOption('select[name="channel"]', '');
    await ready('funnel');

    // the last six months beside the six before
    const [ty, tm] = range.to.slice(0, 7).split('-').map(Number) as [number, number];
    const month = (back: number) => new Date(Date.UTC(ty, tm - 1 - back, 1)).toISOString().slice(0, 7);
    await page.fill('input[name="rangeFrom"]', month(6));
    await ready('funnel');
    await page.fill('input[name="compareFrom"]', month(12));
    await page.fill('input[name="compareTo"]', month(7));
    await page.check('input[name="compare"]');
    await ready('funnel');
    const recent = funnelCounts(await api<{ rows: ConversionRow[] }>('POST', '/v1/conversion', { dateRange: await pageRange(), period: 'all', pairs: 'from_first' }));
    const before = funnelCounts(await api<{ rows: ConversionRow[] }>('POST', '/v1/conversion', { dateRange: await pageRange('compare'), period: 'all', pairs: 'from_first' }));
    expect(await column('[data-testid=funnel-table] tr[data-stage]', 'data-stage', 'count')).toEqual(recent);
    expect(await column('[data-testid=funnel-table] tr[data-stage]', 'data-stage', 'compareCount')).toEqual(before);
    expect(recent.visitor).not.toBe(counts.visitor);
    await snap('funnel-compare');
    // back to the full year for the other views
    await page.uncheck('input[name="compare"]');
    await page.fill('input[name="rangeFrom"]', range.from.slice(0, 7));
    await ready('funnel');
  });

  it('given the cohorts, then every heatmap cell is the API rate of its cohort and step, by month and by quarter', async () => {
    await page.click('#nav a[data-view="cohorts"]');
    await ready('cohorts');
    const range = await pageRange();
    for (const period of ['month', 'quarter'] as const) {
      if (period === 'quarter') {
        await page.selectOption('select[name="granularity"]', 'quarter');
        await ready('cohorts');
      }
      const answer = await api<{ rows: ConversionRow[] }>('POST', '/v1/conversion', { dateRange: range, period, pairs: 'step_to_step' });
      const expected = byCell(answer.rows, (r) => r.rate);
      expect(Object.keys(expected).length).toBeGreaterThan(3);
      expect(await heatmapCells('data-value')).toEqual(expected);
      await snap(`cohorts-${period}`);
    }
    await page.selectOption('select[name="granularity"]', 'month');
    await ready('cohorts');
  });

  it('given accounts counted, then the cohorts and the stage funnel show the API answer for unit account, the choice kept between them', async () => {
    // on the cohorts by month, as the previous test left them
    const range = await pageRange();
    const month = await page.inputValue('input[name="rangeTo"]');
    const funnelBody = (unit: 'lead' | 'account') => ({ dateRange: range, period: 'all', pairs: 'from_first', unit });
    const leadsBefore = funnelCounts(await api<{ rows: ConversionRow[] }>('POST', '/v1/conversion', funnelBody('lead')));
    const accountsBefore = funnelCounts(await api<{ rows: ConversionRow[] }>('POST', '/v1/conversion', funnelBody('account')));
    // each demo account has one lead at the default size, where the units agree: two leads of one new account visit and
    // send the contact form now (visitor, then lead), two leads but one account more, so the difference grows by one
    const account = 'browser-account';
    await api('POST', '/v1/events', ['a', 'b'].flatMap((who) => [
      { id: `${account}-${who}-visit`, type: 'visit', occurredAt: new Date(now - 60_000).toISOString(), leadId: `${account}-${who}`, accountId: account },
      { id: `${account}-${who}-form`, type: 'form_submit', occurredAt: new Date(now).toISOString(), leadId: `${account}-${who}`, accountId: account, properties: { formId: 'contact' } },
    ]), INGEST_KEY);
    await expect.poll(async () => funnelCounts(await api<{ rows: ConversionRow[] }>('POST', '/v1/conversion', funnelBody('lead'))).lead, { timeout: 30_000 }).toBe(leadsBefore.lead! + 2);

    await page.selectOption('select[name="unit"]', 'account');
    await ready('cohorts');
    const cohortBody = { dateRange: range, period: 'month', pairs: 'step_to_step' };
    const accounts = await api<{ rows: ConversionRow[] }>('POST', '/v1/conversion', { ...cohortBody, unit: 'account' });
    expect(Object.keys(byCell(accounts.rows, (r) => r.rate)).length).toBeGreaterThan(3);
    expect(await heatmapCells('data-value')).toEqual(byCell(accounts.rows, (r) => r.rate));
    expect(await heatmapCells('data-entered')).toEqual(byCell(accounts.rows, (r) => r.entered));
    const leads = await api<{ rows: ConversionRow[] }>('POST', '/v1/conversion', cohortBody);
    const cell = `${month} visitor:lead`;
    expect(byCell(accounts.rows, (r) => r.entered)[cell]).toBeLessThan(byCell(leads.rows, (r) => r.entered)[cell]!);
    expect(await page.textContent('[data-testid=cohort-heatmap] thead')).toContain('cohort (accounts)');
    await snap('cohorts-accounts');

    await page.click('#nav a[data-view="funnel"]');
    await ready('funnel');
    expect(await page.inputValue('select[name="unit"]')).toBe('account');
    const rows = '[data-testid=funnel-table] tr[data-stage]';
    const counts = funnelCounts(await api<{ rows: ConversionRow[] }>('POST', '/v1/conversion', funnelBody('account')));
    const leadCounts = funnelCounts(await api<{ rows: ConversionRow[] }>('POST', '/v1/conversion', funnelBody('lead')));
    expect(leadCounts.visitor! - counts.visitor!).toBe(leadsBefore.visitor! - accountsBefore.visitor! + 1);
    expect(await column(rows, 'data-stage', 'count')).toEqual(counts);
    const steps = await api<{ rows: ConversionRow[] }>('POST', '/v1/conversion', { dateRange: range, period: 'all', pairs: 'step_to_step', unit: 'account' });
    const medians = await column(rows, 'data-stage', 'median');
    for (const row of steps.rows) expect(medians[row.from]).toBe(row.medianMs);
    expect((await column(rows, 'data-stage', 'step')).lead).toBe(counts.lead! / counts.visitor!);
    expect(await page.textContent('[data-testid=funnel-table] thead')).toContain('accounts');
    expect(await page.textContent('[data-testid=funnel-caption]')).toContain('Accounts entering visitor');
    await snap('funnel-accounts');
    // leads again for the views after
    await page.selectOption('select[name="unit"]', 'lead');
    await ready('funnel');
    expect(await column(rows, 'data-stage', 'count')).toEqual(leadCounts);
  });

  it('given close rates, then the ranking and every rate are the API answer', async () => {
    await page.click('#nav a[data-view="close-rates"]');
    await ready('close-rates');
    const answer = await api<{ averageCloseRate: number; activities: Array<{ type: string; rank: number; closeRate: number; leads: number }> }>('POST', '/v1/close-rates', { dateRange: await pageRange() });
    expect(answer.activities.length).toBeGreaterThan(0);
    expect(await column('[data-testid=close-rates-table] tr[data-activity]', 'data-activity', 'closeRate')).toEqual(Object.fromEntries(answer.activities.map((a) => [a.type, a.closeRate])));
    expect(await column('[data-testid=close-rates-table] tr[data-activity]', 'data-activity', 'rank')).toEqual(Object.fromEntries(answer.activities.map((a) => [a.type, a.rank])));
    expect(Number(await page.getAttribute('.kpi[data-field="average"]', 'data-value'))).toBe(answer.averageCloseRate);
    await snap('close-rates');
  });

  it('given a revenue target, then the planner shows the API plan: volumes with P10/P50/P90, calendar and sensitivity', async () => {
    await page.click('#nav a[data-view="planner"]');
    await ready('planner');
    await page.fill('input[name="revenue"]', '2000000');
    await page.fill('input[name="dealSize"]', '40000');
    const period = await page.inputValue('input[name="period"]');
    await page.click('form button[type="submit"]');
    await ready('planner');
    const rules = await api<{ stages: string[]; timeZone: string }>('GET', '/v1/conversion/live?period=all');
    const plan = await api<{ businessUnits: Array<{ targets: Array<{ status: string; deals: number; volumes: Array<{ stage: string; required: number; p10: number; p50: number; p90: number }> }> }> }>(
      'POST',
      '/v1/plans/reverse',
      {
        asOf: new Date(now).toISOString(),
        timeZone: rules.timeZone,
        stageModel: { stages: rules.stages },
        businessUnits: [{ id: 'all', dealSize: { given: 40_000 }, transitions: rules.stages.slice(1).map((to, i) => ({ from: rules.stages[i], to })) }],
        targets: [{ businessUnit: 'all', period, revenue: 2_000_000 }],
      },
    );
    const target = plan.businessUnits[0]!.targets[0]!;
    expect(target.status).toBe('planned');
    expect(target.deals).toBe(50);
    expect(Number(await page.getAttribute('.kpi[data-field="deals"]', 'data-value'))).toBe(50);
    for (const q of ['required', 'p10', 'p50', 'p90'] as const) {
      expect(await column('[data-testid=plan-volumes] tr[data-stage]', 'data-stage', q)).toEqual(Object.fromEntries(target.volumes.map((v) => [v.stage, v[q]])));
    }
    expect(await page.locator('[data-testid=plan-calendar] tr[data-stage]').count()).toBe(rules.stages.length);
    expect(await page.locator('[data-testid=plan-sensitivity] tr[data-step]').count()).toBe(rules.stages.length - 1);
    await snap('planner');
  });

  it('given the hot leads, then the list is the API list with breaches marked, and a lead turning hot appears without a reload', async () => {
    await page.click('#nav a[data-view="leads"]');
    await ready('leads');
    await page.waitForSelector('.live[data-live="live"]');
    const hot = await api<{ items: Array<{ id: string; sla: { breached: boolean } | null }> }>('GET', '/v1/leads?grade=hot&limit=50');
    expect(await page.locator('[data-testid=lead-table] tr[data-lead]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-lead')))).toEqual(hot.items.map((l) => l.id));
    expect(await page.locator('[data-testid=lead-table] tr.breached').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-lead')))).toEqual(hot.items.filter((l) => l.sla?.breached).map((l) => l.id));

    // a demo request (40 points) and a trial (30) put engagement over the hot line of the default rules (60)
    const leadId = 'browser-hot';
    const at = new Date(now).toISOString();
    await api('POST', '/v1/events', [
      { id: `${leadId}-demo`, type: 'demo_requested', occurredAt: at, leadId, properties: { formId: 'demo' } },
      { id: `${leadId}-trial`, type: 'trial_started', occurredAt: at, leadId },
    ], INGEST_KEY);
    await page.waitForSelector(`[data-testid=lead-table] tr[data-lead="${leadId}"]`, { timeout: 30_000 });
    await page.waitForSelector(`.feed li[data-event="lead_hot"] a[href="#/leads/${leadId}"]`);
    await snap('leads');

    await page.click(`[data-testid=lead-table] tr[data-lead="${leadId}"] a`);
    await ready('leads');
    const detail = await api<{ lead: { stage: string; scores: { engagement: number } }; transitions: unknown[]; touchpoints: unknown[] }>('GET', `/v1/leads/${leadId}`);
    expect(await page.getAttribute('.kpi[data-field="stage"]', 'data-value')).toBe(detail.lead.stage);
    expect(Number(await page.getAttribute('.kpi[data-field="engagement"]', 'data-value'))).toBe(detail.lead.scores.engagement);
    expect(await page.locator('[data-testid=timeline] li').count()).toBe(detail.transitions.length);
    expect(await page.locator('[data-testid=touchpoints] tbody tr').count()).toBe(detail.touchpoints.length);
    expect(await page.locator('[data-testid=score-engagement] tr[data-rule]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-rule')))).toEqual(
      expect.arrayContaining(['eng.demo_requested', 'eng.trial_started']),
    );
    await snap('lead-detail');
  });

  it('given a candidate rule file, then the what-if view sets the API comparison side by side', async () => {
    await page.click('#nav a[data-view="whatif"]');
    await ready('whatif');
    // a demo request makes an MQL, and only a sales acceptance an SQL
    const candidate = { version: 'browser-cand-1', stageModel: { builtin: 'classic_b2b', entry: { sql: [{ id: 'sql.accepted', when: { event: 'sales_accepted' } }], mql: [{ id: 'mql.demo', when: { event: 'demo_requested' } }] } } };
    await page.setInputFiles('input[name="candidate"]', { name: 'candidate.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(candidate)) });
    await page.waitForSelector('[data-testid=whatif-table]', { timeout: 60_000 });
    await ready('whatif');
    const answer = await api<{ live: { stages: Array<{ stage: string; reached: number }> }; candidate: { stages: Array<{ stage: string; reached: number }> }; differences: { count: number } }>('POST', '/v1/whatif', { candidate });
    expect(await column('[data-testid=whatif-table] tr[data-stage]', 'data-stage', 'liveReached')).toEqual(Object.fromEntries(answer.live.stages.map((s) => [s.stage, s.reached])));
    expect(await column('[data-testid=whatif-table] tr[data-stage]', 'data-stage', 'candidateReached')).toEqual(Object.fromEntries(answer.candidate.stages.map((s) => [s.stage, s.reached])));
    expect(Number(await page.getAttribute('[data-field="differences"]', 'data-value'))).toBe(answer.differences.count);
    await snap('whatif');
  });

  it('given an event funnel built on the page (3 steps, accounts, last_touch), then every number shown is the API answer to the same body, and the address brings it back', async () => {
    await page.click('#nav a[data-view="event-funnel"]');
    await ready('event-funnel');
    // build it: drop the third starting step, add one, pick the types, then the last six months and the counting choices
    // (the demo's accounts reach every one of these steps, in these months and the six before)
    await page.click('button[aria-label="Remove Step 3"]');
    await ready('event-funnel');
    await page.click('button[aria-label="Add step"]');
    await ready('event-funnel');
    await page.selectOption('select[name="s1.type"]', 'identify');
    await ready('event-funnel');
    await page.selectOption('select[name="s2.type"]', 'sales_accepted');
    await ready('event-funnel');
    const [ty, tm] = (await page.inputValue('input[name="rangeTo"]')).split('-').map(Number) as [number, number];
    await page.fill('input[name="rangeFrom"]', new Date(Date.UTC(ty, tm - 6, 1)).toISOString().slice(0, 7));
    await ready('event-funnel');
    await page.selectOption('select[name="unit"]', 'accounts');
    await ready('event-funnel');
    await page.selectOption('select[name="attribution"]', 'last_touch');
    await ready('event-funnel');
    await page.fill('input[name="by0"]', 'channel');
    await page.press('input[name="by0"]', 'Tab'); // a text field changes when it is left
    await ready('event-funnel');
    await page.check('input[name="compare"]');
    await ready('event-funnel');
    await page.check('input[name="timeToConvert"]');
    await ready('event-funnel');

    type Counts = { steps: Array<{ leads: number; conversionFromPrevious: number | null; conversionFromFirst: number | null; droppedFromPrevious: number }> };
    // the body of the funnel built above, as the API takes it
    const built = {
      steps: [{ type: 'visit' }, { type: 'identify' }, { type: 'sales_accepted' }],
      order: 'ordered',
      window: { value: 30, unit: 'days' },
      dateRange: await pageRange(),
      breakdown: 'channel',
      compareTo: 'previous_period',
      timeToConvert: true,
      unit: 'accounts',
      attribution: 'last_touch',
    };
    const answer = await api<Counts & {
      unit: string;
      comparison: Counts;
      breakdown: { groups: Array<{ value: string; steps: Array<{ leads: number }> }>; truncated: boolean };
      timeToConvert: { pairs: Array<{ fromStep: number; toStep: number; total: { converted: number; medianMs: number | null; p90Ms: number | null } }> };
    }>('POST', '/v1/funnels', built);
    expect(answer.unit).toBe('accounts');
    expect(answer.steps[2]!.leads).toBeGreaterThan(0);
    expect(answer.comparison.steps[2]!.leads).toBeGreaterThan(0);
    expect(answer.breakdown.groups.length).toBeGreaterThan(1);
    const byStep = (pick: (s: Counts['steps'][number]) => number | null, steps = answer.steps) => Object.fromEntries(steps.map((s, i) => [String(i), pick(s)]));
    const rows = '[data-testid=event-funnel-table] tr[data-step]';
    expect(await column(rows, 'data-step', 'leads')).toEqual(byStep((s) => s.leads));
    expect(await column(rows, 'data-step', 'fromPrevious')).toEqual(byStep((s) => s.conversionFromPrevious));
    expect(await column(rows, 'data-step', 'fromFirst')).toEqual(byStep((s) => s.conversionFromFirst));
    expect(await column(rows, 'data-step', 'dropped')).toEqual(byStep((s) => s.droppedFromPrevious));
    expect(await column(rows, 'data-step', 'compareLeads')).toEqual(byStep((s) => s.leads, answer.comparison.steps));
    expect(await page.textContent('[data-testid=event-funnel-table] thead')).toContain('accounts');
    for (const k of [0, 1, 2]) {
      expect(await column('[data-testid=event-funnel-groups] tr[data-group]', 'data-group', `step${k}`)).toEqual(Object.fromEntries(answer.breakdown.groups.map((g) => [g.value, g.steps[k]!.leads])));
    }
    const times = '[data-testid=event-funnel-times] tr[data-pair]';
    const pairs = answer.timeToConvert.pairs;
    expect(pairs.map((p) => `${p.fromStep}-${p.toStep}`)).toEqual(['0-1', '1-2', '0-2']);
    expect(await column(times, 'data-pair', 'median')).toEqual(Object.fromEntries(pairs.map((p) => [`${p.fromStep}-${p.toStep}`, p.total.medianMs])));
    expect(await column(times, 'data-pair', 'p90')).toEqual(Object.fromEntries(pairs.map((p) => [`${p.fromStep}-${p.toStep}`, p.total.p90Ms])));
    await snap('event-funnel');

    // the address is the funnel: opened afresh, it shows the same choices and numbers
    await page.reload();
    await ready('event-funnel');
    expect(await page.inputValue('select[name="attribution"]')).toBe('last_touch');
    expect(await column(rows, 'data-step', 'leads')).toEqual(byStep((s) => s.leads));

    // identify made optional: the page shows the API's counts for the same body, sales_accepted measured from the visits
    await page.check('input[name="s1.optional"]');
    await ready('event-funnel');
    const skippable = await api<Counts>('POST', '/v1/funnels', { ...built, steps: [{ type: 'visit' }, { type: 'identify', optional: true }, { type: 'sales_accepted' }] });
    expect(skippable.steps[2]!.conversionFromPrevious).toBe(skippable.steps[2]!.leads / skippable.steps[0]!.leads);
    expect(await column(rows, 'data-step', 'leads')).toEqual(byStep((s) => s.leads, skippable.steps));
    expect(await column(rows, 'data-step', 'fromPrevious')).toEqual(byStep((s) => s.conversionFromPrevious, skippable.steps));
    expect(await page.textContent('[data-testid=event-funnel-table] tbody')).toContain('(optional)');
    await page.uncheck('input[name="s1.optional"]');
    await ready('event-funnel');

    // a window over the API's limit (FUNNEL_LIMITS.maxWindowDays, 3650 days): the API's 400 is shown, naming the field, and the field is marked
    await page.fill('input[name="window"]', '4000');
    await page.press('input[name="window"]', 'Tab');
    await page.waitForSelector('#view .results [data-state="error"]');
    expect(await page.textContent('#view .results [data-state="error"] li')).toContain('window');
    expect(await page.getAttribute('input[name="window"]', 'aria-invalid')).toBe('');
    await snap('event-funnel-error');
    await page.fill('input[name="window"]', '30');
    await page.press('input[name="window"]', 'Tab');
    await ready('event-funnel');
    expect(await page.getAttribute('input[name="window"]', 'aria-invalid')).toBeNull();
  });

  it('given a key the server no longer takes, then the next request leads back to the login form', async () => {
    await page.evaluate('sessionStorage.setItem("sluice.apiKey", "revoked-key-0123456789")');
    await page.click('#nav a[data-view="funnel"]');
    await page.waitForSelector('#view[data-state="login"]');
    expect(await page.evaluate('sessionStorage.getItem("sluice.apiKey")')).toBeNull();
  });
});
