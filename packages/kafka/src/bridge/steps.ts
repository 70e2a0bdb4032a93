import { parseEvent } from '@sluice/schemas';
import type { SluiceEvent } from '@sluice/schemas';
import type { ConsumedMessage } from '../client.js';

/**
 * What each consumed message turns into, as a value rather than an exception:
 * an event to append, or a dead letter naming the step that refused it and why.
 */
export type DecodeResult = { ok: true; event: SluiceEvent } | { ok: false; step: 'parse' | 'validate'; reason: string };

/** At most this much of a reason goes into a header (a schema report can be long). */
const MAX_REASON_LENGTH = 1000;

export function decodeTouchpoint(message: ConsumedMessage): DecodeResult {
  if (message.value === null) return { ok: false, step: 'parse', reason: 'empty message (no value)' };
  let value: unknown;
  try {
    value = JSON.parse(message.value.toString('utf8'));
  } catch (err) {
    return { ok: false, step: 'parse', reason: `malformed JSON: ${(err as Error).message}`.slice(0, MAX_REASON_LENGTH) };
  }
  const parsed = parseEvent(value);
  if (parsed.ok) return { ok: true, event: parsed.event };
  const reason = `invalid event: ${parsed.issues.map((i) => `${i.field || '(event)'}: ${i.message}`).join('; ')}`;
  return { ok: false, step: 'validate', reason: reason.slice(0, MAX_REASON_LENGTH) };
}
