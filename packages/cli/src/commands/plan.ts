import { readFileSync } from 'node:fs';
import { formatPlan, measuredAccountSteps, measuredDealSizes, measuredFunnels } from '@sluice/analytics/plan';
import type { EventStore } from '@sluice/event-store';
import type { ReadModels } from '@sluice/projector';
import { PLAN_COUNTING_UNITS, planReverseFunnel, withMeasuredHistory } from '@sluice/planner';
import type { HistoryStep, MeasuredDealSize, PlanCountingUnit, PlanInputRaw } from '@sluice/planner';
import { CliError, printJson, usageError } from '../output.js';
import type { Settings } from '../settings.js';
import { withEmbeddedStageTables } from './analytics-engine.js';
import { holdsLog } from './measured-rates.js';

export interface PlanFlags {
  revenue?: string | undefined;
  'deal-size'?: string | undefined;
  period?: string | undefined;
  unit?: string | undefined;
  rate?: string[] | undefined;
  lag?: string[] | undefined;
  stages?: string | undefined;
  'as-of'?: string | undefined;
  seed?: string | undefined;
  input?: string | undefined;
  lookback?: string | undefined;
  currency?: string | undefined;
  /** the plan's unit: leads or accounts (--unit names the business unit) */
  count?: string | undefined;
}

const CLASSIC = ['visitor', 'lead', 'mql', 'sql', 'customer'];

function positiveNumber(flag: string, text: string | undefined): number {
  if (text === undefined) throw usageError(`sluice plan needs --${flag} (or --input plan.json)`);
  const n = Number(text.replace(/[_,]/g, ''));
  if (!Number.isFinite(n)) throw usageError(`--${flag} must be a number, got "${text}"`);
  return n;
}

/** `--rate mql:sql=0.4` / `--lag mql:sql=21` (days): one per step, repeatable. */
function stepValues(flag: string, entries: readonly string[] | undefined): Map<string, number> {
  const values = new Map<string, number>();
  for (const entry of entries ?? []) {
    const m = /^([\w-]+):([\w-]+)=([\d.]+)$/.exec(entry);
    if (!m) throw usageError(`--${flag} takes from:to=value, e.g. --${flag} mql:sql=${flag === 'rate' ? '0.4' : '21'}; got "${entry}"`);
    values.set(`${m[1]}:${m[2]}`, Number(m[3]));
  }
  return values;
}

/** Deal sizes by business unit, measured for a plan input (from the data directory's payments). */
export type DealSizeMeasure = (input: unknown, lookbackMonths: number) => Promise<Map<string, MeasuredDealSize>>;
/** Steps counted by account, by business unit, measured for a plan input (from the data directory's stage tables). */
export type AccountStepsMeasure = (input: unknown, lookbackMonths: number) => Promise<Map<string, HistoryStep[]>>;
/** Runs `read` on the data directory's read models, caught up with its log; on undefined when there is no log. */
export type ProjectionsReader = <T>(read: (readModels: ReadModels | undefined) => Promise<T>) => Promise<T>;

function countingUnit(text: string | undefined): PlanCountingUnit {
  const unit = PLAN_COUNTING_UNITS.find((u) => u === (text ?? 'leads'));
  if (unit === undefined) throw usageError(`--count takes ${PLAN_COUNTING_UNITS.join(' or ')} (the plan's unit: what its volumes count), got "${text}"`);
  return unit;
}

/**
 * The planner's input from flags: rates and lags measured from the read models
 * (caught up with the data directory's log), given ones from --rate/--lag overriding
 * them; without --deal-size, the deal size measured from the payments of the
 * deals won in the lookback (in --currency, or the one currency they were paid
 * in); with --count accounts, the steps counted by account from the stage
 * tables and the accounts held now; the planner validates the rest.
 */
export async function planInputFromFlags(
  flags: PlanFlags,
  defaults: { asOf: string; timeZone: string },
  measureDealSizes: DealSizeMeasure,
  measureAccountSteps: AccountStepsMeasure,
  readProjections: ProjectionsReader,
): Promise<unknown> {
  if (flags.input !== undefined) {
    try {
      return JSON.parse(readFileSync(flags.input, 'utf8'));
    } catch (err) {
      throw new CliError(`cannot read plan input ${flags.input}: ${(err as Error).message}`);
    }
  }
  const stages = flags.stages?.split(',').map((s) => s.trim()) ?? CLASSIC;
  const rates = stepValues('rate', flags.rate);
  const lags = stepValues('lag', flags.lag);
  const unit = flags.unit ?? 'all';
  const counting = countingUnit(flags.count);
  const asOf = flags['as-of'] ?? defaults.asOf;
  const lookbackMonths = flags.lookback === undefined ? 12 : Number(flags.lookback);
  if (!Number.isInteger(lookbackMonths) || lookbackMonths < 1) throw usageError(`--lookback takes whole months >= 1, got "${flags.lookback}"`);
  const transitions = stages.slice(1).map((to, i) => {
    const from = stages[i]!;
    const rate = rates.get(`${from}:${to}`);
    const lag = lags.get(`${from}:${to}`);
    return { from, to, ...(rate === undefined ? {} : { rate: { given: rate } }), ...(lag === undefined ? {} : { lag: { kind: 'given' as const, days: lag } }) };
  });
  const dealSize = {
    ...(flags['deal-size'] === undefined ? {} : { given: positiveNumber('deal-size', flags['deal-size']) }),
    ...(flags.currency === undefined ? {} : { currency: flags.currency }),
  };
  const input: PlanInputRaw = {
    asOf,
    timeZone: defaults.timeZone,
    unit: counting,
    stageModel: { stages },
    businessUnits: [{ id: unit, dealSize, transitions }],
    targets: [{ businessUnit: unit, period: flags.period ?? '', revenue: positiveNumber('revenue', flags.revenue) }],
    ...(flags.seed === undefined ? {} : { uncertainty: { seed: Number(flags.seed) } }),
  };
  const dealSizes = flags['deal-size'] === undefined ? await measureDealSizes(input, lookbackMonths) : new Map<string, MeasuredDealSize>();
  const accountSteps = counting === 'accounts' ? await measureAccountSteps(input, lookbackMonths) : new Map<string, HistoryStep[]>();
  // 'all' plans over every business unit's history
  return readProjections(async (readModels) => {
    const funnels = readModels === undefined ? undefined : await measuredFunnels(input, readModels, accountSteps, lookbackMonths);
    return withMeasuredHistory(input, (request) => {
      const funnel = funnels?.get(request.businessUnit);
      const size = dealSizes.get(request.businessUnit);
      if (funnel === undefined && size === undefined) return undefined;
      return { ...(funnel ?? { steps: [], pipeline: {} }), ...(size === undefined ? {} : { dealSize: size }) };
    });
  });
}

export function runPlan(raw: unknown, json: boolean): void {
  const outcome = planReverseFunnel(raw);
  if (!outcome.ok) throw new CliError(`the plan input is invalid:\n${outcome.issues.map((i) => `  ${i.path.join('.') || '(input)'}: ${i.message}`).join('\n')}`);
  if (json) return printJson(outcome.plan);
  process.stdout.write(formatPlan(outcome.plan));
  if (outcome.plan.businessUnits.some((u) => u.targets.some((t) => t.status === 'infeasible'))) process.exitCode = 1;
}

/** Steps counted by account from the data directory's stage tables (its embedded engine, caught up first); refused when it holds no events. */
export async function measureAccountStepsFromDataDir(input: unknown, lookbackMonths: number, openStore: () => Promise<EventStore>, settings: Settings): Promise<Map<string, HistoryStep[]>> {
  if (!holdsLog(settings)) {
    throw new CliError(`--count accounts (the plan's unit) measures accounts from the stage tables of the embedded ClickHouse, and ${settings.dataDir} holds no events: import some, give --input plan.json, or plan by leads`);
  }
  return withEmbeddedStageTables(openStore, settings, (client) => measuredAccountSteps(input, { client, rules: settings.config }, lookbackMonths));
}

/** Deal sizes from the data directory's payments (its embedded engine, caught up first); an empty map when it holds no events. */
export async function measureDealSizesFromDataDir(input: unknown, lookbackMonths: number, openStore: () => Promise<EventStore>, settings: Settings): Promise<Map<string, MeasuredDealSize>> {
  if (!holdsLog(settings)) return new Map();
  return withEmbeddedStageTables(openStore, settings, (client) =>
    measuredDealSizes(input, { client, rules: settings.config }, (_unit, err) => {
      throw new CliError(`${err.message} (--currency EUR, say, or --deal-size N)`);
    }, lookbackMonths),
  );
}
