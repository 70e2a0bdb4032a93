import { z } from 'zod';
import { OffsetDateTime } from './events/primitives.js';

/** The body of the SLA report (POST /v1/reports/sla, `sluice report sla`). */
export const SlaReportQuerySchema = z.strictObject({
  /** leads whose SLA clock started in [from, to) */
  dateRange: z.strictObject({ from: OffsetDateTime, to: OffsetDateTime }).refine((r) => Date.parse(r.from) < Date.parse(r.to), { message: 'from must be before to', path: ['to'] }),
  /** statuses at this instant; default: now */
  asOf: OffsetDateTime.optional(),
  /** breaching leads listed at most (the count is complete) */
  breachLimit: z.number().int().min(0).max(10_000).default(100),
});
export type SlaReportQuery = z.output<typeof SlaReportQuerySchema>;
