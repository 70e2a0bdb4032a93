import { eventProperties } from '@sluice/schemas';
import type { CaptureConfig, EventType } from '@sluice/schemas';
import { attribute } from '@sluice/tracker';

/**
 * One message of the Segment tracking spec (segment.com/docs/connections/spec/,
 * which RudderStack follows) as a Sluice event, before validation:
 *
 * - `track`: its `event` name through capture.segment.events onto a type; the
 *   type's own property names are taken from `properties` (`revenue` as
 *   `amount`), the rest go under `properties.x`, with the name as `x.event`
 * - `page`: page_view (url from properties or context.page; title, else the page name)
 * - `identify`: identify, traits through capture.segment.traits onto profile facts (the rest under x)
 * - `group`: identify with `groupId` as the accountId, the group's name, industry and employees as company facts
 * - `userId` / `anonymousId` -> leadId / anonymousId, `messageId` -> id,
 *   `timestamp` (else `originalTimestamp`) -> occurredAt, `context.groupId`
 *   (Segment's B2B context) -> accountId, `context.campaign` and
 *   `context.page.referrer` -> source, channel, campaign by capture.channels
 *
 * Anything else (`screen`, `alias`) and a track name the table lacks are
 * rejected with the reason, or skipped where capture.segment.unmapped says so.
 */
export type MappedMessage = { kind: 'event'; event: Record<string, unknown> } | { kind: 'skipped'; reason: string } | { kind: 'rejected'; field: string; message: string };

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const objectAt = (v: unknown): Json => (isObject(v) ? v : {});
/** Segment ids may be numbers; Sluice ids are text */
const idText = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : undefined);
const text = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v : undefined);
/** a count given as a number or a numeric string (traits often carry "250") */
const count = (v: unknown): unknown => (typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : v);

const SUPPORTED = ['track', 'page', 'identify', 'group'] as const;
type Supported = (typeof SUPPORTED)[number];

export function mapSegmentMessage(message: unknown, capture: Pick<CaptureConfig, 'segment' | 'channels'>): MappedMessage {
  if (!isObject(message)) return { kind: 'rejected', field: '', message: 'a message must be a JSON object' };
  const type = message.type;
  if (typeof type !== 'string' || !(SUPPORTED as readonly string[]).includes(type)) {
    return { kind: 'rejected', field: 'type', message: `${typeof type === 'string' ? `"${type.slice(0, 40)}" is not taken` : 'required'}: Sluice takes ${SUPPORTED.join(', ')}` };
  }
  const id = idText(message.messageId);
  if (id === undefined) return { kind: 'rejected', field: 'messageId', message: 'required: it is the event id that makes a resend idempotent' };
  const occurredAt = text(message.timestamp) ?? text(message.originalTimestamp);
  if (occurredAt === undefined) return { kind: 'rejected', field: 'timestamp', message: 'required (timestamp or originalTimestamp): it is when the event occurred' };

  const context = objectAt(message.context);
  const envelope: Json = { id, occurredAt };
  const leadId = idText(message.userId);
  const anonymousId = idText(message.anonymousId);
  if (leadId !== undefined) envelope.leadId = leadId;
  if (anonymousId !== undefined) envelope.anonymousId = anonymousId;
  const accountId = idText(context.groupId);
  if (accountId !== undefined) envelope.accountId = accountId;
  Object.assign(envelope, attribution(context, capture.channels));

  const body = bodyOf(type as Supported, message, context, capture.segment);
  if (body.kind !== 'event') return body;
  return { kind: 'event', event: { ...envelope, ...body.event } };
}

function attribution(context: Json, channels: CaptureConfig['channels']): Json {
  const campaign = objectAt(context.campaign);
  const referrer = text(objectAt(context.page).referrer);
  // a server-side call with neither says nothing about where a person came from
  if (Object.keys(campaign).length === 0 && referrer === undefined) return {};
  return { ...attribute({ utmSource: text(campaign.source), utmMedium: text(campaign.medium), utmCampaign: text(campaign.name), referrer }, channels) };
}

function bodyOf(type: Supported, message: Json, context: Json, segment: CaptureConfig['segment']): MappedMessage {
  const properties = objectAt(message.properties);
  switch (type) {
    case 'track': {
      const name = text(message.event);
      if (name === undefined) return { kind: 'rejected', field: 'event', message: 'required: the name of the tracked event' };
      const mapped = segment.events[name];
      if (mapped === undefined) {
        const why = `track event "${name.slice(0, 100)}" is not in capture.segment.events`;
        return segment.unmapped === 'skip' ? { kind: 'skipped', reason: why } : { kind: 'rejected', field: 'event', message: why };
      }
      const given = 'amount' in properties || !('revenue' in properties) ? properties : { ...properties, amount: properties.revenue, revenue: undefined };
      return { kind: 'event', event: { type: mapped, properties: splitByType(mapped, given, { event: name }) } };
    }
    case 'page': {
      const page = objectAt(context.page);
      const url = properties.url ?? page.url;
      const title = properties.title ?? page.title ?? message.name;
      const rest = { ...properties, url: undefined, title: undefined, ...(message.name === undefined ? {} : { name: message.name }) };
      return { kind: 'event', event: { type: 'page_view', properties: { ...(url === undefined ? {} : { url }), ...(title === undefined ? {} : { title }), ...extensions(rest) } } };
    }
    case 'identify':
      return { kind: 'event', event: { type: 'identify', properties: profile(objectAt(message.traits), segment.traits) } };
    case 'group': {
      const accountId = idText(message.groupId);
      if (accountId === undefined) return { kind: 'rejected', field: 'groupId', message: 'required: it is the account id' };
      const traits = objectAt(message.traits);
      const { name, industry, employees, ...rest } = traits;
      const company = { ...(name === undefined ? {} : { company: name }), ...(industry === undefined ? {} : { industry }), ...(employees === undefined ? {} : { companySize: count(employees) }) };
      return { kind: 'event', event: { type: 'identify', accountId, properties: { ...company, ...extensions(rest) } } };
    }
  }
}

/** The type's own property names taken as given (validation judges them); the rest under x. */
function splitByType(type: EventType, properties: Json, extra: Json): Json {
  const own = new Set(Object.keys(eventProperties[type].shape).filter((k) => k !== 'x'));
  const taken: Json = {};
  const rest: Json = { ...extra };
  for (const [key, value] of Object.entries(properties)) {
    if (value === undefined) continue;
    if (own.has(key)) taken[key] = value;
    // a producer already speaking Sluice's extensions keeps them where they were
    else if (key === 'x' && isObject(value)) Object.assign(rest, value);
    else rest[key] = value;
  }
  return { ...taken, ...extensions(rest) };
}

function profile(traits: Json, map: CaptureConfig['segment']['traits']): Json {
  const facts: Json = {};
  const rest: Json = {};
  for (const [trait, value] of Object.entries(traits)) {
    const fact = map[trait];
    if (fact === undefined || value === undefined) rest[trait] = value;
    // Segment's company trait may be an object ({ name, industry, employee_count })
    else if (fact === 'company' && isObject(value)) facts.company = value.name;
    else facts[fact] = fact === 'companySize' ? count(value) : value;
  }
  return { ...facts, ...extensions(rest) };
}

function extensions(rest: Json): Json {
  const x = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
  return Object.keys(x).length === 0 ? {} : { x };
}
