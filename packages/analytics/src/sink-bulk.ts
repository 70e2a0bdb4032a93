import { createHash } from 'node:crypto';
import type { RecordedEventText } from '@sluice/event-store';
import { MAX_INSTANT_MS, MIN_INSTANT_MS } from '@sluice/domain';
import type { AnalyticsClient } from './client.js';

/**
 * The touchpoint sink's bulk path into embedded chDB: Node hands chDB the
 * events as the store keeps them (EventStore.readAllText: the data's JSON
 * text, not parsed) in one TabSeparated insert into a staging table, and
 * chDB builds the touchpoint and identity-link rows in SQL, so a catch-up
 * does not parse, build and serialise every row in Node (pnpm bench replay:
 * about a third of the CPU time of the Node path on the demo log).
 *
 * Why not chDB's sqlite table function on the log file: a second copy of
 * SQLite in the process (chDB's) drops the store's POSIX locks when it closes
 * the file (sqlite.org/howtocorrupt.html, "multiple copies of SQLite linked
 * into the same application"), and it did not see appends made after it first
 * read the file.
 *
 * Exactness: the SQL builds the same row as touchpointRow / identityLinkRow
 * (sink.ts) only for an event it can PROVE is in the plain form that the
 * event store writes, and calls every other event "not plain" (`plain = 0`);
 * the sink sends those through the Node path, which builds or refuses them
 * (and the engine parks a refused one). Plain means:
 * - `data` is a JSON object of valid UTF-8 with no backslash and no control
 *   character (so a string's JSON text is its value between the quotes: no
 *   escape to decode the same way in both places) and no repeated key;
 * - leadId, anonymousId, accountId, source, channel and campaign are strings,
 *   null or absent (`?? ''` in Node), and an identity_linked event names a
 *   non-empty anonymousId and leadId;
 * - occurredAt is `YYYY-MM-DDTHH:mm:ss[.sss](Z|±HH:mm)` with a real calendar
 *   day, and recordedAt the store's `YYYY-MM-DDTHH:mm:ss.sssZ` within
 *   DateTime64's years: both turned into epoch milliseconds by integer
 *   arithmetic, as Date.parse does for these forms (occurredAt clamped like
 *   instantMs);
 * - properties are null, absent, or an object whose values are strings,
 *   booleans, null, integers of at most 15 digits written the way
 *   JSON.stringify writes them, or objects of those (one level down); no key
 *   is empty, `__proto__`, all digits (JavaScript orders those first) or has a
 *   dot (flattening could then make two equal paths), and no object repeats a
 *   key. Then JSON.stringify(properties) is the object's minified text and
 *   flattenProperties is its leaves in order, `path.key -> text`.
 * A property test (sink-bulk.test.ts) holds the two paths to the same rows on a log of
 * plain and not plain events.
 */

const STRING_FIELDS = ['leadId', 'anonymousId', 'accountId', 'source', 'channel', 'campaign'] as const;

/** the raw JSON text of a top-level field of `data` ('' when absent) */
const raw = (key: string) => `arrayFirst(kv -> kv.1 = '${key}', doc).2`;
const stringOk = (r: string) => `(${r} IN ('', 'null') OR startsWith(${r}, '"'))`;
/** a plain string's value is its JSON text between the quotes (no backslash anywhere) */
const stringOf = (r: string) => `if(startsWith(${r}, '"'), substring(${r}, 2, length(${r}) - 2), '')`;
const distinctKeys = (kvs: string) => `length(arrayDistinct(${kvs}.1)) = length(${kvs})`;
const KEY_OK = `k -> k != '' AND k != '__proto__' AND NOT match(k, '^[0-9]+$') AND position(k, '.') = 0`;
const LEAF_OK = `v -> startsWith(v, '"') OR v IN ('true', 'false', 'null') OR match(v, '^(0|-?[1-9][0-9]{0,14})$')`;
const OCCURRED = `'^[0-9]{4}-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\\\.[0-9]{3})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$'`;
const RECORDED = `'^[0-9]{4}-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]\\\\.[0-9]{3}Z$'`;
/** the day is a real one: it reads back as written (no Feb 30 rolled over) */
const realDay = (s: string) => `toString(toDate32OrNull(substring(${s}, 1, 10))) = substring(${s}, 1, 10)`;
/** epoch milliseconds of a checked ISO instant, by the same arithmetic as Date.parse */
const epochMs = (s: string) => `(toInt64(toDate32OrZero(substring(${s}, 1, 10))) * 86400000
    + toInt64OrZero(substring(${s}, 12, 2)) * 3600000 + toInt64OrZero(substring(${s}, 15, 2)) * 60000 + toInt64OrZero(substring(${s}, 18, 2)) * 1000
    + if(substring(${s}, 20, 1) = '.', toInt64OrZero(substring(${s}, 21, 3)), 0)
    - if(endsWith(${s}, 'Z'), 0, if(substring(${s}, -6, 1) = '-', -1, 1) * (toInt64OrZero(substring(${s}, -5, 2)) * 3600000 + toInt64OrZero(substring(${s}, -2, 2)) * 60000)))`;

/** The staged events with their row values and `plain` (see the module comment). */
function staged(table: string, types: 'links' | 'touchpoints'): string {
  return `SELECT position, event_id, stream_id, type, occurred_ms, recorded_ms, props_text, leaves,
    ${STRING_FIELDS.map((k) => `${stringOf(`r_${k}`)} AS v_${k}`).join(', ')},
    NOT match(data, '[\\\\x00-\\\\x1f\\\\\\\\]') AND isValidUTF8(data) AND startsWith(data, '{') AND isValidJSON(data) AND ${distinctKeys('doc')}
    AND ${STRING_FIELDS.map((k) => stringOk(`r_${k}`)).join(' AND ')}
    AND startsWith(r_occurredAt, '"') AND match(occurred, ${OCCURRED}) AND ${realDay('occurred')}
    AND match(recorded_at, ${RECORDED}) AND ${realDay('recorded_at')} AND recorded_at >= '1900' AND recorded_at < '2300'
    AND (r_properties IN ('', 'null') OR (startsWith(r_properties, '{')
      AND ${distinctKeys('top')} AND arrayAll(${KEY_OK}, top.1)
      AND arrayAll(kv -> NOT startsWith(kv.2, '{') OR (length(arrayDistinct(JSONExtractKeys(kv.2))) = length(JSONExtractKeys(kv.2)) AND arrayAll(${KEY_OK}, JSONExtractKeys(kv.2))), top)
      AND arrayAll(${LEAF_OK}, leaves.2)))
    AND (type != 'identity_linked' OR (v_leadId != '' AND v_anonymousId != '')) AS plain
  FROM (
    SELECT position, event_id, stream_id, type, data, recorded_at,
      JSONExtractKeysAndValuesRaw(data) AS doc,
      ${[...STRING_FIELDS, 'occurredAt', 'properties'].map((k) => `${raw(k)} AS r_${k}`).join(', ')},
      ${stringOf('r_occurredAt')} AS occurred,
      greatest(${MIN_INSTANT_MS}, least(${MAX_INSTANT_MS}, ${epochMs('occurred')})) AS occurred_ms,
      ${epochMs('recorded_at')} AS recorded_ms,
      if(startsWith(r_properties, '{'), r_properties, '{}') AS props_text,
      JSONExtractKeysAndValuesRaw(props_text) AS top,
      arrayFlatten(arrayMap(kv -> if(startsWith(kv.2, '{'), arrayMap(kv2 -> (concat(kv.1, '.', kv2.1), kv2.2), JSONExtractKeysAndValuesRaw(kv.2)), [kv]), top)) AS leaves
    FROM ${table} WHERE type ${types === 'links' ? '=' : '!='} 'identity_linked'
  )`;
}

/** raised by the insert that meets an event that is not plain: the batch then goes the mixed way */
const NOT_PLAIN = 'SLUICE_NOT_PLAIN';
const keep = (mixed: boolean) => (mixed ? 'plain' : `throwIf(NOT plain, '${NOT_PLAIN}') = 0`);

const insertTouchpoints = (table: string, mixed: boolean) => `INSERT INTO touchpoints (position, event_id, stream_id, type, lead_id, anonymous_id, account_id, occurred_at, recorded_at, source, channel, campaign, properties, props)
  SELECT position, event_id, stream_id, type, v_leadId, v_anonymousId, v_accountId,
    fromUnixTimestamp64Milli(occurred_ms, 'UTC'), fromUnixTimestamp64Milli(recorded_ms, 'UTC'), v_source, v_channel, v_campaign, props_text,
    CAST(arrayMap(kv -> (kv.1, if(startsWith(kv.2, '"'), substring(kv.2, 2, length(kv.2) - 2), kv.2)), arrayFilter(kv -> kv.2 != 'null', leaves)), 'Map(String, String)')
  FROM (${staged(table, 'touchpoints')}) WHERE ${keep(mixed)}`;

const insertLinks = (table: string, mixed: boolean) => `INSERT INTO identity_links (anonymous_id, lead_id, position, event_id, occurred_at)
  SELECT v_anonymousId, v_leadId, position, event_id, fromUnixTimestamp64Milli(occurred_ms, 'UTC')
  FROM (${staged(table, 'links')}) WHERE ${keep(mixed)}`;

const notPlain = (table: string) => `SELECT position FROM (
    SELECT position, plain FROM (${staged(table, 'touchpoints')}) UNION ALL SELECT position, plain FROM (${staged(table, 'links')})
  ) WHERE NOT plain ORDER BY position`;

/** TabSeparated escapes: a backslash, tab, newline or carriage return inside a value */
const TSV_SPECIAL = /[\\\t\n\r]/g;
const TSV_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
const tsv = (value: string) => value.replace(TSV_SPECIAL, (c) => TSV_ESCAPES[c]!);

/**
 * The staging table of a sink (one per sink name, reused: a Memory table,
 * emptied before each batch). Its name is derived here, never taken from
 * input, so it may be written into SQL.
 */
export function stagingTable(sinkName: string): string {
  return `touchpoint_staging_${createHash('sha256').update(sinkName).digest('hex').slice(0, 16)}`;
}

/**
 * Inserts the events' rows with chDB (idempotent, as the Node path) and
 * returns the positions of the events that are not plain, in order, for the
 * Node path to build or refuse.
 */
export async function insertEventsInBulk(client: AnalyticsClient, table: string, events: readonly RecordedEventText[]): Promise<number[]> {
  if (events.length === 0) return [];
  await client.command(
    `CREATE TABLE IF NOT EXISTS ${table} (position UInt64, event_id String, stream_id String, type String, data String, recorded_at String) ENGINE = Memory`,
  );
  await client.command(`TRUNCATE TABLE ${table}`);
  let body = '';
  for (const e of events) body += `${e.position}\t${tsv(e.id)}\t${tsv(e.streamId)}\t${tsv(e.type)}\t${tsv(e.data)}\t${tsv(e.recordedAt)}\n`;
  // the rows inline after FORMAT, without query parameters: a bound parameter would go through the SQL parser as one huge literal
  await client.command(`INSERT INTO ${table} FORMAT TabSeparated\n${body}`);
  try {
    // the usual case, one pass: every event is plain
    await client.command(insertTouchpoints(table, false));
    await client.command(insertLinks(table, false));
    return [];
  } catch (err) {
    if (!(err instanceof Error && err.message.includes(NOT_PLAIN))) throw err;
  }
  await client.command(insertTouchpoints(table, true));
  await client.command(insertLinks(table, true));
  const rows = await client.rows<{ position: number | string }>(notPlain(table));
  return rows.map((r) => Number(r.position));
}
