import { describe, expect, it } from 'vitest';
import type { LagInput, PlanInputIssue, PlanInputRaw } from './plan-input.js';
import { PLAN_LIMITS, parsePlanInput, planRequestIssues, planningChain } from './plan-input.js';
import { CLASSIC_STAGES, classicInput, classicUnit, withTransition } from './test-fixtures.js';

/** Issues of an input that must be rejected. */
function issuesOf(raw: unknown): PlanInputIssue[] {
  const parsed = parsePlanInput(raw);
  if (parsed.ok) throw new Error('expected the input to be rejected');
  return parsed.issues;
}

describe('given a valid plan input', () => {
  it('when parsing, then it passes and the uncertainty and sensitivity defaults are filled in', () => {
    const parsed = parsePlanInput({ ...classicInput(), uncertainty: undefined });

    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.input.uncertainty).toEqual({ seed: 1, draws: 10_000, minObservations: 30, minConversions: 10 });
    expect(parsed.input.sensitivity).toEqual({ points: 0.01, relative: 0.1 });
  });

  it('when the stage model names a paying stage with stages after it, then only the stages up to it are planned', () => {
    const journey = ['awareness', 'interest', 'consideration', 'intent', 'evaluation', 'purchase', 'retention', 'advocacy'];

    expect(planningChain({ stages: journey, dealStage: 'purchase' })).toEqual(journey.slice(0, 6));
    expect(planningChain({ stages: CLASSIC_STAGES })).toEqual(CLASSIC_STAGES);
  });
});

describe('given bad targets', () => {
  it('when a revenue target is below zero, then the issue names the field', () => {
    expect(issuesOf(classicInput({ targets: [{ businessUnit: 'emea', period: '2027-Q1', revenue: -1 }] }))).toEqual([
      { path: ['targets', 0, 'revenue'], message: 'a revenue target cannot be negative' },
    ]);
  });

  it('when a target names an unknown business unit, then the issue lists the declared ones', () => {
    expect(issuesOf(classicInput({ targets: [{ businessUnit: 'apac', period: '2027-Q1', revenue: 1 }] }))).toEqual([
      { path: ['targets', 0, 'businessUnit'], message: "unknown business unit 'apac' (declared: emea)" },
    ]);
  });

  it.each(['2027-13', '2027-Q5', '27-03', '2027-3', '2027'])('when the period is %s, then it is rejected as not a month or quarter', (period) => {
    expect(issuesOf(classicInput({ targets: [{ businessUnit: 'emea', period, revenue: 1 }] }))).toEqual([
      { path: ['targets', 0, 'period'], message: 'a period is a month like 2027-03 or a quarter like 2027-Q1' },
    ]);
  });

  it('when one unit gets two targets for the same or overlapping periods, then the later one is rejected', () => {
    const issues = issuesOf(
      classicInput({
        targets: [
          { businessUnit: 'emea', period: '2027-Q1', revenue: 1 },
          { businessUnit: 'emea', period: '2027-Q1', revenue: 2 },
          { businessUnit: 'emea', period: '2027-02', revenue: 3 },
          { businessUnit: 'emea', period: '2027-04', revenue: 4 },
        ],
      }),
    );

    expect(issues.map((issue) => issue.path)).toEqual([['targets', 1], ['targets', 2, 'period']]);
    expect(issues[1]?.message).toBe("2027-02 overlaps 2027-Q1 (targets[0]) for business unit 'emea': its volumes would be counted twice");
  });

  it('when revenue is not a finite number, then it is rejected', () => {
    expect(issuesOf(classicInput({ targets: [{ businessUnit: 'emea', period: '2027-Q1', revenue: Infinity }] }))[0]?.path).toEqual([
      'targets',
      0,
      'revenue',
    ]);
    expect(issuesOf(classicInput({ targets: [{ businessUnit: 'emea', period: '2027-Q1', revenue: Number.NaN }] }))[0]?.path).toEqual([
      'targets',
      0,
      'revenue',
    ]);
  });
});

describe('given a bad clock or calendar', () => {
  it('when the time zone is not an IANA zone, then it is rejected', () => {
    expect(issuesOf(classicInput({ timeZone: 'Mars/Olympus_Mons' }))).toEqual([
      { path: ['timeZone'], message: 'timeZone must be an IANA zone such as Europe/Berlin' },
    ]);
  });

  it('when asOf is not an ISO date, then it is rejected', () => {
    expect(issuesOf(classicInput({ asOf: 'next Tuesday' }))[0]?.path).toEqual(['asOf']);
  });

  it('when asOf has an offset no zone has or a year outside 1900..2299, then it is rejected; a day or a real instant is taken', () => {
    for (const asOf of ['2027-01-15T09:00:00+24:00', '2027-01-15T09:00:00+99:99', '0000-01-01T00:00:00Z', '9999-12-31', '2027-02-30']) {
      expect(issuesOf(classicInput({ asOf })).map((i) => i.path), asOf).toEqual([['asOf']]);
    }
    for (const asOf of ['2027-01-15', '2027-01-15T09:00:00+14:00', '2027-01-15T09:00:00Z']) expect(parsePlanInput(classicInput({ asOf })).ok, asOf).toBe(true);
  });

  it('when the deal size names a currency that is not ISO 4217, then it is rejected', () => {
    const unit = classicUnit();
    expect(issuesOf(classicInput({ businessUnits: [{ ...unit, dealSize: { ...unit.dealSize, currency: 'QQQ' } }] })).map((i) => i.path.join('.'))).toEqual(['businessUnits.0.dealSize.currency']);
  });
});

describe('given bad rates and lags', () => {
  const withStep = (transition: Parameters<typeof withTransition>[1]): PlanInputRaw =>
    classicInput({ businessUnits: [withTransition(classicUnit(), transition)] });

  it('when more leads converted than entered, then the count is rejected', () => {
    expect(issuesOf(withStep({ from: 'lead', to: 'mql', rate: { measured: { entered: 10, converted: 11 } } }))).toEqual([
      { path: ['businessUnits', 0, 'transitions', 1, 'rate', 'measured', 'converted'], message: 'converted cannot exceed entered' },
    ]);
  });

  it('when a given rate is above 1 or below 0, then it is rejected', () => {
    expect(issuesOf(withStep({ from: 'lead', to: 'mql', rate: { given: 1.2 } }))[0]?.message).toBe('a conversion rate cannot exceed 1');
    expect(issuesOf(withStep({ from: 'lead', to: 'mql', rate: { given: -0.1 } }))[0]?.message).toBe('a conversion rate cannot be negative');
  });

  it('when a rate has neither a given number nor counts, then it is rejected', () => {
    expect(issuesOf(withStep({ from: 'lead', to: 'mql', rate: {} }))).toEqual([
      { path: ['businessUnits', 0, 'transitions', 1, 'rate'], message: 'a rate needs `given`, `measured` or both (given overrides measured)' },
    ]);
  });

  it('when a transition skips a stage, then it is rejected naming the chain', () => {
    const unit = classicUnit();
    const issues = issuesOf(
      classicInput({ businessUnits: [{ ...unit, transitions: [...(unit.transitions ?? []), { from: 'visitor', to: 'mql', rate: { given: 0.01 } }] }] }),
    );

    expect(issues).toEqual([
      {
        path: ['businessUnits', 0, 'transitions', 4],
        message: "'visitor' -> 'mql' is not a step of the planning chain (visitor -> lead -> mql -> sql -> customer)",
      },
    ]);
  });

  it('when a transition is declared twice, then the second is rejected', () => {
    const unit = classicUnit();
    const issues = issuesOf(classicInput({ businessUnits: [{ ...unit, transitions: [...(unit.transitions ?? []), { from: 'sql', to: 'customer' }] }] }));

    expect(issues).toEqual([{ path: ['businessUnits', 0, 'transitions', 4], message: 'transition sql->customer is declared twice' }]);
  });

  it('when a lag is negative, unordered or of an unknown kind, then it is rejected', () => {
    const lagIssue = (lag: unknown): PlanInputIssue | undefined =>
      issuesOf(classicInput({ businessUnits: [{ ...classicUnit(), transitions: [{ from: 'lead', to: 'mql', lag } as never] }] }))[0];

    expect(lagIssue({ kind: 'given', days: -2 })).toEqual({
      path: ['businessUnits', 0, 'transitions', 0, 'lag', 'days'],
      message: 'a lag cannot be negative',
    });
    expect(lagIssue({ kind: 'quantiles', p10: 9, p50: 5, p90: 20 })?.message).toBe('lag quantiles must satisfy p10 <= p50 <= p90');
    expect(lagIssue({ kind: 'median', days: 3 })?.path).toEqual(['businessUnits', 0, 'transitions', 0, 'lag', 'kind']);
  });

  it('when a deal size is negative, then it is rejected', () => {
    expect(issuesOf(classicInput({ businessUnits: [{ ...classicUnit(), dealSize: { given: -5 } }] }))).toEqual([
      { path: ['businessUnits', 0, 'dealSize', 'given'], message: 'a deal size cannot be negative' },
    ]);
  });
});

describe('given a bad stage model or references to it', () => {
  it('when a stage appears twice, then it is rejected', () => {
    expect(issuesOf(classicInput({ stageModel: { stages: ['visitor', 'lead', 'visitor'] }, businessUnits: [{ id: 'emea', dealSize: { given: 1 } }] }))).toEqual([
      { path: ['stageModel', 'stages', 2], message: "stage 'visitor' appears twice" },
    ]);
  });

  it('when the deal stage is unknown or the first stage, then it is rejected', () => {
    const model = (dealStage: string): PlanInputRaw =>
      classicInput({ stageModel: { stages: CLASSIC_STAGES, dealStage }, businessUnits: [{ id: 'emea', dealSize: { given: 1 } }] });

    expect(issuesOf(model('won'))[0]).toEqual({
      path: ['stageModel', 'dealStage'],
      message: "deal stage 'won' is not one of the stages (visitor, lead, mql, sql, customer)",
    });
    expect(issuesOf(model('visitor'))[0]?.path).toEqual(['stageModel', 'dealStage']);
  });

  it('when a transition goes past the deal stage, then it is rejected', () => {
    const issues = issuesOf(
      classicInput({
        stageModel: { stages: [...CLASSIC_STAGES, 'advocate'], dealStage: 'customer' },
        businessUnits: [{ ...classicUnit(), transitions: [{ from: 'customer', to: 'advocate', rate: { given: 0.1 } }] }],
      }),
    );

    expect(issues[0]?.path).toEqual(['businessUnits', 0, 'transitions', 0]);
  });

  it('when the pipeline holds leads in the deal stage or an unknown one, then each is rejected', () => {
    const issues = issuesOf(classicInput({ businessUnits: [{ ...classicUnit(), pipeline: { customer: 3, prospect: 1, sql: 4 } }] }));

    expect(issues.map((issue) => issue.path)).toEqual([
      ['businessUnits', 0, 'pipeline', 'customer'],
      ['businessUnits', 0, 'pipeline', 'prospect'],
    ]);
  });

  it('when business units share an id or the SLA names a stage outside the chain, then each is rejected', () => {
    const issues = issuesOf(
      classicInput({
        businessUnits: [classicUnit(), classicUnit()],
        sla: { marketingStage: 'mql', salesStage: 'opportunity', repMonthlyCap: 40 },
      }),
    );

    expect(issues).toEqual([
      { path: ['businessUnits', 1, 'id'], message: "business unit 'emea' is declared twice" },
      { path: ['sla', 'salesStage'], message: "SLA stage 'opportunity' is not in the planning chain (visitor, lead, mql, sql, customer)" },
    ]);
  });
});

describe('given a plan past its bounds (each keeps one plan to seconds of work)', () => {
  const months = (n: number) => Array.from({ length: n }, (_, i) => `${2027 + Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, '0')}`);
  const monthlyTargets = (n: number) => months(n).map((period) => ({ businessUnit: 'emea', period, revenue: 1 }));
  const paths = (raw: unknown) => issuesOf(raw).map((issue) => issue.path.join('.'));

  it('when it has more targets, business units or stages than its limits, then each is named', () => {
    expect(parsePlanInput(classicInput({ targets: monthlyTargets(PLAN_LIMITS.maxTargets) })).ok).toBe(true);
    expect(issuesOf(classicInput({ targets: monthlyTargets(PLAN_LIMITS.maxTargets + 1) }))).toEqual([{ path: ['targets'], message: 'a plan has at most 120 targets' }]);
    const units = Array.from({ length: PLAN_LIMITS.maxBusinessUnits + 1 }, (_, i) => classicUnit(`unit-${i}`));
    expect(paths(classicInput({ businessUnits: units, targets: [{ businessUnit: 'unit-0', period: '2027-Q1', revenue: 1 }] }))).toEqual(['businessUnits']);
    const stages = Array.from({ length: PLAN_LIMITS.maxStages + 1 }, (_, i) => `s${i}`);
    expect(paths(classicInput({ stageModel: { stages }, businessUnits: [{ id: 'emea', dealSize: { given: 1 } }] }))).toEqual(['stageModel.stages']);
  });

  it('when draws x (targets + business units) x stages passes 10,000,000, then draws is named with the most it could be', () => {
    // 100,000 draws x (19 + 1) x 5 stages = 10,000,000: at the bound
    expect(parsePlanInput(classicInput({ targets: monthlyTargets(19), uncertainty: { draws: 100_000 } })).ok).toBe(true);
    expect(issuesOf(classicInput({ targets: monthlyTargets(20), uncertainty: { draws: 100_000 } }))).toEqual([
      {
        path: ['uncertainty', 'draws'],
        message: 'draws x (targets + business units) x stages is at most 10,000,000: with 20 targets, 1 business units and 5 stages, draws can be at most 95238',
      },
    ]);
    // the default 10,000 draws over 5 stages: 200 targets and business units together would be 10,000,000
    expect(parsePlanInput(classicInput({ targets: monthlyTargets(PLAN_LIMITS.maxTargets), uncertainty: undefined })).ok).toBe(true);
  });

  it("when a unit's lags along the chain, each at its longest, add up to more than 3650 days, then its transitions are named", () => {
    const lags: LagInput[] = [
      { kind: 'given', days: 1000 },
      { kind: 'samples', days: [1, 1200, 3] },
      { kind: 'histogram', buckets: [{ days: 900, count: 2 }, { days: 3000, count: 0 }] },
      { kind: 'quantiles', p10: 1, p50: 2, p90: 551 },
    ];
    const unit = classicUnit();
    const lagged = { ...unit, transitions: unit.transitions!.map((transition, i) => ({ ...transition, lag: lags[i] })) };
    // 1000 + 1200 + 900 (the 3000-day bucket holds nothing) + 551 = 3651
    expect(issuesOf(classicInput({ businessUnits: [lagged] }))).toEqual([
      { path: ['businessUnits', 0, 'transitions'], message: 'the lags along the planning chain add up to at most 3650 days (each step at its longest); these add up to 3651' },
    ]);
    const shorter = { ...lagged, transitions: lagged.transitions.map((transition, i) => (i === 3 ? { ...transition, lag: { kind: 'quantiles' as const, p10: 1, p50: 2, p90: 550 } } : transition)) };
    expect(parsePlanInput(classicInput({ businessUnits: [shorter] })).ok).toBe(true);
  });
});

describe('given a plan request, before history is measured for it', () => {
  it('when rates and the deal size are left to the measurement, then it passes, though as a plan it would not', () => {
    const unmeasured = { id: 'emea', transitions: [{ from: 'visitor', to: 'lead', rate: {} }] };
    const raw = { ...classicInput(), businessUnits: [unmeasured] };
    expect(planRequestIssues(raw)).toEqual([]);
    expect(issuesOf(raw).map((issue) => issue.path.join('.'))).toEqual(['businessUnits.0.dealSize', 'businessUnits.0.transitions.0.rate']);
  });

  it('when what the measurement reads is bad (the zone, asOf, the currency) or it is past a bound, then each is named', () => {
    const raw = classicInput({
      timeZone: 'Mars/Olympus',
      asOf: 'yesterday',
      businessUnits: [{ id: 'emea', dealSize: { currency: 'eur' } }],
      targets: Array.from({ length: PLAN_LIMITS.maxTargets + 1 }, (_, i) => ({ businessUnit: 'emea', period: `${2027 + i}-01`, revenue: 1 })),
    });
    expect(planRequestIssues(raw).map((issue) => issue.path.join('.'))).toEqual(['asOf', 'timeZone', 'businessUnits.0.dealSize.currency', 'targets']);
  });
});
