import { z } from 'zod';

/**
 * Identifiers are opaque but constrained: they become stream names, ClickHouse
 * keys and idempotency keys, so no spaces, no control characters, and no `~`
 * (reserved for ids Sluice derives from a client's id, e.g. `<id>~link`).
 */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,127}$/;
export const Id = z.string().regex(ID_PATTERN, {
  message: 'must be 1-128 characters: letters, digits and . _ : @ / + = - (starting with a letter or digit)',
});

const OFFSET_DATETIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
const DATETIME_MESSAGE = 'must be an ISO 8601 date-time with an offset or Z, e.g. 2026-03-01T10:00:00+08:00';

const daysIn = (year: number, month: number) => (month === 2 ? (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28) : month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31);

/** Why `text` is not an offset date-time, or undefined when it is one. One regex pass: this runs for every ingested event. */
function offsetDateTimeProblem(text: string): string | undefined {
  const m = OFFSET_DATETIME.exec(text);
  if (!m) return DATETIME_MESSAGE;
  const month = Number(m[2]);
  const day = Number(m[3]);
  const real = month >= 1 && month <= 12 && day >= 1 && day <= daysIn(Number(m[1]), month) && Number(m[4]) < 24 && Number(m[5]) < 60 && Number(m[6] ?? 0) < 60;
  return real ? undefined : 'is not a real calendar date and time';
}

/** ISO 8601 instant that says where it happened: an offset or `Z` is required. */
export const OffsetDateTime = z
  .string()
  .superRefine((text, ctx) => {
    const problem = offsetDateTimeProblem(text);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  })
  // the check above is code; JSON Schema readers get the same rule as a pattern
  .meta({ pattern: OFFSET_DATETIME.source, format: 'date-time' });

export const Label = z.string().min(1).max(200);
export const Url = z.string().min(1).max(2048);

/** ISO 4217 code; amounts always travel with their currency. */
export const Currency = z.string().regex(/^[A-Z]{3}$/, { message: 'must be an ISO 4217 code such as EUR or USD' });
export const Money = {
  amount: z.number().finite().nonnegative(),
  currency: Currency,
};

/**
 * `properties.x` is the one extension point: any JSON object under the `x`
 * namespace is stored and passed to analytics untouched. Everything else in
 * `properties` is checked against the event type's schema, so a typo is an
 * error instead of a silently ignored field.
 */
export const Extensions = z.record(z.string().min(1).max(100), z.json()).optional();
