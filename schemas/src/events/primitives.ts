/// <reference lib="es2024.string" />
import { z } from 'zod';
import { ISO_4217_CODES } from './currencies.js';

/**
 * Identifiers are opaque but constrained: they become stream names, ClickHouse
 * keys and idempotency keys, so no spaces, no control characters, and no `~`
 * (reserved for ids Sluice derives from a client's id, e.g. `<id>~link`).
 */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,127}$/;
export const Id = z.string().regex(ID_PATTERN, {
  message: 'must be 1-128 characters: letters, digits and . _ : @ / + = - (starting with a letter or digit)',
});

/**
 * Text every store downstream can hold: a lone surrogate (JSON `"\ud800"`) has
 * no UTF-8 form and NUL ends a C string, and either one stops the ClickHouse
 * sink; JSON.parse lets both through, so the edge refuses them.
 */
export const isStorableText = (text: string): boolean => text.isWellFormed() && !text.includes('\u0000');
export const TEXT_MESSAGE = 'must be well-formed Unicode text: no lone surrogate (such as \\ud800) and no NUL (\\u0000)';
/** A string schema that refuses what {@link isStorableText} refuses; `params` as z.string() takes them. */
export const text = (params?: Parameters<typeof z.string>[0]) => z.string(params).refine(isStorableText, { message: TEXT_MESSAGE });
export const Text = text();

/**
 * The instants analytics can store, in UTC: ClickHouse DateTime64(3) holds
 * 1900-01-01 to 2299-12-31. Outside them an instant would be clamped (and
 * cohorts, funnels and reports would read another date).
 */
const EARLIEST_MS = Date.UTC(1900, 0, 1);
const LATEST_MS = Date.UTC(2299, 11, 31, 23, 59, 59, 999);
const RANGE_MESSAGE = 'must lie between 1900-01-01T00:00:00Z and 2299-12-31T23:59:59.999Z (the instants analytics stores)';
/** Real time zones' offsets run from -12:00 to +14:00 (1900 onwards); anything beyond is a typo or a bug in the producer. */
const MAX_OFFSET_MINUTES = { '+': 14 * 60, '-': 12 * 60 } as const;
const OFFSET_MESSAGE = 'has an offset no time zone has: offsets run from -12:00 to +14:00';

const OFFSET_DATETIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:Z|([+-])(\d{2}):(\d{2}))$/;
/** The same rule as one pattern, for JSON Schema readers (the instant's own range is checked in code). */
const OFFSET_DATETIME_PATTERN = String.raw`^(19\d\d|2[0-2]\d\d)-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|\+(?:(?:0\d|1[0-3]):[0-5]\d|14:00)|-(?:(?:0\d|11):[0-5]\d|12:00))$`;
const DATETIME_MESSAGE = 'must be an ISO 8601 date-time with an offset or Z, e.g. 2026-03-01T10:00:00+08:00';

const daysIn = (year: number, month: number) => (month === 2 ? (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28) : month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31);

/** Why `text` is not an offset date-time Sluice takes, or undefined when it is one. One regex pass: this runs for every ingested event. */
function offsetDateTimeProblem(text: string): string | undefined {
  const m = OFFSET_DATETIME.exec(text);
  if (!m) return DATETIME_MESSAGE;
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6] ?? '0'].map(Number) as [number, number, number, number, number, number];
  if (!(month >= 1 && month <= 12 && day >= 1 && day <= daysIn(year, month) && hour < 24 && minute < 60 && second < 60)) return 'is not a real calendar date and time';
  const sign = m[8] as '+' | '-' | undefined;
  const offsetMinutes = sign === undefined ? 0 : Number(m[9]) * 60 + Number(m[10]);
  if (sign !== undefined && (Number(m[10]) >= 60 || offsetMinutes > MAX_OFFSET_MINUTES[sign])) return OFFSET_MESSAGE;
  // the year first: Date.UTC reads years below 100 as 19xx
  if (year < 1899 || year > 2300) return RANGE_MESSAGE;
  const ms = Date.UTC(year, month - 1, day, hour, minute, second, Number((m[7] ?? '0').slice(0, 3).padEnd(3, '0'))) - (sign === '-' ? -1 : 1) * offsetMinutes * 60_000;
  return ms >= EARLIEST_MS && ms <= LATEST_MS ? undefined : RANGE_MESSAGE;
}

/**
 * An ISO 8601 instant that says where it happened (an offset or `Z` is
 * required), with an offset a real zone has and inside the range analytics
 * stores. The one rule for every instant Sluice takes: event times, instant
 * properties, query date ranges and as-of instants.
 */
export const OffsetDateTime = z
  .string()
  .superRefine((text, ctx) => {
    const problem = offsetDateTimeProblem(text);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  })
  .meta({
    pattern: OFFSET_DATETIME_PATTERN,
    format: 'date-time',
    description: 'ISO 8601 with an offset or Z; offsets -12:00 to +14:00; from 1900-01-01T00:00:00Z to 2299-12-31T23:59:59.999Z',
  });

export const Label = Text.min(1).max(200);
export const Url = Text.min(1).max(2048);

export const CURRENCY_MESSAGE = 'must be an ISO 4217 code such as EUR or USD';
const CURRENCY_CODES: ReadonlySet<string> = new Set(ISO_4217_CODES);
/**
 * ISO 4217 code; amounts always travel with their currency. Typed as a
 * string, not the codes' union, so code that reads currencies from data
 * needs no casts; JSON Schema readers get the list.
 */
export const Currency = z
  .string()
  .refine((code) => CURRENCY_CODES.has(code), { message: CURRENCY_MESSAGE })
  .meta({ enum: [...ISO_4217_CODES] });
/**
 * The largest amount one event carries: above any real invoice in any
 * currency (10^15 dong is some 40 billion dollars), whole units stay exact in
 * a double, and no report's sum of such amounts can overflow.
 */
export const MAX_AMOUNT = 1e15;
export const Money = {
  amount: z.number().finite().nonnegative().max(MAX_AMOUNT, { message: 'must be at most 1e15 (10^15)' }),
  currency: Currency,
};
