import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const tsx = join(root, 'node_modules', '.bin', 'tsx');
const main = join(root, 'packages', 'cli', 'src', 'main.ts');

let dir: string;
let config: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-report-'));
  config = join(dir, 'config.json');
  // the demo's units, its payments' and spend's currencies, a commitment per unit
  writeFileSync(
    config,
    JSON.stringify({
      version: 'report-demo-1',
      businessUnits: { default: 'smb', units: [{ id: 'smb', name: 'SMB' }, { id: 'enterprise', name: 'Enterprise' }, { id: 'partners', name: 'Partners' }] },
      sla: { mqlsPerMonth: { smb: 40, enterprise: 10 } },
      currencies: { report: 'EUR', rates: { USD: 0.92, GBP: 1.17 } },
    }),
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the real CLI in its own process on this file's data directory and configuration. */
function sluice(...args: string[]) {
  const r = spawnSync(tsx, [main, ...args, '--data-dir', join(dir, 'data'), '--config', config], { encoding: 'utf8', env: { ...process.env, SLUICE_API_KEYS: '' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const json = <T>(r: { code: number | null; stdout: string; stderr: string }): T => {
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as T;
};

const RANGE = ['--from', '2026-01-01', '--to', '2026-07-01'];
type ConversionRow = { from: string; to: string; periodLabel: string; segment: string; entered: number; converted: number };

describe('sluice import-spend', () => {
  it('names bad rows by line and writes nothing, then imports the fixed file once', () => {
    const file = join(dir, 'costs.csv');
    const header = 'Source,Channel,Campaign,Amount,Currency,Period Start,Period End\n';
    writeFileSync(file, `${header}linkedin,social,"spring, retargeting",1200.50,EUR,2026-03-01,2026-03-31\nlinkedin,social,brand,12;5,EUR,2026-03-01,2026-03-31\nx,social,brand,90,euro,2026-03-01,2026-03-31\n`);
    const bad = sluice('import-spend', file);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('nothing written; 2 problems');
    expect(bad.stdout).toContain('line 3: properties.amount: Invalid input: expected number, received string');
    expect(bad.stdout).toContain('line 4: properties.currency: must be an ISO 4217 code such as EUR or USD');

    writeFileSync(file, `${header}linkedin,social,"spring, retargeting",1200.50,EUR,2026-03-01,2026-03-31\nlinkedin,social,brand,125,EUR,2026-03-01,2026-03-31\n`);
    expect(json(sluice('import-spend', file, '--json'))).toMatchObject({ rows: 2, accepted: 2, duplicates: 0, issues: [] });
    expect(json(sluice('import-spend', file, '--json'))).toMatchObject({ rows: 2, accepted: 0, duplicates: 2 });
  });

  it('takes NDJSON spend events, refusing other types and two rows that would share an id', () => {
    const file = join(dir, 'costs.ndjson');
    const spend = { type: 'spend', occurredAt: '2026-04-01T00:00:00Z', source: 'bing', properties: { amount: 10, currency: 'USD', periodStart: '2026-03-01T00:00:00Z', periodEnd: '2026-04-01T00:00:00Z' } };
    const lines = [{ ...spend, id: 'sp-1' }, { ...spend, id: 'sp-1' }, { id: 'v-1', type: 'visit', occurredAt: '2026-03-02T00:00:00Z', anonymousId: 'a' }];
    writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n'));
    const run = sluice('import-spend', file, '--json');
    expect(run.code).toBe(1);
    const r = JSON.parse(run.stdout) as { accepted: number; issues: Array<{ line: number; field: string }> };
    expect(r.accepted).toBe(0);
    expect(r.issues.map((i) => [i.line, i.field])).toEqual([
      [2, 'id'],
      [3, 'type'],
    ]);
  });
});

describe('sluice report cost and sla on the demo', () => {
  beforeAll(() => {
    expect(sluice('demo', '--events', '30000', '--start', '2026-01-01', '--months', '6', '--seed', '5', '--json').code).toBe(0);
  }, 180_000);

  it('counts leads, MQLs and SQLs per first-touch source and month as stage conversion does, with the demo spend converted at the configured rates', () => {
    const cost = json<{ query: { attribution: string }; currency: { report: string; ratesUsed: Record<string, number> }; rows: Array<{ label: string; segment: string; leads: number; mqls: number; sqls: number; spend: number }>; total: { spend: number; customers: number; revenue: number } }>(
      sluice('report', 'cost', ...RANGE, '--json'),
    );
    expect(cost.query.attribution).toBe('first_touch');
    // only the rates the amounts needed: this demo was paid in EUR and USD
    expect(cost.currency).toEqual({ report: 'EUR', ratesUsed: { USD: 0.92 } });
    expect(cost.total.spend).toBeGreaterThan(0);
    expect(cost.total.customers).toBeGreaterThan(0);
    expect(cost.total.revenue).toBeGreaterThan(0);

    const conversion = json<{ rows: ConversionRow[] }>(sluice('query', 'conversion', ...RANGE, '--pairs', 'lead:mql,mql:sql,sql:customer', '--segment', 'source', '--json'));
    const entered = (from: string) =>
      conversion.rows
        .filter((r) => r.from === from)
        .map((r) => [r.periodLabel, r.segment, r.entered])
        .sort();
    const counted = (key: 'leads' | 'mqls' | 'sqls') =>
      cost.rows
        .filter((r) => r[key] > 0)
        .map((r) => [r.label, r.segment, r[key]])
        .sort();
    expect(counted('leads')).toEqual(entered('lead'));
    expect(counted('mqls')).toEqual(entered('mql'));
    expect(counted('sqls')).toEqual(entered('sql'));

    const table = sluice('report', 'cost', ...RANGE, '--period', 'quarter', '--by', 'channel', '--attribution', 'last_touch');
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^last-touch attribution by channel; amounts in EUR \(rates: 1 USD = 0.92 EUR\)\n\nperiod\s+channel\s+spend\s+leads/);
    expect(table.stdout).toContain('2026-Q1');
  }, 180_000);

  it('reports the MQLs delivered per unit and their conversion as stage conversion counts them', () => {
    const sla = json<{
      marketing: Array<{ businessUnit: string; delivered: number; committed: number | null }>;
      sales: { total: { leads: number; firstTouch: Record<string, number> } };
      speedToLead: Array<{ leads: number; converted: number }>;
      breaches: { total: number };
    }>(sluice('report', 'sla', ...RANGE, '--as-of', '2026-07-01', '--json'));
    const conversion = json<{ rows: ConversionRow[] }>(sluice('query', 'conversion', ...RANGE, '--period', 'all', '--pairs', 'mql:sql', '--segment', 'businessUnit', '--json'));
    expect(sla.marketing.filter((m) => m.delivered > 0).map((m) => [m.businessUnit, m.delivered]).sort()).toEqual(conversion.rows.map((r) => [r.segment, r.entered]).sort());
    expect(sla.marketing.find((m) => m.businessUnit === 'smb')?.committed).toBe(240);
    const sum = (key: 'leads' | 'converted') => sla.speedToLead.reduce((n, b) => n + b[key], 0);
    expect([sum('leads'), sum('converted')]).toEqual([conversion.rows.reduce((n, r) => n + r.entered, 0), conversion.rows.reduce((n, r) => n + r.converted, 0)]);
    expect(sla.sales.total.leads).toBe(sum('leads'));
    expect(sla.breaches.total).toBeGreaterThan(0);

    const table = sluice('report', 'sla', ...RANGE, '--as-of', '2026-07-01', '--breaches', '3');
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^SLA from mql: first touch within 240 min, 6 attempts within 7 days; as of 2026-07-01T00:00:00.000Z\n/);
    expect(table.stdout).toContain('speed to lead (time to first touch)');
    expect(table.stdout).toContain('(the first 3 listed)');
    expect(sluice('report', 'roi').stderr).toContain('sluice report takes: cost, sla');
  }, 180_000);
});
