import { createHash } from 'node:crypto';
import { DateTime, Info } from 'luxon';
import type { Zone } from 'luxon';
import type { ColumnValueSpec, EventSpec, IdSpec, ImportMap, TimeSpec, ValueSpec } from './map.js';
import { RememberedOffsetZone } from './zone-memo.js';

/**
 * Rows to events, as pure functions of the map and the row: the same file
 * always gives the same events (ids, times, properties), which is what makes
 * re-importing it a no-op.
 */

/** What is wrong with one row, named the way an analyst reads the export: the event, the field and the column that fed it. */
export interface RowIssue {
  /** the event type being made, or `entry N` when the type itself could not be read */
  eventType: string;
  /** the event's field (`occurredAt`, `properties.amount`), or `` for the row */
  field: string;
  /** the source column that fed the field, when one did */
  column?: string;
  message: string;
  /** the text of the column, when it is the culprit */
  value?: string;
}

export interface MappedRow {
  /** one per map entry that applied to the row, with the entry's index */
  events: Array<{ entry: number; event: Record<string, unknown> }>;
  issues: RowIssue[];
}

/** Columns whose values carried no time of day, read as local midnight in a zone (the import report says so). */
export type DateOnlyCounts = Map<string, { column: string; timeZone: string; count: number }>;

interface Compiled<S> {
  spec: S;
  /** index of the spec's column in the compiled map's columns; -1 for fixed values */
  at: number;
}

interface CompiledEntry {
  index: number;
  spec: EventSpec;
  typeTable?: Map<string, string> | undefined;
  when?: { at: number; values?: Set<string> };
  typeAt: number;
  idAt: number[];
  timeAt: number;
  timeZone: string;
  timeDateOnly: boolean;
  envelope: Array<[string, Compiled<ValueSpec>, Map<string, unknown> | undefined]>;
  properties: Array<[string[], Compiled<ValueSpec>, Map<string, unknown> | undefined, string]>;
  /** event field -> the column that fed it, to name the column in a validation issue */
  fieldColumns: Map<string, string>;
}

export interface CompiledMap {
  /** every column the map reads, in the order a row's fields are given to {@link mapRow} */
  columns: string[];
  /** the columns a file must have: those read by anything but an `optional` value */
  requiredColumns: string[];
  entries: CompiledEntry[];
  placeholders: Set<string>;
  timeZone: string;
}

const key = (text: string) => text.trim().toLowerCase();
const tableOf = <V>(table: Record<string, V> | undefined) => (table === undefined ? undefined : new Map(Object.entries(table).map(([k, v]) => [key(k), v])));

/** A luxon pattern without hour, minute or second tokens (quoted literals aside) reads a date only. */
export function isDateOnlyFormat(format: string): boolean {
  if (format === 'epoch_s' || format === 'epoch_ms') return false;
  if (format === 'iso') return false;
  return !/[HhmsSaXxTtkK]/.test(format.replace(/'[^']*'/g, ''));
}

/**
 * Fixes the map for one run: the columns it reads (each once), lookups for its
 * value tables, and the zone for times without an offset (the map's, else the
 * business time zone given).
 */
export function compileMap(map: ImportMap, defaultTimeZone: string): CompiledMap {
  const columns: string[] = [];
  const required = new Set<string>();
  const columnAt = (column: string, optional = false) => {
    if (!optional) required.add(column);
    const found = columns.indexOf(column);
    if (found >= 0) return found;
    columns.push(column);
    return columns.length - 1;
  };
  const valueAt = (spec: ValueSpec) => ('column' in spec ? columnAt(spec.column, spec.optional) : -1);
  const timeZone = map.timeZone ?? defaultTimeZone;
  const entries = map.events.map((spec, index): CompiledEntry => {
    const fieldColumns = new Map<string, string>();
    const idColumns = 'column' in spec.id ? [spec.id.column] : spec.id.hash;
    fieldColumns.set('id', idColumns.join(', '));
    fieldColumns.set('occurredAt', spec.occurredAt.column);
    if (typeof spec.type !== 'string') fieldColumns.set('type', spec.type.column);
    const envelope: CompiledEntry['envelope'] = [];
    for (const field of ['leadId', 'anonymousId', 'accountId', 'source', 'channel', 'campaign'] as const) {
      const value = spec[field];
      if (value === undefined) continue;
      envelope.push([field, { spec: value, at: valueAt(value) }, 'values' in value ? tableOf(value.values) : undefined]);
      if ('column' in value) fieldColumns.set(field, value.column);
    }
    const properties: CompiledEntry['properties'] = Object.entries(spec.properties ?? {}).map(([name, value]) => {
      if ('column' in value) fieldColumns.set(`properties.${name}`, value.column);
      return [name.split('.'), { spec: value, at: valueAt(value) }, 'values' in value ? tableOf(value.values) : undefined, `properties.${name}`];
    });
    const timeZoneOf = (time: TimeSpec) => ('timeZone' in time && time.timeZone !== undefined ? time.timeZone : timeZone);
    return {
      index,
      spec,
      ...(typeof spec.type === 'string' ? {} : { typeTable: tableOf(spec.type.values) }),
      ...(spec.when === undefined ? {} : { when: { at: columnAt(spec.when.column), ...(spec.when.in === undefined ? {} : { values: new Set(spec.when.in.map(key)) }) } }),
      typeAt: typeof spec.type === 'string' ? -1 : columnAt(spec.type.column),
      idAt: idColumns.map((column) => columnAt(column)),
      timeAt: columnAt(spec.occurredAt.column),
      timeZone: timeZoneOf(spec.occurredAt),
      timeDateOnly: isDateOnlyFormat(spec.occurredAt.format),
      envelope,
      properties,
      fieldColumns,
    };
  });
  return { columns, requiredColumns: columns.filter((column) => required.has(column)), entries, placeholders: new Set(['', ...map.placeholders.map(key)]), timeZone };
}

/** The column that fed an event field (`properties.bant.budget` is fed by the column of `properties.bant` if that is all there is). */
export function columnOfField(compiled: CompiledMap, entry: number, field: string): string | undefined {
  const columns = compiled.entries[entry]!.fieldColumns;
  for (let path = field; path.length > 0; path = path.slice(0, Math.max(0, path.lastIndexOf('.')))) {
    const column = columns.get(path);
    if (column !== undefined) return column;
  }
  return undefined;
}

type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

// luxon builds a pattern's parser (its regex) on every fromFormat: once per pattern instead, since a column has one
const formatParsers = new Map<string, ReturnType<typeof DateTime.buildFormatParser>>();
function formatParser(format: string) {
  let parser = formatParsers.get(format);
  if (parser === undefined) formatParsers.set(format, (parser = DateTime.buildFormatParser(format, { locale: 'en-US' })));
  return parser;
}

const zones = new Map<string, Zone>();
/** UTC and fixed offsets as luxon has them (it writes their instants with Z); a named zone with its offsets remembered. */
function zoneFor(name: string): Zone {
  let zone = zones.get(name);
  if (zone === undefined) {
    const named = Info.normalizeZone(name);
    zones.set(name, (zone = named.isUniversal ? named : new RememberedOffsetZone(name)));
  }
  return zone;
}

// an export repeats its times (a date column holds a few thousand days): each text is read once
const parsedTimes = new Map<string, Parsed<{ iso: string; dateOnly: boolean }>>();
const PARSED_TIMES_KEPT = 100_000;

/** A time column's text as an instant with its offset; `dateOnly` when it carried no time of day. */
export function parseTime(text: string, format: string, timeZoneName: string): Parsed<{ iso: string; dateOnly: boolean }> {
  const cacheKey = `${format}\u0000${timeZoneName}\u0000${text}`;
  const known = parsedTimes.get(cacheKey);
  if (known !== undefined) return known;
  if (parsedTimes.size >= PARSED_TIMES_KEPT) parsedTimes.clear();
  const parsed = readTime(text, format, timeZoneName);
  parsedTimes.set(cacheKey, parsed);
  return parsed;
}

function readTime(text: string, format: string, timeZoneName: string): Parsed<{ iso: string; dateOnly: boolean }> {
  const trimmed = text.trim();
  const timeZone = zoneFor(timeZoneName);
  let time: DateTime;
  let dateOnly = false;
  if (format === 'epoch_s' || format === 'epoch_ms') {
    const n = /^-?\d+(\.\d+)?$/.test(trimmed) ? Number(trimmed) : Number.NaN;
    if (!Number.isFinite(n)) return { ok: false, message: `is not a number of ${format === 'epoch_s' ? 'seconds' : 'milliseconds'} since 1970` };
    time = DateTime.fromMillis(format === 'epoch_s' ? n * 1000 : n, { zone: timeZone });
  } else if (format === 'iso') {
    time = DateTime.fromISO(trimmed, { zone: timeZone, setZone: true });
    dateOnly = !/[Tt ]\d/.test(trimmed);
    if (!time.isValid) return { ok: false, message: 'is not an ISO 8601 date or date-time' };
  } else {
    time = DateTime.fromFormatParser(trimmed, formatParser(format), { zone: timeZone, setZone: true });
    dateOnly = isDateOnlyFormat(format);
    if (!time.isValid) return { ok: false, message: `does not match the format ${format}` };
  }
  if (!time.isValid) return { ok: false, message: 'is not a valid time' };
  return { ok: true, value: { iso: time.toISO({ suppressMilliseconds: true })!, dateOnly } };
}

const BOOLEANS = new Map<string, boolean>([
  ['true', true], ['yes', true], ['y', true], ['1', true], ['t', true],
  ['false', false], ['no', false], ['n', false], ['0', false], ['f', false],
]);
const THOUSANDS = { '.': /^-?\d{1,3}(,\d{3})+(\.\d+)?$/, ',': /^-?\d{1,3}(\.\d{3})+(,\d+)?$/ } as const;
const PLAIN_NUMBER = { '.': /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/, ',': /^[-+]?(\d+,?\d*|,\d+)$/ } as const;

/** A column's text as the value its spec asks for. */
export function coerce(text: string, spec: ColumnValueSpec, defaultTimeZone: string): Parsed<unknown> & { dateOnly?: boolean } {
  const trimmed = text.trim();
  switch (spec.as) {
    case 'string':
      return { ok: true, value: (spec.prefix ?? '') + trimmed };
    case 'number':
    case 'integer': {
      const sep = spec.decimalSeparator;
      const grouped = THOUSANDS[sep].test(trimmed);
      if (!grouped && !PLAIN_NUMBER[sep].test(trimmed)) return { ok: false, message: `is not a number${sep === ',' ? ' (decimal comma)' : ''}` };
      const plain = grouped ? trimmed.replaceAll(sep === '.' ? ',' : '.', '') : trimmed;
      const n = Number(sep === ',' ? plain.replace(',', '.') : plain);
      if (!Number.isFinite(n)) return { ok: false, message: 'is not a finite number' };
      if (spec.as === 'integer' && !Number.isInteger(n)) return { ok: false, message: 'is not a whole number' };
      return { ok: true, value: n };
    }
    case 'boolean': {
      const value = BOOLEANS.get(trimmed.toLowerCase());
      return value === undefined ? { ok: false, message: 'is not a yes/no value (true/false, yes/no, y/n, 1/0)' } : { ok: true, value };
    }
    case 'date': {
      const time = parseTime(trimmed, spec.format, spec.timeZone ?? defaultTimeZone);
      return time.ok ? { ok: true, value: time.value.iso, dateOnly: time.value.dateOnly } : time;
    }
  }
}

/** A stable id: the hash of the chosen columns' text and the entry's index, so one row's several events differ. */
export function hashedId(spec: Extract<IdSpec, { hash: string[] }>, texts: readonly string[], entry: number): string {
  const digest = createHash('sha256').update(JSON.stringify([...texts, entry])).digest('hex').slice(0, 32);
  return (spec.prefix ?? '') + digest;
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const part of path.slice(0, -1)) {
    const next = node[part];
    node = typeof next === 'object' && next !== null ? (next as Record<string, unknown>) : (node[part] = {});
  }
  node[path[path.length - 1]!] = value;
}

/** One row being mapped: its fields, where its issues go, and the date-only tally of the run. */
interface RowContext {
  compiled: CompiledMap;
  fields: ReadonlyArray<string | undefined>;
  dateOnly: DateOnlyCounts;
  issues: RowIssue[];
}

// module-level functions rather than closures made per row: an import maps millions of rows
const textAt = (row: RowContext, at: number) => row.fields[at] ?? '';
const isEmptyAt = (row: RowContext, at: number) => row.compiled.placeholders.has(key(textAt(row, at)));

function noteDateOnly(row: RowContext, column: string, timeZone: string): void {
  const id = `${column}\u0000${timeZone}`;
  const counted = row.dateOnly.get(id);
  if (counted) counted.count++;
  else row.dateOnly.set(id, { column, timeZone, count: 1 });
}

function addIssue(row: RowContext, eventType: string, field: string, column: string | undefined, message: string, value?: string): void {
  row.issues.push({ eventType, field, ...(column === undefined ? {} : { column }), message, ...(value === undefined ? {} : { value }) });
}

const NOT_SET = Symbol('not set');

/** A value spec's value for the row, or NOT_SET when its column is empty or its text is wrong (an issue says which). */
function valueOf(row: RowContext, type: string, field: string, value: Compiled<ValueSpec>, table: Map<string, unknown> | undefined): unknown {
  if (!('column' in value.spec)) return value.spec.value;
  const spec = value.spec;
  if (isEmptyAt(row, value.at)) return NOT_SET;
  const raw = spec.firstOf === undefined ? textAt(row, value.at) : textAt(row, value.at).split(spec.firstOf)[0]!;
  if (table !== undefined) {
    const mapped = table.get(key(raw));
    if (mapped === undefined) {
      addIssue(row, type, field, spec.column, `is not in the map's value table (${Object.keys(spec.values ?? {}).slice(0, 10).join(', ')})`, raw);
      return NOT_SET;
    }
    return typeof mapped === 'string' ? (spec.prefix ?? '') + mapped : mapped;
  }
  const coerced = coerce(raw, spec, row.compiled.timeZone);
  if (!coerced.ok) {
    addIssue(row, type, field, spec.column, coerced.message, raw);
    return NOT_SET;
  }
  if (coerced.dateOnly) noteDateOnly(row, spec.column, spec.timeZone ?? row.compiled.timeZone);
  return coerced.value;
}

/** The event one entry makes of the row, undefined when the entry does not apply to it (or its type could not be read: an issue). */
function eventOf(row: RowContext, entry: CompiledEntry): Record<string, unknown> | undefined {
  const { spec } = entry;
  if (entry.when !== undefined) {
    if (isEmptyAt(row, entry.when.at)) return undefined;
    if (entry.when.values !== undefined && !entry.when.values.has(key(textAt(row, entry.when.at)))) return undefined;
  }
  let type: string;
  if (typeof spec.type === 'string') type = spec.type;
  else {
    const found = isEmptyAt(row, entry.typeAt) ? undefined : entry.typeTable!.get(key(textAt(row, entry.typeAt)));
    if (found === undefined) {
      if (spec.type.otherwise === 'reject') {
        addIssue(row, `entry ${entry.index + 1}`, 'type', spec.type.column, `is not in the map's value table (${Object.keys(spec.type.values).slice(0, 10).join(', ')})`, textAt(row, entry.typeAt));
      }
      return undefined;
    }
    type = found;
  }
  const event: Record<string, unknown> = {};
  if ('column' in spec.id) {
    const at = entry.idAt[0]!;
    if (isEmptyAt(row, at)) addIssue(row, type, 'id', spec.id.column, 'is empty: every event needs an id');
    else event.id = (spec.id.prefix ?? '') + textAt(row, at).trim();
  } else {
    event.id = hashedId(spec.id, entry.idAt.map((at) => textAt(row, at)), entry.index);
  }
  event.type = type;
  if (isEmptyAt(row, entry.timeAt)) addIssue(row, type, 'occurredAt', spec.occurredAt.column, 'is empty: every event needs a time');
  else {
    const time = parseTime(textAt(row, entry.timeAt), spec.occurredAt.format, entry.timeZone);
    if (!time.ok) addIssue(row, type, 'occurredAt', spec.occurredAt.column, time.message, textAt(row, entry.timeAt));
    else {
      event.occurredAt = time.value.iso;
      if (time.value.dateOnly) noteDateOnly(row, spec.occurredAt.column, entry.timeZone);
    }
  }
  for (const [field, value, table] of entry.envelope) {
    const result = valueOf(row, type, field, value, table);
    if (result !== NOT_SET) event[field] = typeof result === 'string' ? result : String(result);
  }
  let properties: Record<string, unknown> | undefined;
  for (const [path, value, table, field] of entry.properties) {
    const result = valueOf(row, type, field, value, table);
    if (result !== NOT_SET) setPath((properties ??= {}), path, result);
  }
  if (properties !== undefined) event.properties = properties;
  return event;
}

/**
 * The events one row gives. `fields` are the row's texts for the compiled
 * map's columns (undefined where the row has no such column). An entry whose
 * `when` the row does not meet, or whose type column is not in its table with
 * `otherwise: skip`, gives no event; every other problem is an issue, and a
 * row with an issue gives no events at all.
 */
export function mapRow(compiled: CompiledMap, fields: ReadonlyArray<string | undefined>, dateOnly: DateOnlyCounts): MappedRow {
  const row: RowContext = { compiled, fields, dateOnly, issues: [] };
  const events: MappedRow['events'] = [];
  for (const entry of compiled.entries) {
    const event = eventOf(row, entry);
    if (event !== undefined) events.push({ entry: entry.index, event });
  }
  return row.issues.length === 0 ? { events, issues: row.issues } : { events: [], issues: row.issues };
}
