import { z } from 'zod';
import { RetentionCohortsQuerySchema, runRetentionCohorts } from '../../retention-cohorts.js';
import { EchoedQuery, bodyTimeout } from '../declaration.js';
import { formatCohorts } from './format.js';
import type { StageQueryDeclaration } from '../declaration.js';
import type { RetentionCohortsQuery, RetentionCohortsResult } from '../../retention-cohorts.js';

/** The semantics are written down with the reference beside it (reference.ts), which the SQL is property-tested against. */
export const cohorts = {
  name: 'cohorts',
  path: '/v1/cohorts',
  kind: 'retention',
  slug: 'invalid-cohorts-query',
  what: 'cohorts query',
  summary: 'Retention cohorts: customers renewing or upsold by periods since purchase',
  description:
    'Customers by the month or quarter of their first purchase (payment by default) in the business time zone; for each offset since, ' +
    'how many had a retention event (renewal or upsell by default) in that calendar period, and the rate over the cohort. Segment by ' +
    "the purchase's source, channel or campaign, or a lead profile key. With unit \"accounts\" a customer is an account (the one its " +
    "leads' profiles name; a lead without one is its own): its first purchase is its first lead's, and any of its leads retains it. " +
    'Offsets whose period begins after asOf (by default the moment the request arrives) have not happened yet: their counts and rates are null. ' +
    'timeZone and configVersion default to the live rules of the server.',
  request: RetentionCohortsQuerySchema,
  response: z.object({
    query: EchoedQuery,
    cohorts: z.array(z.looseObject({ periodLabel: z.string(), segment: z.string(), customers: z.number().int() })),
    segments: z.number().int(),
    truncated: z.boolean(),
  }),
  // the purchases and renewals are touchpoints
  reads: ['touchpoints', 'stageTables'],
  // the periods after now have not happened yet: null, not 0% (a client may still ask as of another instant)
  asOfDefaultsToNow: true,
  timeoutSeconds: bodyTimeout,
  run: runRetentionCohorts,
  format: formatCohorts,
} satisfies StageQueryDeclaration<RetentionCohortsQuery, RetentionCohortsResult>;
