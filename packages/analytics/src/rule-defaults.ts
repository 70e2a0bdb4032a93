import type { RuleConfig } from '@sluice/schemas';

/**
 * What a stage-level query may leave out when the caller runs under known
 * rules (a server, or the CLI on its data directory): the config version
 * whose stage tables to read, the stage model and the business time zone.
 * What the body says wins; a body that is not an object is returned untouched
 * so the query's own parser names what is wrong with it.
 */
export type StageQueryKind = 'conversion' | 'closeRates' | 'drivers' | 'timeToConvert' | 'retention' | 'cost';

/** The fields each kind's live-rule defaults fill in: a body sent to a server (or the CLI) under known rules may leave them out. */
export interface RuleDefaultedFields {
  conversion: 'configVersion' | 'stages' | 'timeZone';
  closeRates: 'configVersion' | 'customerStage' | 'populationStage';
  drivers: 'configVersion' | 'from' | 'to';
  timeToConvert: 'configVersion' | 'timeZone';
  retention: 'configVersion' | 'timeZone';
  cost: 'configVersion' | 'timeZone' | 'businessUnits' | 'stages' | 'currencies';
}
type Defaults<K extends StageQueryKind> = Partial<Record<RuleDefaultedFields[K], unknown>>;

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function defaultsOf(kind: StageQueryKind, rules: RuleConfig): Record<string, unknown> {
  const stages = rules.stageModel.stages.map((s) => s.id);
  switch (kind) {
    case 'conversion':
      return { configVersion: rules.version, stages, timeZone: rules.timeZone } satisfies Defaults<'conversion'>;
    case 'closeRates': {
      // the second stage is the first at which a person is known (lead in the classic model): the population close rates are about
      const population = stages[1];
      return { configVersion: rules.version, customerStage: rules.stageModel.customerStage, ...(population === undefined ? {} : { populationStage: population }) } satisfies Defaults<'closeRates'>;
    }
    case 'drivers': {
      // as close rates: from the first stage a person is known at, to winning
      const from = stages[1];
      return { configVersion: rules.version, to: rules.stageModel.customerStage, ...(from === undefined ? {} : { from }) } satisfies Defaults<'drivers'>;
    }
    case 'timeToConvert':
      return { configVersion: rules.version, timeZone: rules.timeZone } satisfies Defaults<'timeToConvert'>;
    case 'retention':
      return { configVersion: rules.version, timeZone: rules.timeZone } satisfies Defaults<'retention'>;
    case 'cost': {
      // the SLA's start stage is the model's MQL (the hand-off the SLA report measures too), the stage after it the SQL
      const mql = rules.sla?.startStage ?? stages[2];
      const roles = { lead: stages[1], mql, sql: mql === undefined ? undefined : stages[stages.indexOf(mql) + 1], customer: rules.stageModel.customerStage };
      const complete = Object.values(roles).every((stage) => stage !== undefined);
      return {
        configVersion: rules.version,
        timeZone: rules.timeZone,
        businessUnits: rules.businessUnits,
        ...(complete ? { stages: roles } : {}),
        ...(rules.currencies === undefined ? {} : { currencies: rules.currencies }),
      } satisfies Defaults<'cost'>;
    }
  }
}

export function withRuleDefaults(kind: StageQueryKind, body: unknown, rules: RuleConfig | undefined): unknown {
  if (rules === undefined || !isPlainObject(body)) return body;
  return { ...defaultsOf(kind, rules), ...body };
}
