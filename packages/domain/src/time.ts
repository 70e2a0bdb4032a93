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
    if (Number.isNaN(ms)) throw notAnInstant(text);
    return ms;
  }
  const [year, month, day, hour, minute] = [two(text, 0) * 100 + two(text, 2), two(text, 5), two(text, 8), two(text, 11), two(text, 14)];
  // the fields a calendar has: a month 13 or an hour 24 is no instant (and Date.parse, the reference, refuses them too)
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59) throw notAnInstant(text);
  let ms = daysFromCivil(year, month, day) * DAY_MS + hour * 3_600_000 + minute * MINUTE_MS;
  let i = 16;
  if (text[i] === ':') {
    const second = two(text, i + 1);
    if (second > 59) throw notAnInstant(text);
    ms += second * 1000;
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
    const offsetMinutes = two(text, i + 1) * 60 + two(text, i + 4);
    // the offsets real zones have, as the event schema takes them: -12:00 to +14:00
    if (two(text, i + 4) > 59 || offsetMinutes > (text[i] === '+' ? 14 * 60 : 12 * 60)) throw notAnInstant(text);
    ms += (text[i] === '+' ? -offsetMinutes : offsetMinutes) * MINUTE_MS;
  }
  return ms;
}

const notAnInstant = (text: string) => new Error(`not an ISO 8601 instant: ${JSON.stringify(text)}`);

const daysInMonth = (year: number, month: number) =>
  month === 2 ? (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28) : month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;

/** An as-of argument: epoch ms or an ISO string. */
export const asInstant = (t: number | string): number => (typeof t === 'number' ? t : instantOf(t));
