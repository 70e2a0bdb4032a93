import type { PlanInputRaw } from './plan-input.js';

/**
 * The classic B2B funnel of domain.md with given rates, shared by the tests:
 * 900,000 / 18,000 = 50 deals; / 0.2 = 250 SQLs; / 0.5 = 500 MQLs;
 * / 0.25 = 2,000 leads; / 0.04 = 50,000 visits.
 */
export const CLASSIC_STAGES = ['visitor', 'lead', 'mql', 'sql', 'customer'];

export type UnitRaw = PlanInputRaw['businessUnits'][number];

export function classicUnit(id = 'emea'): UnitRaw {
  return {
    id,
    dealSize: { given: 18_000 },
    transitions: [
      { from: 'visitor', to: 'lead', rate: { given: 0.04 }, lag: { kind: 'given', days: 0 } },
      { from: 'lead', to: 'mql', rate: { given: 0.25 }, lag: { kind: 'given', days: 0 } },
      { from: 'mql', to: 'sql', rate: { given: 0.5 }, lag: { kind: 'given', days: 0 } },
      { from: 'sql', to: 'customer', rate: { given: 0.2 }, lag: { kind: 'given', days: 0 } },
    ],
  };
}

export function classicInput(overrides: Partial<PlanInputRaw> = {}): PlanInputRaw {
  return {
    asOf: '2026-11-15T09:00:00+01:00',
    timeZone: 'Europe/Berlin',
    stageModel: { stages: CLASSIC_STAGES },
    businessUnits: [classicUnit()],
    targets: [{ businessUnit: 'emea', period: '2027-Q1', revenue: 900_000 }],
    uncertainty: { seed: 1, draws: 500 },
    ...overrides,
  };
}

/** Replace one step of a unit's funnel. */
export function withTransition(unit: UnitRaw, transition: NonNullable<UnitRaw['transitions']>[number]): UnitRaw {
  return {
    ...unit,
    transitions: (unit.transitions ?? []).map((existing) => (existing.from === transition.from ? transition : existing)),
  };
}
