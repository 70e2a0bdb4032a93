import { describe, expect, it } from 'vitest';
import { CostReportQuerySchema } from '../../cost-report.js';
import type { CostReportResult } from '../../cost-report.js';
import { formatCost } from './format.js';

const query = CostReportQuerySchema.parse({
  configVersion: 'v1',
  stages: { lead: 'lead', mql: 'mql', sql: 'sql', customer: 'customer' },
  dateRange: { from: '2026-01-01T00:00:00Z', to: '2026-04-01T00:00:00Z' },
  businessUnits: { default: 'smb', units: [{ id: 'smb', name: 'SMB' }] },
  period: 'all',
});
const row: CostReportResult['total'] = {
  period: '',
  label: 'all',
  segment: 'google',
  spend: 1000,
  revenue: 0,
  leads: 2,
  mqls: 0,
  sqls: 0,
  customers: 0,
  costPerLead: 500,
  costPerMql: null,
  costPerSql: null,
  costPerAcquisition: null,
  roi: -1,
  paybackPeriods: null,
  reasons: { costPerMql: 'no MQLs', costPerSql: 'no SQLs', costPerAcquisition: 'no customers', paybackPeriods: 'no revenue' },
};

describe('the cost report as text (sluice report cost)', () => {
  it('says under the table what the report left out and why, so a total is never read as complete when it is not', () => {
    const result: CostReportResult = {
      query,
      currency: { report: 'EUR', ratesUsed: {} },
      rows: [row],
      total: { ...row, segment: '' },
      excluded: [
        { measure: 'spend', currency: 'GBP', events: 2, amount: 1234.5, reason: 'no rate from GBP to EUR in currencies.rates' },
        { measure: 'revenue', currency: 'EUR', events: 1, amount: null, reason: 'the amounts add up to more than a number holds' },
      ],
    };
    expect(formatCost(result).split('\n').slice(-4)).toEqual([
      'left out of every row and the total:',
      '  2 spend rows in GBP (1,234.50 GBP): no rate from GBP to EUR in currencies.rates',
      '  1 revenue event in EUR: the amounts add up to more than a number holds',
      '',
    ]);
  });

  it('adds nothing when nothing was left out', () => {
    const text = formatCost({ query, currency: { report: 'EUR', ratesUsed: {} }, rows: [row], total: { ...row, segment: '' }, excluded: [] });
    expect(text).not.toContain('left out');
    expect(text.endsWith('--json gives the reason for each)\n')).toBe(true);
  });
});
