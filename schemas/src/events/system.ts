import { z } from 'zod';
import { Id, OffsetDateTime } from './primitives.js';

/**
 * Events Sluice writes itself, never accepted from producers.
 *
 * `identity_linked` is appended to the anonymous visitor's stream in the same
 * atomic append as the event that carried both ids. The first link in an
 * anonymous stream decides which lead owns that history; later links to other
 * leads are kept as facts but move nothing. Reading the anonymous stream alone
 * therefore tells who owns it, deterministically, on every replay.
 */
export const IdentityLinkedSchema = z.strictObject({
  id: z.string(),
  type: z.literal('identity_linked'),
  occurredAt: OffsetDateTime,
  anonymousId: Id,
  leadId: Id,
  properties: z.strictObject({ causationId: Id }),
});
export type IdentityLinked = z.infer<typeof IdentityLinkedSchema>;

/** The derived id can never collide with a client id: `~` is not allowed in those. */
export const identityLinkIdFor = (causationId: string) => `${causationId}~link`;
