import { createHash } from 'node:crypto';
import { DateTime } from 'luxon';
import type { ColumnValueSpec, EventSpec, IdSpec, ImportMap, TimeSpec, ValueSpec } from './map.js';

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
  properties: Array<[string[], Compiled<ValueSpec>, Map<string, unknown> | undefined]>;
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
      return [name.split('.'), { spec: value, at: valueAt(value) }, 'values' in value ? tableOf(value.values) : undefined];
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

/** A time column's text as an instant with its offset; `dateOnly` when it carried no time of day. */
export function parseTime(text: string, format: string, timeZone: string): Parsed<{ iso: string; dateOnly: boolean }> {
  const trimmed = text.trim();
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
    time = DateTime.fromFormat(trimmed, format, { zone: timeZone, setZone: true });
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
export function coerce(text: string, spec: ColumnValueSpec, defaultTimeZone: string, onDateOnly: () => void): Parsed<unknown> {
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
      if (!time.ok) return time;
      if (time.value.dateOnly) onDateOnly();
      return { ok: true, value: time.value.iso };
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

/**
 * The events one row gives. `fields` are the row's texts for the compiled
 * map's columns (undefined where the row has no such column). An entry whose
 * `when` the row does not meet, or whose type column is not in its table with
 * `otherwise: skip`, gives no event; every other problem is an issue, and a
 * row with an issue gives no events at all.
 */
export function mapRow(compiled: CompiledMap, fields: ReadonlyArray<string | undefined>, dateOnly: DateOnlyCounts): MappedRow {
  const events: MappedRow['events'] = [];
  const issues: RowIssue[] = [];
  const text = (at: number) => fields[at] ?? '';
  const isEmpty = (at: number) => compiled.placeholders.has(key(text(at)));
  const noteDateOnly = (column: string, timeZone: string) => {
    const id = `${column}\u0000${timeZone}`;
    const counted = dateOnly.get(id);
    if (counted) counted.count++;
    else dateOnly.set(id, { column, timeZone, count: 1 });
  };

  for (const entry of compiled.entries) {
    const { spec } = entry;
    if (entry.when !== undefined) {
      if (isEmpty(entry.when.at)) continue;
      if (entry.when.values !== undefined && !entry.when.values.has(key(text(entry.when.at)))) continue;
    }
    let type: string;
    if (typeof spec.type === 'string') type = spec.type;
    else {
      const found = isEmpty(entry.typeAt) ? undefined : entry.typeTable!.get(key(text(entry.typeAt)));
      if (found === undefined) {
        if (spec.type.otherwise === 'skip') continue;
        issues.push({ eventType: `entry ${entry.index + 1}`, field: 'type', column: spec.type.column, message: `is not in the map's value table (${Object.keys(spec.type.values).slice(0, 10).join(', ')})`, value: text(entry.typeAt) });
        continue;
      }
      type = found;
    }
    const issue = (field: string, column: string | undefined, message: string, value?: string) =>
      issues.push({ eventType: type, field, ...(column === undefined ? {} : { column }), message, ...(value === undefined ? {} : { value }) });

    const event: Record<string, unknown> = {};
    if ('column' in spec.id) {
      const at = entry.idAt[0]!;
      if (isEmpty(at)) issue('id', spec.id.column, 'is empty: every event needs an id');
      else event.id = (spec.id.prefix ?? '') + text(at).trim();
    } else {
      event.id = hashedId(spec.id, entry.idAt.map(text), entry.index);
    }
    event.type = type;
    if (isEmpty(entry.timeAt)) issue('occurredAt', spec.occurredAt.column, 'is empty: every event needs a time');
    else {
      const time = parseTime(text(entry.timeAt), spec.occurredAt.format, entry.timeZone);
      if (!time.ok) issue('occurredAt', spec.occurredAt.column, time.message, text(entry.timeAt));
      else {
        event.occurredAt = time.value.iso;
        if (time.value.dateOnly) noteDateOnly(spec.occurredAt.column, entry.timeZone);
      }
    }
    const valueOf = (field: string, value: Compiled<ValueSpec>, table: Map<string, unknown> | undefined): { set: boolean; value?: unknown } => {
      if (!('column' in value.spec)) return { set: true, value: value.spec.value };
      const columnSpec = value.spec;
      if (isEmpty(value.at)) return { set: false };
      const raw = columnSpec.firstOf === undefined ? text(value.at) : text(value.at).split(columnSpec.firstOf)[0]!;
      if (table !== undefined) {
        const mapped = table.get(key(raw));
        if (mapped === undefined) {
          issue(field, columnSpec.column, `is not in the map's value table (${[...Object.keys(columnSpec.values ?? {})].slice(0, 10).join(', ')})`, raw);
          return { set: false };
        }
        return { set: true, value: typeof mapped === 'string' ? (columnSpec.prefix ?? '') + mapped : mapped };
      }
      const coerced = coerce(raw, columnSpec, compiled.timeZone, () => noteDateOnly(columnSpec.column, columnSpec.timeZone ?? compiled.timeZone));
      if (!coerced.ok) {
        issue(field, columnSpec.column, coerced.message, raw);
        return { set: false };
      }
      return { set: true, value: coerced.value };
    };
    for (const [field, value, table] of entry.envelope) {
      const result = valueOf(field, value, table);
      if (result.set) event[field] = typeof result.value === 'string' ? result.value : String(result.value);
    }
    const properties: Record<string, unknown> = {};
    for (const [path, value, table] of entry.properties) {
      const result = valueOf(`properties.${path.join('.')}`, value, table);
      if (result.set) setPath(properties, path, result.value);
    }
    if (Object.keys(properties).length > 0) event.properties = properties;
    events.push({ entry: entry.index, event });
  }
  return issues.length === 0 ? { events, issues } : { events: [], issues };
}
