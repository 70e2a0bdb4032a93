/**
 * Instants are epoch milliseconds inside the domain: occurredAt is parsed once,
 * when an event enters a lead's state. Durations in rules are fixed lengths
 * (a "day" is 24 h), so decay and windows never depend on a calendar or zone.
 */
export const MINUTE_MS = 60_000;
export const DAY_MS = 86_400_000;

const digit = (s: string, i: number) => s.charCodeAt(i) - 48;
const two = (s: string, i: number) => digit(s, i) * 10 + digit(s, i + 1);

/** Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

const SHAPE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/;

/**
 * Epoch ms of an ISO 8601 instant with an offset: the form the event schema
 * accepts. Parsed by hand (Date.parse is a large share of a replay's time);
 * fractions beyond milliseconds are truncated, as Date.parse does.
 */
export function instantOf(text: string): number {
  if (!SHAPE.test(text)) {
    const ms = Date.parse(text);
    if (Number.isNaN(ms)) throw new Error(`not an ISO 8601 instant: ${JSON.stringify(text)}`);
    return ms;
  }
  const days = daysFromCivil(two(text, 0) * 100 + two(text, 2), two(text, 5), two(text, 8));
  let ms = days * DAY_MS + two(text, 11) * 3_600_000 + two(text, 14) * MINUTE_MS;
  let i = 16;
  if (text[i] === ':') {
    ms += two(text, i + 1) * 1000;
    i += 3;
    if (text[i] === '.') {
      let scale = 100;
      for (i += 1; i < text.length && text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57; i++) {
        ms += digit(text, i) * scale;
        scale /= 10;
      }
      ms = Math.floor(ms);
    }
  }
  if (text[i] !== 'Z') {
    const offset = (two(text, i + 1) * 60 + two(text, i + 4)) * MINUTE_MS;
    ms += text[i] === '+' ? -offset : offset;
  }
  return ms;
}

/** An as-of argument: epoch ms or an ISO string. */
export const asInstant = (t: number | string): number => (typeof t === 'number' ? t : instantOf(t));
