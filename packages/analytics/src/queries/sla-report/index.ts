import { z } from 'zod';
import type { SlaReport } from '@sluice/projector';
import { SlaReportQuerySchema } from '@sluice/schemas';
import type { SlaReportQuery } from '@sluice/schemas';
import type { ReadModelQueryDeclaration } from '../declaration.js';
import { formatSla } from './format.js';

const GroupRow = z.looseObject({ key: z.string(), leads: z.number().int(), contacted: z.number().int() });
const Bucket = z.looseObject({ label: z.string(), leads: z.number().int(), converted: z.number().int(), rate: z.number().nullable() });

/** The marketing <-> sales SLA (issue 8), from the read models; the semantics are the projector's queries/sla-report.ts. */
export const slaReport = {
  name: 'sla',
  path: '/v1/reports/sla',
  slug: 'invalid-sla-report',
  what: 'SLA report',
  summary: 'The marketing <-> sales SLA for a period',
  description:
    'For the leads whose SLA clock started in the date range (they entered the SLA start stage, usually MQL): MQLs delivered per ' +
    'business unit against the monthly commitment (sla.mqlsPerMonth); first sales touch within sla.firstTouchWithinMinutes (exactly ' +
    'at the target is met) and the committed attempts in the first week, per owner and business unit, at asOf (default now); the ' +
    'breaching leads; speed to lead (median, p90) and persistence against conversion to the next stage. Targets come from the live rules; ' +
    'rules without an SLA answer 409 no-sla.',
  request: SlaReportQuerySchema,
  response: z.object({
    range: z.object({ from: z.string(), to: z.string() }),
    asOf: z.string(),
    targets: z.looseObject({ startStage: z.string(), nextStage: z.string().nullable(), firstTouchWithinMinutes: z.number() }),
    marketing: z.array(z.looseObject({ businessUnit: z.string(), delivered: z.number().int() })),
    sales: z.object({ total: GroupRow, byBusinessUnit: z.array(GroupRow), byOwner: z.array(GroupRow) }),
    breaches: z.object({ total: z.number().int(), leads: z.array(z.looseObject({ leadId: z.string() })), truncated: z.boolean() }),
    speedToLead: z.array(Bucket),
    persistence: z.array(Bucket).nullable(),
  }),
  reads: ['readModels'],
  run: ({ readModels, rules, nowMs }, q) =>
    readModels.slaReport(rules, {
      fromMs: Date.parse(q.dateRange.from),
      toMs: Date.parse(q.dateRange.to),
      asOfMs: q.asOf === undefined ? nowMs : Date.parse(q.asOf),
      breachLimit: q.breachLimit,
    }),
  format: formatSla,
} satisfies ReadModelQueryDeclaration<SlaReportQuery, SlaReport>;
