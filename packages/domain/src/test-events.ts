import { type EventType, type RuleConfigInput, RuleConfigSchema, type RuleConfig, type SluiceEvent, parseEvent } from '@sluice/schemas';

/**
 * Test support (imported by *.test.ts only): events built through the real
 * schema, so a test can never feed the domain an event the edge would reject.
 */

export type Emit = (type: EventType, occurredAt: string, properties?: Record<string, unknown>, envelope?: Record<string, unknown>) => SluiceEvent;

/** An event factory for one subject; ids are `<prefix>-1`, `<prefix>-2`, ... in creation order (prefix: the lead or anonymous id). */
export function eventsFor(subject: { leadId?: string; anonymousId?: string }, idPrefix?: string): Emit {
  let seq = 0;
  const prefix = idPrefix ?? subject.leadId ?? subject.anonymousId ?? 'event';
  return (type, occurredAt, properties = {}, envelope = {}) => {
    seq += 1;
    const parsed = parseEvent({ id: `${prefix}-${seq}`, type, occurredAt, ...subject, ...envelope, properties });
    if (!parsed.ok) throw new Error(`test event ${type} is invalid: ${JSON.stringify(parsed.issues)}`);
    return parsed.event;
  };
}

/** A rule config from partial input; every section not given takes its default. */
export const ruleConfig = (input: Partial<RuleConfigInput> = {}): RuleConfig => RuleConfigSchema.parse({ version: 'test-1', ...input });

export const ms = (iso: string) => Date.parse(iso);
export const DAY = 86_400_000;

const BASE = Date.parse('2026-03-02T09:00:00Z');
/** An instant `days` (and `minutes`) after Monday 2026-03-02 09:00 UTC, as the ISO text events carry. */
export const isoAt = (days: number, minutes = 0) => new Date(BASE + days * DAY + minutes * 60_000).toISOString();
export const msAt = (days: number, minutes = 0) => BASE + days * DAY + minutes * 60_000;
