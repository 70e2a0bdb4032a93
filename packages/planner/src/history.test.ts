import { describe, expect, it } from 'vitest';
import { planReverseFunnel } from './plan.js';
import { historyRequestsOf, lookbackRange, withMeasuredHistory } from './history.js';
import type { HistoryRequest, UnitHistory } from './history.js';

const input = {
  asOf: '2026-11-24T09:00:00Z',
  timeZone: 'UTC',
  stageModel: { stages: ['visitor', 'lead', 'mql', 'sql', 'customer'] },
  businessUnits: [{ id: 'smb', dealSize: { given: 20_000 }, transitions: [{ from: 'sql', to: 'customer', rate: { given: 0.5 } }] }],
  targets: [{ businessUnit: 'smb', period: '2027-Q1', revenue: 400_000 }],
  uncertainty: { seed: 3, draws: 200 },
};

// given history for smb: 40/1000 visitors became leads, 50/200 leads MQLs, 20/50 MQLs SQLs, 5/20 SQLs customers
const history: UnitHistory = {
  steps: [
    { from: 'visitor', to: 'lead', entered: 1000, converted: 40, meanLagDays: 0.4 },
    { from: 'lead', to: 'mql', entered: 200, converted: 50, meanLagDays: 12.6 },
    { from: 'mql', to: 'sql', entered: 50, converted: 20, meanLagDays: 4 },
    { from: 'sql', to: 'customer', entered: 20, converted: 5, meanLagDays: 41 },
  ],
  pipeline: { sql: 6 },
};

describe('withMeasuredHistory', () => {
  it('fills observed counts, lags and the pipeline; a given rate stays as an override', () => {
    const asked: HistoryRequest[] = [];
    const filled = withMeasuredHistory(input, (request) => (asked.push(request), history)) as typeof input;
    expect(asked).toEqual([{ businessUnit: 'smb', stages: ['visitor', 'lead', 'mql', 'sql', 'customer'], asOf: input.asOf, timeZone: 'UTC', unit: 'leads', dealSizeGiven: true }]);
    const outcome = planReverseFunnel(filled);
    expect(outcome.ok).toBe(true);
    if (!outcome.ok) return;
    const unit = outcome.plan.businessUnits[0]!;
    expect(unit.rates.map((r) => [r.source, r.rate, r.observations?.entered])).toEqual([
      ['measured', 0.04, 1000],
      ['measured', 0.25, 200],
      ['measured', 0.4, 50],
      ['overridden', 0.5, 20],
    ]);
    // 400,000 / 20,000 = 20 deals; / 0.5 = 40 SQLs; / 0.4 = 100 MQLs; / 0.25 = 400 leads; / 0.04 = 10,000 visits
    const target = unit.targets[0]!;
    expect(target.status === 'planned' && target.volumes.map((v) => v.required)).toEqual([10_000, 400, 100, 40, 20]);
    expect(target.status === 'planned' && target.pipeline.held.map((h) => [h.stage, h.count])).toEqual([['sql', 6]]);
  });

  it('fills the deal size measured from payments; a given size stays as an override', () => {
    const measured: UnitHistory = { ...history, dealSize: { deals: 16, revenue: 320_000, stdDev: 4_000, currency: 'EUR' } };
    const withoutGiven = { ...input, businessUnits: [{ ...input.businessUnits[0]!, dealSize: {} }] };
    const outcome = planReverseFunnel(withMeasuredHistory(withoutGiven, () => measured));
    expect(outcome.ok).toBe(true);
    if (!outcome.ok) return;
    const unit = outcome.plan.businessUnits[0]!;
    // 320,000 over 16 deals = 20,000 a deal, resting on 16 observations; standard error 4,000 / sqrt(16)
    expect(unit.dealSize).toMatchObject({ source: 'measured', value: 20_000, observations: 16, standardError: 1_000, currency: 'EUR' });
    const target = unit.targets[0]!;
    expect(target.status === 'planned' && target.deals).toBe(20);

    const overridden = planReverseFunnel(withMeasuredHistory(input, () => measured));
    expect(overridden.ok && overridden.plan.businessUnits[0]!.dealSize).toMatchObject({ source: 'overridden', value: 20_000, observations: 16 });
    // no paid deal: nothing is filled, and the planner names the missing size
    const none = planReverseFunnel(withMeasuredHistory(withoutGiven, () => ({ ...history, dealSize: { deals: 0, revenue: 0, currency: 'EUR' } })));
    expect(none.ok ? [] : none.issues.map((i) => i.path.join('.'))).toEqual(['businessUnits.0.dealSize']);
  });

  it('leaves input it cannot read to the planner, which names the problem', () => {
    const bad = { ...input, asOf: 42 };
    expect(withMeasuredHistory(bad, () => history)).toBe(bad);
    expect(withMeasuredHistory(input, () => undefined)).toEqual(input);
  });
});

describe('historyRequestsOf and lookbackRange', () => {
  it('asks one measurement per business unit, with the currency the input names', () => {
    const two = { ...input, businessUnits: [input.businessUnits[0]!, { id: 'enterprise', dealSize: { currency: 'USD' }, transitions: [] }] };
    expect(historyRequestsOf(two).map((r) => [r.businessUnit, r.currency])).toEqual([
      ['smb', undefined],
      ['enterprise', 'USD'],
    ]);
    expect(historyRequestsOf({ ...input, asOf: 42 })).toEqual([]);
  });

  it('ends the window at the local midnight of asOf and starts it the months before, across a DST change', () => {
    // 09:00 UTC on 30 March is 11:00 in Berlin (summer time); twelve months back is 30 March 2025, still winter time
    expect(lookbackRange({ asOf: '2026-03-30T09:00:00Z', timeZone: 'Europe/Berlin' }, 12)).toEqual({ from: '2025-03-30T00:00:00.000+01:00', to: '2026-03-30T00:00:00.000+02:00' });
    expect(lookbackRange({ asOf: 'yesterday', timeZone: 'UTC' }, 12)).toBeUndefined();
    expect(lookbackRange({ asOf: '2026-03-30T09:00:00Z', timeZone: 'Mars/Olympus' }, 12)).toBeUndefined();
  });
});
