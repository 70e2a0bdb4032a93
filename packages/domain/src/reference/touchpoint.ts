import { ACTORLESS_TYPES } from '@sluice/schemas';
import type { EventType, IdentityLinked } from '@sluice/schemas';

/**
 * What funnel counting sees of one touchpoint. The analytics sink writes the
 * same facts into ClickHouse (flattened the same way, by the functions below),
 * so the reference and the SQL count over identical inputs.
 */
export interface FunnelTouchpoint {
  /** Who the funnel counts: see {@link actorIdFor}. */
  actorId: string;
  /** Milliseconds since the epoch (ClickHouse keeps DateTime64(3): sub-millisecond digits are dropped). */
  occurredAtMs: number;
  /** Global log position: breaks ties between equal timestamps. */
  position: number;
  type: string;
  /** Envelope fields funnels filter and break down on; a missing field reads as ''. */
  fields: Readonly<Record<EnvelopeKey, string>>;
  /** `properties` flattened by {@link flattenProperties}. */
  properties: Readonly<Record<string, string>>;
}

/** Envelope fields a funnel may filter or break down on (their ClickHouse columns are whitelisted in analytics). */
export const ENVELOPE_KEYS = ['source', 'channel', 'campaign', 'accountId'] as const;
export type EnvelopeKey = (typeof ENVELOPE_KEYS)[number];

/** A key is an envelope field or `properties.<flattened path>`, e.g. `properties.x.utm_term`. */
export const PROPERTY_KEY_PREFIX = 'properties.';

/**
 * Anonymous visitors nobody has claimed yet are counted too (a visit -> lead
 * funnel needs them), under `anon~<anonymousId>`. Client ids may not contain
 * `~`, so this can never collide with a lead id.
 */
export const ANONYMOUS_ACTOR_PREFIX = 'anon~';

export function actorIdFor(ownerLeadId: string | undefined, anonymousId: string | undefined): string {
  if (ownerLeadId) return ownerLeadId;
  if (anonymousId) return ANONYMOUS_ACTOR_PREFIX + anonymousId;
  throw new Error('a touchpoint needs a lead id or an anonymous id');
}

export function parseActorId(actorId: string): { leadId: string | null; anonymousId: string | null } {
  return actorId.startsWith(ANONYMOUS_ACTOR_PREFIX)
    ? { leadId: null, anonymousId: actorId.slice(ANONYMOUS_ACTOR_PREFIX.length) }
    : { leadId: actorId, anonymousId: null };
}

/**
 * Flattens `properties` into `path -> text`, the one way property values are
 * compared everywhere: nested objects join their keys with `.`
 * (`{x: {utm: 'a'}}` -> `x.utm = 'a'`), strings stay as they are, numbers,
 * booleans and arrays become their JSON text (`24000`, `true`, `["a"]`), and
 * null means absent. A filter value is compared against this text.
 */
export function flattenProperties(properties: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (value: unknown, path: string) => {
    if (value === null || value === undefined) return;
    if (typeof value === 'object' && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) walk(v, path ? `${path}.${k}` : k);
      return;
    }
    if (path === '') return; // a scalar `properties` is not an object: nothing to address
    out[path] = scalarText(value);
  };
  walk(properties, '');
  return out;
}

/** Text of a scalar filter value or property value (see {@link flattenProperties}). */
export function scalarText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Envelope and properties of a stored touchpoint, as far as funnels need them. */
interface TouchpointData {
  occurredAt: string;
  leadId?: string;
  anonymousId?: string;
  accountId?: string;
  source?: string;
  channel?: string;
  campaign?: string;
  properties?: unknown;
}

export interface LoggedEvent {
  position: number;
  type: string;
  data: unknown;
}

/** The range ClickHouse's DateTime64 holds; instants outside it are stored clamped to its ends. */
export const MIN_INSTANT_MS = Date.UTC(1900, 0, 1);
export const MAX_INSTANT_MS = Date.UTC(2299, 11, 31, 23, 59, 59, 999);

/**
 * Epoch milliseconds of an ISO 8601 instant with an offset: digits below the
 * millisecond are dropped and years outside 1900-2299 clamp to that range, as
 * ClickHouse's DateTime64(3) stores them.
 */
export function instantMs(isoWithOffset: string): number {
  const ms = Date.parse(isoWithOffset);
  if (Number.isNaN(ms)) throw new Error(`not an ISO 8601 instant: ${isoWithOffset}`);
  return Math.min(MAX_INSTANT_MS, Math.max(MIN_INSTANT_MS, ms));
}

/**
 * Touchpoints of a log (in any order) with every anonymous history resolved to
 * its owner: an event naming a lead belongs to that lead; an anonymous-only
 * event belongs to the lead of the FIRST (lowest position) `identity_linked`
 * of its anonymous id, else to the anonymous visitor itself. Ownership is
 * decided by the whole log, so it does not depend on when the link arrived
 * relative to the events (this is what replays and late links need). An
 * event delivered twice (same position) counts once. Events about no person
 * (spend, opportunities) are no one's touchpoint: the sink writes them with
 * empty ids and no funnel step can name them, so they are left out here.
 */
export function touchpointsFromLog(events: readonly LoggedEvent[]): FunnelTouchpoint[] {
  const owner = new Map<string, { leadId: string; position: number }>();
  for (const e of events) {
    if (e.type !== 'identity_linked') continue;
    const link = e.data as IdentityLinked;
    const known = owner.get(link.anonymousId);
    if (!known || e.position < known.position) owner.set(link.anonymousId, { leadId: link.leadId, position: e.position });
  }
  const out: FunnelTouchpoint[] = [];
  const seen = new Set<number>();
  for (const e of events) {
    // a redelivered event (same position) is the same fact: count it once
    if (e.type === 'identity_linked' || ACTORLESS_TYPES.has(e.type as EventType) || seen.has(e.position)) continue;
    seen.add(e.position);
    const d = e.data as TouchpointData;
    const ownerLeadId = d.leadId ?? (d.anonymousId === undefined ? undefined : owner.get(d.anonymousId)?.leadId);
    out.push({
      actorId: actorIdFor(ownerLeadId, d.anonymousId),
      occurredAtMs: instantMs(d.occurredAt),
      position: e.position,
      type: e.type,
      fields: { source: d.source ?? '', channel: d.channel ?? '', campaign: d.campaign ?? '', accountId: d.accountId ?? '' },
      properties: flattenProperties(d.properties),
    });
  }
  return out;
}
