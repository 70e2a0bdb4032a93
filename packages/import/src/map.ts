import { readFileSync, readdirSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IANAZone } from 'luxon';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/**
 * An import map: how the rows of someone else's export (a CRM's CSV, a
 * marketing tool's NDJSON) become Sluice events, without code. Each entry of
 * `events` makes at most one event from a row, so a deal row can give a
 * `sales_accepted` and a `payment`, each with its own time column.
 */

const Column = z.string().min(1).max(200);

const Zone = z.string().refine((zone) => IANAZone.isValidZone(zone), { message: 'must be an IANA time zone such as Europe/Berlin or UTC' });

/**
 * How a time column is written: `iso` (offset optional; without one it is read
 * in the zone), `epoch_s`, `epoch_ms`, or a luxon pattern such as `yyyy-MM-dd`
 * or `dd/MM/yyyy HH:mm`, read in the zone.
 */
export const TimeFormat = z.union([z.enum(['iso', 'epoch_s', 'epoch_ms']), z.string().min(1).max(100)]);

const Scalar = z.union([z.string(), z.number(), z.boolean()]);

/** A value from a column, coerced, optionally through a value table; or a fixed value. A bare string is a column name. */
const FromColumn = z.strictObject({
  column: Column,
  as: z.enum(['string', 'number', 'integer', 'boolean', 'date']).default('string'),
  /** a value table: the column's text (trimmed, any case) -> the value to write; text not in it is an error */
  values: z.record(z.string(), Scalar).optional(),
  /** the export may lack the column (exports let people pick theirs): a missing column reads as empty */
  optional: z.boolean().default(false),
  /** the column holds a list separated by this text (HubSpot's `Associated Contact IDs`): its first item is the value */
  firstOf: z.string().min(1).max(10).optional(),
  /** text put before the value, e.g. `hubspot-contact-` before a record id */
  prefix: z.string().max(100).optional(),
  /** numbers written with a decimal comma (1.234,50) */
  decimalSeparator: z.enum(['.', ',']).default('.'),
  /** for `as: date` */
  format: TimeFormat.default('iso'),
  timeZone: Zone.optional(),
});
const Fixed = z.strictObject({ value: Scalar });
export const ValueSpec = z.union([Column.transform((column) => FromColumn.parse({ column })), Fixed, FromColumn]);
export type ValueSpec = z.output<typeof ValueSpec>;
export type ColumnValueSpec = z.output<typeof FromColumn>;

const TimeSpec = z.union([
  Column.transform((column) => ({ column, format: 'iso' as string })),
  z.strictObject({ column: Column, format: TimeFormat.default('iso'), timeZone: Zone.optional() }),
]);
export type TimeSpec = z.output<typeof TimeSpec>;

const Unmatched = z.enum(['skip', 'reject']);
const TypeSpec = z.union([
  z.string().min(1).max(100),
  z.strictObject({
    column: Column,
    /** the column's text (trimmed, any case) -> the event type */
    values: z.record(z.string(), z.string().min(1).max(100)).refine((table) => Object.keys(table).length > 0, { message: 'must name at least one value' }),
    /** what a row whose text is not in the table (or empty) gets: no event from this entry, or the row rejected */
    otherwise: Unmatched.default('reject'),
  }),
]);

const IdSpec = z.union(
  [
    z.strictObject({ column: Column, prefix: z.string().max(100).optional() }),
    /** a stable hash of these columns' text and the entry's index: the same row always gets the same id, so re-importing a file is a no-op */
    z.strictObject({ hash: z.array(Column).min(1).max(20), prefix: z.string().max(100).optional() }),
  ],
  { error: 'must be {"column": NAME} or {"hash": [NAMES]} (either with an optional "prefix")' },
);
export type IdSpec = z.output<typeof IdSpec>;

/** A property key: `amount`, or a custom one under x such as `x.leadOrigin`. */
const PROPERTY_KEY = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_-]+)*$/;
// checked here rather than as the record's key schema, whose own message zod replaces with "Invalid key in record"
const Properties = z.record(z.string(), ValueSpec).superRefine((properties, ctx) => {
  for (const name of Object.keys(properties)) {
    if (!PROPERTY_KEY.test(name)) ctx.addIssue({ code: 'custom', path: [name], message: 'must be a property name such as amount or x.leadOrigin' });
  }
});

const Condition = z.strictObject({
  column: Column,
  /** the row counts only when the column's text (trimmed, any case) is one of these; without `in`, when it is not empty */
  in: z.array(z.string()).min(1).optional(),
});

export const EventSpec = z.strictObject({
  type: TypeSpec,
  id: IdSpec,
  occurredAt: TimeSpec,
  /** make this event only for rows that meet it (a payment only for won deals); other rows just give no event from this entry */
  when: Condition.optional(),
  leadId: ValueSpec.optional(),
  anonymousId: ValueSpec.optional(),
  accountId: ValueSpec.optional(),
  source: ValueSpec.optional(),
  channel: ValueSpec.optional(),
  campaign: ValueSpec.optional(),
  properties: Properties.optional(),
});
export type EventSpec = z.output<typeof EventSpec>;

export const ImportMapSchema = z.strictObject({
  name: z.string().max(200).optional(),
  description: z.string().max(2000).optional(),
  /** the zone times without an offset are read in; default: the configured business time zone */
  timeZone: Zone.optional(),
  /** text that means "no value" in this export, compared trimmed and in any case; the empty text always does */
  placeholders: z.array(z.string().max(200)).max(100).default([]),
  csv: z
    .strictObject({
      delimiter: z.string().length(1).optional(),
      /**
       * lines holding a single field where the header has several: `reject` them (a delimiter out of place), or `skip`
       * them as no data (a report's title and footer lines, such as Salesforce's copyright and "Generated By")
       */
      singleFieldRows: z.enum(['reject', 'skip']).default('reject'),
    })
    .default({ singleFieldRows: 'reject' }),
  events: z.array(EventSpec).min(1).max(20),
});
export type ImportMap = z.output<typeof ImportMapSchema>;

export class ImportMapError extends Error {}

const READY_MAPS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'maps');

/** The maps shipped with Sluice, by name (`hubspot-contacts`, ...). */
export function readyMapNames(): string[] {
  return readdirSync(READY_MAPS_DIR)
    .filter((file) => file.endsWith('.json'))
    .map((file) => file.slice(0, -'.json'.length))
    .sort();
}

/** A map, or each of its issues by path (`events.0.id`). */
export function checkImportMap(input: unknown): { ok: true; map: ImportMap } | { ok: false; issues: Array<{ field: string; message: string }> } {
  const parsed = ImportMapSchema.safeParse(input);
  if (parsed.success) return { ok: true, map: parsed.data };
  return { ok: false, issues: parsed.error.issues.map((issue) => ({ field: issue.path.map(String).join('.'), message: issue.message })) };
}

/** Every issue of a map, one per line, by path. */
export function parseImportMap(input: unknown, origin: string): ImportMap {
  const checked = checkImportMap(input);
  if (checked.ok) return checked.map;
  const lines = checked.issues.map((issue) => `  ${issue.field || '(map)'}: ${issue.message}`);
  throw new ImportMapError(`the import map ${origin} is invalid:\n${lines.join('\n')}`);
}

/** Parses map text: YAML (of which JSON is a subset) for .yaml/.yml, JSON otherwise. */
export function parseImportMapText(text: string, origin: string): ImportMap {
  let input: unknown;
  try {
    input = /\.ya?ml$/i.test(origin) ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw new ImportMapError(`cannot read the import map ${origin}: ${(err as Error).message}`);
  }
  return parseImportMap(input, origin);
}

/** A map file (JSON or YAML), or the name of a ready map. */
export function loadImportMap(fileOrName: string): ImportMap {
  const ready = readyMapNames().includes(fileOrName) ? join(READY_MAPS_DIR, `${fileOrName}.json`) : undefined;
  const file = ready ?? fileOrName;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    const hint = extname(fileOrName) === '' ? ` (ready maps: ${readyMapNames().join(', ')})` : '';
    throw new ImportMapError(`cannot read the import map ${fileOrName}: no such file${hint}`);
  }
  return parseImportMapText(text, ready === undefined ? fileOrName : `"${fileOrName}"`);
}
