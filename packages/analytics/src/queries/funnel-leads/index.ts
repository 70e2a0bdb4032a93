import { z } from 'zod';
import { FunnelDefinitionSchema, FunnelLeadsQuerySchema } from '../../funnel-definition.js';
import { listFunnelLeads } from '../../funnel.js';
import { formatFunnelLeads } from './format.js';
import type { QueryDeclaration } from '../declaration.js';
import type { FunnelDefinition, FunnelLeadsQuery } from '../../funnel-definition.js';
import type { FunnelLeadPage } from '../../funnel.js';

/** Which leads, as the query string carries it: an unknown parameter is ignored, as a URL's are. */
const FunnelLeadsQueryString = z.object(FunnelLeadsQuerySchema.shape);

/** The leads at one step of a funnel: its semantics are the funnel's (../funnel/reference.ts). */
export const funnelLeads = {
  name: 'funnel-leads',
  path: '/v1/funnels/leads',
  slug: 'invalid-funnel',
  what: 'funnel definition',
  summary: 'The leads at one step of a funnel',
  description: 'The body is the funnel definition; the query string picks the step (0-based), reached or dropped, a breakdown value, and the page.',
  request: FunnelDefinitionSchema,
  options: FunnelLeadsQueryString,
  response: z.object({
    leads: z.array(
      z.looseObject({
        unitId: z.string(),
        leadId: z.string().nullable(),
        accountId: z.string().nullable(),
        anonymousId: z.string().nullable(),
        reachedSteps: z.number().int(),
        breakdownValue: z.string(),
        enteredAt: z.string(),
      }),
    ),
    nextAfter: z.string().nullable().describe('the cursor of the next page (after=), null on the last'),
  }),
  reads: ['touchpoints'],
  timeoutSeconds: (_definition, options) => options.timeoutSeconds,
  crossCheck: (definition, options) =>
    options.stepIndex < definition.steps.length ? [] : [{ field: 'querystring.stepIndex', message: `must be below ${definition.steps.length}: the funnel's last step is ${definition.steps.length - 1}` }],
  run: listFunnelLeads,
  format: formatFunnelLeads,
} satisfies QueryDeclaration<FunnelDefinition, FunnelLeadPage, FunnelLeadsQuery>;
