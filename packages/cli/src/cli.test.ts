import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { liveConversion, openProjectionStore } from '@sluice/projector';
import { runSluice } from './test-support.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-cli-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const sluice = (...args: string[]) => runSluice([...args, '--data-dir', join(dir, 'data')]);

const line = (id: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ id, type: 'visit', occurredAt: '2026-03-01T10:00:00+01:00', anonymousId: 'anon-1', ...extra });

describe('sluice import', () => {
  it('imports a file, then a re-run writes nothing new', () => {
    const file = join(dir, 'events.ndjson');
    writeFileSync(file, [line('i1'), line('i2'), '', line('i3', { leadId: 'lead-1', type: 'form_submit', properties: { formId: 'f' } })].join('\n') + '\n');
    const first = sluice('import', file, '--json');
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ lines: 4, events: 3, accepted: 3, duplicates: 0, rejectedBatches: [] });
    const again = sluice('import', file, '--json');
    expect(JSON.parse(again.stdout)).toMatchObject({ events: 3, accepted: 0, duplicates: 3 });
  });

  it('reports bad lines by number, writes nothing of their batch, writes the good batches, exits non-zero', () => {
    const file = join(dir, 'mixed.ndjson');
    writeFileSync(file, [line('b1'), line('b2'), '{not json', line('b4'), line('b5', { occurredAt: '2026-03-01' })].join('\n'));
    const r = sluice('import', file, '--batch-size', '2');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('2 written');
    expect(r.stdout).toContain('lines 3-4: 1 bad');
    expect(r.stdout).toContain('line 3: malformed JSON');
    expect(r.stdout).toContain('line 5: occurredAt: must be an ISO 8601 date-time with an offset or Z');
    expect(r.stdout).toContain('lines 5-5: 1 bad');
  });

  it('fails clearly on a missing file and on bad flags', () => {
    const missing = sluice('import', join(dir, 'nope.ndjson'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('cannot read');
    const badFlag = sluice('import', 'x.ndjson', '--batch-size', 'lots');
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toContain('--batch-size must be a whole number');
    expect(sluice('frobnicate').stderr).toContain('unknown command "frobnicate"');
  });
});

describe('sluice events', () => {
  it('prints a lead history with its anonymous visits, as a table and as JSON', () => {
    const file = join(dir, 'journey.ndjson');
    writeFileSync(
      file,
      [
        line('j1', { occurredAt: '2026-03-01T09:00:00Z', source: 'google' }),
        line('j2', { occurredAt: '2026-03-01T09:30:00Z', leadId: 'lead-7', type: 'form_submit', properties: { formId: 'demo' } }),
      ].join('\n'),
    );
    expect(sluice('import', file).code).toBe(0);
    const table = sluice('events', 'lead-7');
    expect(table.code).toBe(0);
    expect(table.stdout).toContain('lead lead-7: 2 touchpoints');
    expect(table.stdout).toMatch(/1\s+2026-03-01T09:00:00Z\s+visit\s+anonymous anon-1\s+google/);
    const json = JSON.parse(sluice('events', 'lead-7', '--json').stdout);
    expect(json.touchpoints.map((t: { event: { id: string } }) => t.event.id)).toEqual(['j1', 'j2']);
    expect(json.linkedAnonymousIds).toEqual(['anon-1']);
  });
});

describe('sluice plan', () => {
  const rates = ['--rate', 'visitor:lead=0.025', '--rate', 'lead:mql=0.2', '--rate', 'mql:sql=0.4', '--rate', 'sql:customer=0.25'];

  it('walks back from revenue to visits, as JSON with the inputs echoed', () => {
    const r = sluice('plan', '--revenue', '1200000', '--deal-size', '24000', '--period', '2027-Q1', '--as-of', '2026-11-24T00:00:00Z', ...rates, '--json');
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout);
    expect(plan.input.targets).toEqual([{ businessUnit: 'all', period: '2027-Q1', revenue: 1_200_000 }]);
    // 1,200,000 / 24,000 = 50 deals; / 0.25 = 200 SQLs; / 0.4 = 500 MQLs; / 0.2 = 2,500 leads; / 0.025 = 100,000 visits
    expect(plan.businessUnits[0].targets[0].volumes.map((v: { required: number }) => v.required)).toEqual([100_000, 2_500, 500, 200, 50]);
  });

  it('says why a plan is infeasible and exits non-zero', () => {
    const r = sluice('plan', '--revenue', '1200000', '--deal-size', '24000', '--period', '2027-Q1', '--as-of', '2026-11-24T00:00:00Z', '--rate', 'visitor:lead=0.025');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('infeasible because');
  });

  it('names bad input', () => {
    const r = sluice('plan', '--revenue=-5', '--deal-size', '24000', '--period', '2027-Q9', ...rates);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('targets.0.period');
    expect(r.stderr).toContain('targets.0.revenue');
  });
});

describe('sluice plan straight after sluice demo', () => {
  it('catches the read models up with the log first, so the measured rates make the plan feasible', () => {
    const demo = sluice('demo', '--events', '20000', '--start', '2026-01-01', '--months', '6', '--json');
    expect(demo.code, demo.stderr).toBe(0);
    // nothing has read the log since the demo wrote it: no read models yet
    const r = sluice('plan', '--revenue', '1200000', '--deal-size', '24000', '--period', '2026-Q4', '--as-of', '2026-07-01T00:00:00Z', '--json');
    expect(r.code, r.stdout).toBe(0);
    const unit = JSON.parse(r.stdout).businessUnits[0];
    expect(unit.targets.map((t: { status: string }) => t.status)).toEqual(['planned']);
    expect(unit.rates.map((x: { from: string; source: string }) => [x.from, x.source])).toEqual([
      ['visitor', 'measured'],
      ['lead', 'measured'],
      ['mql', 'measured'],
      ['sql', 'measured'],
    ]);
  });
});

describe('sluice plan --count accounts', () => {
  const plan = (...extra: string[]) =>
    sluice('plan', '--revenue', '100000', '--deal-size', '10000', '--period', '2026-Q3', '--as-of', '2026-06-01T12:00:00Z', '--stages', 'lead,mql,sql,customer', ...extra);

  it('measures each step and the pipeline by account from the embedded stage tables, and says it counts accounts', () => {
    // acme: a1 lead 2 Mar, SQL 10 Mar (MQL passed through then), customer 9 Apr; a2 lead 3 Mar. s1 (no account): lead 9 Mar.
    const file = join(dir, 'accounts.ndjson');
    const event = (id: string, leadId: string, type: string, occurredAt: string, extra: Record<string, unknown> = {}) => line(id, { anonymousId: undefined, leadId, type, occurredAt, ...extra });
    writeFileSync(
      file,
      [
        event('c1', 'a1', 'form_submit', '2026-03-02T09:00:00Z', { accountId: 'acme', properties: { formId: 'f' } }),
        event('c2', 'a1', 'demo_requested', '2026-03-10T09:00:00Z', { accountId: 'acme' }),
        event('c3', 'a1', 'payment', '2026-04-09T09:00:00Z', { accountId: 'acme', properties: { amount: 10_000, currency: 'EUR' } }),
        event('c4', 'a2', 'form_submit', '2026-03-03T09:00:00Z', { accountId: 'acme', properties: { formId: 'f' } }),
        event('c5', 's1', 'form_submit', '2026-03-09T09:00:00Z', { properties: { formId: 'f' } }),
      ].join('\n'),
    );
    expect(sluice('import', file).code).toBe(0);
    const observed = (r: ReturnType<typeof sluice>) => {
      const out = JSON.parse(r.stdout);
      return { unit: out.unit, rates: out.businessUnits[0].rates.map((x: { observations: { converted: number; entered: number } }) => `${x.observations.converted}/${x.observations.entered}`), held: out.input.businessUnits[0].pipeline };
    };
    // by account: acme and s1 entered lead, acme passed MQL (1 of 2), reached SQL (1 of 1) and paid (1 of 1); acme is won, s1 is held
    expect(observed(plan('--count', 'accounts', '--json'))).toEqual({ unit: 'accounts', rates: ['1/2', '1/1', '1/1'], held: { lead: 1 } });
    // by lead: a1, a2 and s1 entered lead, a1 alone went on; a2 and s1 are held
    expect(observed(plan('--json'))).toEqual({ unit: 'leads', rates: ['1/3', '1/1', '1/1'], held: { lead: 2 } });
    // 100,000 / 10,000 = 10 deals; / 1 = 10 SQL accounts; / 1 = 10 MQL accounts; / 0.5 = 20 accounts at lead
    const text = plan('--count', 'accounts');
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('every volume counts accounts');
    expect(text.stdout).toMatch(/stage\s+accounts required[^\n]*\n-[^\n]*\nlead\s+20\s/);
    expect(text.stdout).toContain('new accounts still needed: lead 20, mql 10, sql 10, customer 10');
  });

  it('refuses accounts without a data directory to measure them from, naming --count, and an unknown unit', () => {
    const none = plan('--count', 'accounts');
    expect(none.code).toBe(1);
    expect(none.stderr).toContain("--count accounts (the plan's unit) measures accounts from the stage tables");
    const typo = plan('--count', 'people');
    expect(typo.code).not.toBe(0);
    expect(typo.stderr).toContain('--count takes leads or accounts');
  });
});

describe('sluice query funnel', () => {
  it('counts a funnel on the embedded engine, after catching ClickHouse up with the log', () => {
    const file = join(dir, 'funnel-events.ndjson');
    writeFileSync(
      file,
      [
        line('q1', { anonymousId: 'anon-q1', occurredAt: '2026-03-01T09:00:00Z', channel: 'paid' }),
        line('q2', { anonymousId: 'anon-q1', leadId: 'lead-q1', type: 'form_submit', occurredAt: '2026-03-01T09:05:00Z', properties: { formId: 'f' } }),
        line('q3', { anonymousId: 'anon-q2', occurredAt: '2026-03-02T09:00:00Z', channel: 'organic' }),
      ].join('\n'),
    );
    expect(sluice('import', file).code).toBe(0);
    const r = sluice('query', 'funnel', '--steps', 'visit,form_submit', '--from', '2026-03-01', '--to', '2026-04-01', '--breakdown', 'channel', '--json');
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result.steps.map((s: { leads: number }) => s.leads)).toEqual([2, 1]);
    expect(result.breakdown.groups.map((g: { value: string; steps: Array<{ leads: number }> }) => [g.value, g.steps[1]!.leads])).toEqual([
      ['organic', 0],
      ['paid', 1],
    ]);
    // an optional step nobody took: the form still counts, measured from the visits (1 of 2)
    const optional = sluice('query', 'funnel', '--steps', 'visit,email_open?,form_submit', '--from', '2026-03-01', '--to', '2026-04-01');
    expect(optional.code).toBe(0);
    expect(optional.stdout).toMatch(/\n\s+2\s+email_open \(optional\)\s+0\s+0/);
    expect(optional.stdout).toMatch(/\n\s+3\s+form_submit\s+1\s+50/);
    // every attempt: the two visits, one followed by the form
    const attempts = sluice('query', 'funnel', '--steps', 'visit,form_submit', '--from', '2026-03-01', '--to', '2026-04-01', '--unit', 'totals', '--attribution', 'last_touch', '--time-to-convert');
    expect(attempts.code).toBe(0);
    expect(attempts.stdout).toMatch(/^step\s+event\s+attempts\s+from previous/);
    expect(attempts.stdout).toMatch(/\n\s+2\s+form_submit\s+1\s+50/);
    // the one conversion took the 5 minutes from 09:00 to 09:05
    expect(attempts.stdout).toMatch(/time to convert\n.*\n.*\n1 visit\s+2 form_submit\s+1\s+5 min\s+5 min\s+5 min/);
    // the rest of the options as flags: the form carries no channel, so holding the channel keeps it from the visit's chain
    const held = sluice('query', 'funnel', '--steps', 'visit,form_submit', '--from', '2026-03-01', '--to', '2026-04-01', '--hold', 'channel', '--entry', 'first', '--reentry', 'false', '--exclude', 'unsubscribe:1-2', '--exclusion-effect', 'remove', '--json');
    expect(held.code).toBe(0);
    expect(JSON.parse(held.stdout).steps.map((s: { leads: number }) => s.leads)).toEqual([2, 0]);
    // February beside March: nobody visited then
    const compared = sluice('query', 'funnel', '--steps', 'visit,form_submit', '--from', '2026-03-01', '--to', '2026-04-01', '--compare-to', '2026-02-01..2026-03-01');
    expect(compared.code).toBe(0);
    expect(compared.stdout).toMatch(/compared with 2026-02-01T00:00:00.* – 2026-03-01T00:00:00.*\nstep\s+event\s+leads[^\n]*\n-[^\n]*\n\s*1\s+visit\s+0\s/);
    const badExclude = sluice('query', 'funnel', '--steps', 'visit,form_submit', '--from', '2026-03-01', '--to', '2026-04-01', '--exclude', 'unsubscribe:0-1');
    expect(badExclude.code).toBe(2);
    expect(badExclude.stderr).toContain('--exclude takes TYPE:A-B, steps numbered from 1');
    const grace = sluice('query', 'funnel', '--steps', 'visit,form_submit', '--from', '2026-03-01', '--to', '2026-04-01', '--ties', 'funnel_order', '--tie-grace', 'a minute');
    expect(grace.code).toBe(1);
    expect(grace.stderr).toContain('tieGraceSeconds: must be a whole number of seconds');
    const bad = sluice('query', 'funnel', '--steps', 'visit,sign_up', '--from', '2026-03-01', '--to', '2026-04-01');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('steps.1.type: unknown event type "sign_up"');
  });
});

describe('sluice query funnel-leads', () => {
  it('lists, a page at a time, the leads the funnel counts at a step: as many as its count, reached or dropped, by breakdown value', () => {
    const file = join(dir, 'funnel-lead-events.ndjson');
    writeFileSync(
      file,
      [
        line('l1', { anonymousId: 'anon-l1', occurredAt: '2026-03-01T09:00:00Z', channel: 'paid' }),
        line('l2', { anonymousId: 'anon-l1', leadId: 'lead-l1', type: 'form_submit', occurredAt: '2026-03-01T09:05:00Z', properties: { formId: 'f' } }),
        line('l3', { anonymousId: 'anon-l2', occurredAt: '2026-03-02T09:00:00Z', channel: 'organic' }),
        line('l4', { anonymousId: 'anon-l3', occurredAt: '2026-03-03T09:00:00Z', channel: 'paid' }),
        line('l5', { anonymousId: 'anon-l3', leadId: 'lead-l3', type: 'form_submit', occurredAt: '2026-03-03T10:00:00Z', properties: { formId: 'f' } }),
      ].join('\n'),
    );
    expect(sluice('import', file).code).toBe(0);
    const funnel = ['--steps', 'visit,form_submit', '--from', '2026-03-01', '--to', '2026-04-01', '--breakdown', 'channel'];
    const counted = sluice('query', 'funnel', ...funnel, '--json');
    expect(counted.code).toBe(0);
    const steps = JSON.parse(counted.stdout).steps as Array<{ leads: number }>;
    type Page = { leads: Array<{ unitId: string; leadId: string | null; reachedSteps: number; breakdownValue: string }>; nextAfter: string | null };
    const leadsAt = (...flags: string[]): Page => {
      const r = sluice('query', 'funnel-leads', ...funnel, ...flags, '--json');
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      return JSON.parse(r.stdout) as Page;
    };
    // each step numbered as the funnel's table prints it: its leads are as many as the funnel counts there
    const reached = steps.map((_, i) => leadsAt('--step', String(i + 1)));
    expect(reached.map((page) => page.leads.length)).toEqual(steps.map((s) => s.leads));
    expect(reached[1]!.leads.map((l) => l.leadId).sort()).toEqual(['lead-l1', 'lead-l3']);
    // dropped at the first step: the one visitor who never filled the form
    expect(leadsAt('--step', '1', '--status', 'dropped').leads.map((l) => [l.reachedSteps, l.breakdownValue])).toEqual([[1, 'organic']]);
    expect(leadsAt('--step', '2', '--breakdown-value', 'paid').leads).toHaveLength(2);
    expect(leadsAt('--step', '2', '--breakdown-value', 'organic').leads).toHaveLength(0);
    // a page of one, then the rest after its cursor: the same leads as the whole list
    const first = leadsAt('--step', '1', '--limit', '1');
    expect(first.leads).toHaveLength(1);
    expect(first.nextAfter).not.toBeNull();
    const rest = leadsAt('--step', '1', '--limit', '5', '--cursor', first.nextAfter!);
    expect([...first.leads, ...rest.leads].map((l) => l.unitId)).toEqual(reached[0]!.leads.map((l) => l.unitId));
    expect(rest.nextAfter).toBeNull();
    // as a table, with the cursor of the next page
    const table = sluice('query', 'funnel-leads', ...funnel, '--step', '1', '--limit', '1');
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^unit\s+lead\s+steps reached\s+breakdown\s+entered\n/);
    expect(table.stdout).toContain(`(more: after=${first.nextAfter})`);

    const noStep = sluice('query', 'funnel-leads', ...funnel);
    expect(noStep.code).toBe(2);
    expect(noStep.stderr).toContain('sluice query funnel-leads needs --step N');
    const zero = sluice('query', 'funnel-leads', ...funnel, '--step', '0');
    expect(zero.code).toBe(2);
    expect(zero.stderr).toContain('--step takes a step numbered from 1');
    const past = sluice('query', 'funnel-leads', ...funnel, '--step', '3');
    expect(past.code).toBe(2);
    expect(past.stderr).toContain('--step 3: the funnel has 2 steps');
    // from a file, the definition's own check, by the 0-based stepIndex the API takes
    const definition = join(dir, 'funnel.json');
    writeFileSync(definition, JSON.stringify({ steps: [{ type: 'visit' }, { type: 'form_submit' }], window: { value: 30, unit: 'days' }, dateRange: { from: '2026-03-01T00:00:00Z', to: '2026-04-01T00:00:00Z' } }));
    const pastInFile = sluice('query', 'funnel-leads', '--file', definition, '--step', '3');
    expect(pastInFile.code).toBe(1);
    expect(pastInFile.stderr).toContain("querystring.stepIndex: must be below 2: the funnel's last step is 1");
    expect(JSON.parse(sluice('query', 'funnel-leads', '--file', definition, '--step', '2', '--json').stdout).leads).toHaveLength(steps[1]!.leads);
    const badLimit = sluice('query', 'funnel-leads', ...funnel, '--step', '1', '--limit', 'many');
    expect(badLimit.code).toBe(1);
    expect(badLimit.stderr).toContain('the options of the funnel definition are invalid:\n  limit:');
  });
});

describe('sluice query conversion, close-rates, drivers, time-to-convert and cohorts', () => {
  it('answers from ClickHouse exactly what the projector counted, after catching both up with the log', () => {
    expect(sluice('demo', '--events', '20000', '--start', '2026-01-01', '--months', '6', '--json').code).toBe(0);
    const r = sluice('query', 'conversion', '--from', '2026-01-01', '--to', '2026-07-01', '--period', 'month', '--json');
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout) as { rows: Array<{ from: string; to: string; periodLabel: string; entered: number; converted: number; skippedFrom: number }> };
    expect(result.rows.length).toBeGreaterThan(0);
    // the same question to the projector's live counters (SQLite read models the query just caught up)
    const projections = openProjectionStore(join(dir, 'data', 'projections.sqlite'));
    const live = liveConversion(projections, { period: 'month', pairs: 'step_to_step', from: '2026-01-01', to: '2026-07-01' });
    projections.close();
    const counts = (rows: typeof result.rows) => rows.map((x) => [x.from, x.to, x.periodLabel, x.entered, x.converted, x.skippedFrom]);
    expect(counts(result.rows)).toEqual(counts([...live.rows]));

    const table = sluice('query', 'conversion', '--from', '2026-01-01', '--to', '2026-07-01', '--period', 'quarter', '--pairs', 'lead:customer');
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^lead -> customer\ncohort\s+entered\s+converted\s+rate\s+disqualified\s+recycled\s+median\s+p90\n/);
    expect(table.stdout).toContain('2026-Q1');

    const rates = sluice('query', 'close-rates', '--from', '2026-01-01', '--to', '2026-07-01', '--json');
    expect(rates.code).toBe(0);
    const report = JSON.parse(rates.stdout) as { leads: number; customers: number; activities: Array<{ leads: number; customers: number; rank: number }> };
    expect(report.leads).toBeGreaterThan(report.customers);
    expect(report.customers).toBeGreaterThan(0);
    for (const a of report.activities) expect(a.customers).toBeLessThanOrEqual(Math.min(a.leads, report.customers));
    expect(report.activities.map((a) => a.rank)).toEqual(report.activities.map((_, i) => i + 1));

    // time to convert between the same stages counts the same entries and conversions, and its histogram holds every conversion
    const ttc = sluice('query', 'time-to-convert', '--stages', 'sql,customer', '--from', '2026-01-01', '--to', '2026-07-01', '--json');
    expect(ttc.code).toBe(0);
    const [distribution] = JSON.parse(ttc.stdout).rows as Array<{ entered: number; converted: number; histogram: number[] }>;
    const sqlToCustomer = result.rows.filter((x) => x.from === 'sql');
    expect([distribution!.entered, distribution!.converted]).toEqual([
      sqlToCustomer.reduce((n, x) => n + x.entered, 0),
      sqlToCustomer.reduce((n, x) => n + x.converted, 0),
    ]);
    expect(distribution!.histogram.reduce((a, b) => a + b, 0)).toBe(distribution!.converted);
    // its trend by month is the conversion query's monthly cohorts, one block per segment with a row per month
    const trend = (...more: string[]) => sluice('query', 'time-to-convert', '--stages', 'sql,customer', '--from', '2026-01-01', '--to', '2026-07-01', '--period', 'month', ...more).stdout;
    const byMonth = (rows: Array<{ periodLabel: string; entered: number; converted: number }>) => rows.map((x) => [x.periodLabel, x.entered, x.converted]);
    expect(byMonth(JSON.parse(trend('--json')).rows)).toEqual(byMonth(sqlToCustomer));
    expect(trend()).toMatch(/^sql -> customer: by month\nmonth\s+entered\s+converted\s+rate\s+mean\s+median\s+p90\n[- ]+\n2026-01 /);
    const steps = sluice('query', 'time-to-convert', '--steps', 'visit,form_submit', '--from', '2026-01-01', '--to', '2026-07-01', '--buckets', '1h,1d');
    expect(steps.stdout).toMatch(/^visit -> form_submit: [\d,]+ of [\d,]+ converted/);
    expect(steps.stdout).toContain('0-1h');

    // drivers between the same stages: the population and its conversions are the conversion query's, summed over its cohorts
    const drivers = sluice('query', 'drivers', '--stages', 'sql,customer', '--from', '2026-01-01', '--to', '2026-07-01', '--json');
    expect(drivers.code).toBe(0);
    const driverReport = JSON.parse(drivers.stdout) as { leads: number; converted: number; drivers: Array<{ leads: number; converted: number; pValue: number; qValue: number }> };
    expect([driverReport.leads, driverReport.converted]).toEqual([distribution!.entered, distribution!.converted]);
    expect(driverReport.drivers.length).toBeGreaterThan(0);
    for (const d of driverReport.drivers) expect(d.qValue).toBeGreaterThanOrEqual(d.pValue);
    expect(sluice('query', 'drivers', '--stages', 'sql,customer', '--from', '2026-01-01', '--to', '2026-07-01').stdout).toMatch(/^[\d,]+ leads entered, [\d,]+ converted/);

    // by account: an account counts once however many of its leads enter (this small demo's leads rarely share one)
    const byAccount = JSON.parse(sluice('query', 'conversion', '--from', '2026-01-01', '--to', '2026-07-01', '--period', 'all', '--unit', 'account', '--json').stdout) as typeof result;
    const leadsIn = (rows: typeof result.rows, from: string) => rows.filter((x) => x.from === from).reduce((n, x) => n + x.entered, 0);
    expect(leadsIn(byAccount.rows, 'lead')).toBeGreaterThan(0);
    expect(leadsIn(byAccount.rows, 'lead')).toBeLessThanOrEqual(leadsIn(result.rows, 'lead'));

    const cohorts = sluice('query', 'cohorts', '--from', '2026-01-01', '--to', '2026-07-01', '--offsets', '3', '--json');
    expect(cohorts.code).toBe(0);
    const rows = JSON.parse(cohorts.stdout).cohorts as Array<{ customers: number; retained: number[]; rates: number[] }>;
    expect(rows.reduce((n, c) => n + c.customers, 0)).toBeGreaterThan(0);
    for (const c of rows) {
      expect(c.retained).toHaveLength(4);
      expect(c.rates).toEqual(c.retained.map((k) => k / c.customers));
    }
    // by account a customer is an account, so there are never more of them than customers by lead
    const accountCohorts = JSON.parse(sluice('query', 'cohorts', '--from', '2026-01-01', '--to', '2026-07-01', '--offsets', '3', '--unit', 'accounts', '--json').stdout);
    const customers = (cs: Array<{ customers: number }>) => cs.reduce((n, c) => n + c.customers, 0);
    expect([accountCohorts.query.unit, customers(accountCohorts.cohorts) > 0, customers(accountCohorts.cohorts) <= customers(rows)]).toEqual(['accounts', true, true]);
    expect(sluice('query', 'cohorts', '--from', '2026-01-01', '--to', '2026-07-01', '--unit', 'accounts').stdout).toMatch(/^accounts by first payment/);

    const bad = sluice('query', 'conversion', '--from', '2026-01-01', '--to', '2026-05-01', '--segment', 'shoeSize', '--pairs', 'mql:lead');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('segment: must be one of');
    expect(bad.stderr).toContain('pairs.0.to: must come after "mql"');
    expect(sluice('query', 'retention').stderr).toContain('sluice query takes: funnel, funnel-leads, conversion, close-rates, drivers, time-to-convert, cohorts');
    expect(sluice('query', 'time-to-convert', '--from', '2026-01-01', '--to', '2026-05-01').stderr).toContain('needs either --stages from,to or --steps');
  });
});

describe('sluice rebuild and sluice whatif', () => {
  it('rebuilds deterministically and compares candidate rules without touching the live models', () => {
    const file = join(dir, 'leads.ndjson');
    writeFileSync(
      file,
      [
        line('w1', { anonymousId: 'anon-w1', occurredAt: '2026-03-01T09:00:00Z' }),
        line('w2', { anonymousId: 'anon-w1', leadId: 'lead-w1', type: 'demo_requested', occurredAt: '2026-03-01T09:05:00Z' }),
        line('w3', { leadId: 'lead-w2', type: 'form_submit', occurredAt: '2026-03-02T09:00:00Z', properties: { formId: 'f' } }),
      ].join('\n'),
    );
    expect(sluice('import', file).code).toBe(0);
    const first = JSON.parse(sluice('rebuild', '--json').stdout);
    const second = JSON.parse(sluice('rebuild', '--json').stdout);
    expect(first.events).toBe(5); // three touchpoints and two identity links (w2 and w3 carry both ids)
    expect(second.contentHash).toBe(first.contentHash);

    // candidate: a demo request makes an MQL, not an SQL
    const candidate = join(dir, 'candidate.json');
    writeFileSync(candidate, JSON.stringify({ version: 'cand-1', stageModel: { builtin: 'classic_b2b', entry: { sql: [{ id: 'sql.accepted', when: { event: 'sales_accepted' } }], mql: [{ id: 'mql.demo', when: { event: 'demo_requested' } }] } } }));
    const r = sluice('whatif', '--candidate', candidate, '--json');
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout);
    const reached = (side: { stages: Array<{ stage: string; reached: number }> }, stage: string) => side.stages.find((s) => s.stage === stage)?.reached;
    expect([reached(result.live, 'sql'), reached(result.candidate, 'sql')]).toEqual([1, 0]);
    expect(result.differences.actors).toEqual([{ kind: 'lead', id: 'lead-w1', live: 'sql', candidate: 'mql' }]);
    expect(JSON.parse(sluice('rebuild', '--json').stdout).contentHash).toBe(first.contentHash);

    const typo = join(dir, 'typo.json');
    writeFileSync(typo, JSON.stringify({ version: 'x', scoring: { engagment: {} } }));
    const bad = sluice('whatif', '--candidate', typo);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('scoring.engagment');
  });
});

describe('sluice plan on measured rates', () => {
  it('measures every step from the demo data set and plans with P10/P50/P90 from those counts', () => {
    expect(sluice('demo', '--events', '30000', '--start', '2026-01-01', '--months', '6', '--json').code).toBe(0);
    expect(sluice('rebuild', '--json').code).toBe(0);
    const r = sluice('plan', '--revenue', '300000', '--deal-size', '20000', '--period', '2027-Q1', '--as-of', '2026-11-24T00:00:00Z', '--json');
    expect(r.code).toBe(0);
    const unit = JSON.parse(r.stdout).businessUnits[0];
    expect(unit.rates.map((x: { source: string }) => x.source)).toEqual(['measured', 'measured', 'measured', 'measured']);
    for (const rate of unit.rates as Array<{ rate: number; observations: { entered: number; converted: number } }>) {
      expect(rate.observations.entered).toBeGreaterThan(0);
      expect(rate.rate).toBeCloseTo(rate.observations.converted / rate.observations.entered, 10);
    }
    const target = unit.targets[0];
    expect(target.deals).toBe(15);
    // the open leads held now are counted against the target
    const held = JSON.parse(r.stdout).input.businessUnits[0].pipeline as Record<string, number>;
    expect(Object.values(held).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    expect(target.pipeline.held.map((h: { stage: string; count: number }) => [h.stage, h.count])).toEqual(Object.entries(held));
    const visits = target.volumes[0];
    expect(visits.p10).toBeLessThanOrEqual(visits.p50);
    expect(visits.p50).toBeLessThanOrEqual(visits.p90);
    // a given rate overrides the measured one, which is still reported
    const overridden = JSON.parse(sluice('plan', '--revenue', '300000', '--deal-size', '20000', '--period', '2027-Q1', '--as-of', '2026-11-24T00:00:00Z', '--rate', 'sql:customer=0.5', '--json').stdout);
    const last = overridden.businessUnits[0].rates[3];
    expect([last.source, last.rate, last.observations.entered > 0]).toEqual(['overridden', 0.5, true]);

    // without --deal-size, the size comes from the payments of the deals won in the 12 months before asOf
    const sized = sluice('plan', '--revenue', '300000', '--period', '2027-Q1', '--as-of', '2026-11-24T00:00:00Z', '--json');
    expect(sized.code).toBe(0);
    const sizedUnit = JSON.parse(sized.stdout).businessUnits[0];
    expect(sizedUnit.dealSize).toMatchObject({ source: 'measured', currency: expect.stringMatching(/^[A-Z]{3}$/) });
    expect(sizedUnit.dealSize.observations).toBeGreaterThan(0);
    expect(sizedUnit.targets[0].deals).toBe(Math.ceil(300_000 / sizedUnit.dealSize.value - 1e-9));
    // a currency no deal was paid in leaves nothing to measure, and the planner says what is missing
    const none = sluice('plan', '--revenue', '300000', '--period', '2027-Q1', '--as-of', '2026-11-24T00:00:00Z', '--currency', 'JPY');
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('businessUnits.0.dealSize: a deal size needs');
  });
});
