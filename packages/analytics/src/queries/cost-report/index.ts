import { z } from 'zod';
import { CostReportQuerySchema, runCostReport } from '../../cost-report.js';
import { EchoedQuery, bodyTimeout } from '../declaration.js';
import { formatCost } from './format.js';
import type { StageQueryDeclaration } from '../declaration.js';
import type { CostReportQuery, CostReportResult } from '../../cost-report.js';

const CostRow = z.looseObject({
  label: z.string(),
  segment: z.string(),
  spend: z.number(),
  leads: z.number(),
  mqls: z.number(),
  sqls: z.number(),
  customers: z.number(),
  revenue: z.number(),
});

/** The semantics are written down with the reference, @sluice/domain reference/cost.ts. */
export const costReport = {
  name: 'cost',
  path: '/v1/reports/cost',
  kind: 'cost',
  slug: 'invalid-cost-report',
  what: 'cost report',
  summary: 'Spend and return per source, channel, campaign or business unit and period',
  description:
    'Spend (spread over the period each spend row covers), leads, MQLs, SQLs, customers (stage entries) and revenue (payments) per ' +
    'period in the business time zone and group; cost per lead, MQL, SQL and acquisition, ROI and payback (spend / revenue, in periods). ' +
    'Leads are attributed to a source by first touch (default) or last touch (`attribution`), stated in the answer. Amounts are ' +
    'converted to the configured report currency with the configured rates, which the answer lists (without a rate table: the currency ' +
    'most amounts are in). Amounts it cannot convert (a currency without a rate) are left out of every row and listed in `excluded` ' +
    '(measure, currency, events, amount, reason); the rest is answered. ' +
    'A ratio over zero is null with its reason. configVersion, stages, timeZone, businessUnits and currencies default to the live rules.',
  request: CostReportQuerySchema,
  response: z.object({
    query: EchoedQuery,
    currency: z.object({ report: z.string().nullable(), ratesUsed: z.record(z.string(), z.number()) }),
    rows: z.array(CostRow).describe('one row per (period, group); see CostRow in the reference'),
    total: CostRow,
    excluded: z.array(z.looseObject({ measure: z.string(), currency: z.string(), events: z.number().int(), amount: z.number().nullable(), reason: z.string() })),
  }),
  // spend and revenue are touchpoints, the stage entries the stage tables
  reads: ['touchpoints', 'stageTables'],
  timeoutSeconds: bodyTimeout,
  run: runCostReport,
  format: formatCost,
} satisfies StageQueryDeclaration<CostReportQuery, CostReportResult>;
