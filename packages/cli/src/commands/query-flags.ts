import { DateTime } from 'luxon';
import { readFileSync } from 'node:fs';
import { parseWith, withAsOfDefault } from '@sluice/analytics';
import type { AnyQuery, AnyReadModelQuery } from '@sluice/analytics';
import type { EventStore } from '@sluice/event-store';
import { OffsetDateTime } from '@sluice/schemas';
import { SlaNotConfiguredError, sqliteReadModels } from '@sluice/projector';
import { CliError, printJson, usageError } from '../output.js';
import type { Settings } from '../settings.js';
import { postQuery, stageCommand, withCaughtUpProjections } from './analytics-engine.js';

/** Flag values shared by the `sluice query` commands. */

/** `30d`, `12h`, `45m`, `90s` */
export function windowOf(text: string) {
  const m = /^(\d+)([dhms])$/.exec(text);
  if (!m) throw usageError(`--window takes a number and a unit, e.g. 30d, 12h, 45m; got "${text}"`);
  const unit = { d: 'days', h: 'hours', m: 'minutes', s: 'seconds' }[m[2] as 'd' | 'h' | 'm' | 's'];
  return { value: Number(m[1]), unit };
}

export const DATE_FORMATS = 'YYYY-MM-DD, YYYY-MM, YYYY-Qn (e.g. 2026-Q1) or an instant with an offset (2026-03-01T10:00:00+01:00)';

/**
 * A date flag's value as an instant, in the business time zone: a day
 * (YYYY-MM-DD) is its local midnight; a month (YYYY-MM) or a quarter (YYYY-Qn)
 * is its first midnight at the `start` edge (--from) and the midnight after it
 * at the `end` edge (--to, --as-of: ranges end there), so `--from 2026-Q1 --to
 * 2026-Q1` is the quarter. An instant with an offset passes as it is; anything
 * else is an error naming the flag and the formats it takes.
 */
export function instantOf(text: string, timeZone: string, flag = 'date', edge: 'start' | 'end' = 'start'): string {
  const wrong = () => usageError(`--${flag} takes ${DATE_FORMATS}; got "${text}"`);
  const local = (start: DateTime, length: { months: number }) => {
    if (!start.isValid) throw wrong();
    return (edge === 'end' ? start.plus(length) : start).toISO({ suppressMilliseconds: true })!;
  };
  const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (day) return local(DateTime.fromObject({ year: Number(day[1]), month: Number(day[2]), day: Number(day[3]) }, { zone: timeZone }), { months: 0 });
  const month = /^(\d{4})-(\d{2})$/.exec(text);
  if (month) return local(DateTime.fromObject({ year: Number(month[1]), month: Number(month[2]), day: 1 }, { zone: timeZone }), { months: 1 });
  const quarter = /^(\d{4})-[Qq]([1-4])$/.exec(text);
  if (quarter) return local(DateTime.fromObject({ year: Number(quarter[1]), month: (Number(quarter[2]) - 1) * 3 + 1, day: 1 }, { zone: timeZone }), { months: 3 });
  if (OffsetDateTime.safeParse(text).success) return text;
  throw wrong();
}

/** A query body from a JSON file (--file). */
export function readQueryFile(file: string, what: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new CliError(`cannot read ${what} ${file}: ${(err as Error).message}`);
  }
}

/** Every issue of a rejected query, one per line, by field. */
export function invalidQueryError(what: string, issues: ReadonlyArray<{ field: string; message: string }>): CliError {
  return new CliError(`the ${what} is invalid:\n${issueLines(issues)}`);
}

const issueLines = (issues: ReadonlyArray<{ field: string; message: string }>) => issues.map((i) => `  ${i.field || '(query)'}: ${i.message}`).join('\n');

/** The flags every analytics query takes: its date range, an as-of instant, a JSON body instead, and a server to ask. */
export interface QueryRangeFlags {
  file?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
  'as-of'?: string | undefined;
  url?: string | undefined;
}

export const defined = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

export function commonBody(command: string, flags: QueryRangeFlags, timeZone: string): Record<string, unknown> {
  if (flags.from === undefined || flags.to === undefined) throw usageError(`sluice query ${command} needs --from DATE --to DATE (or --file query.json)`);
  return defined({
    dateRange: { from: instantOf(flags.from, timeZone, 'from'), to: instantOf(flags.to, timeZone, 'to', 'end') },
    asOf: flags['as-of'] === undefined ? undefined : instantOf(flags['as-of'], timeZone, 'as-of', 'end'),
  });
}

/** `--filter businessUnit=emea,apac` */
export function filterOf(text: string): { key: string; values: string[] } {
  const at = text.indexOf('=');
  if (at <= 0 || at === text.length - 1) throw usageError(`--filter takes key=value[,value...], e.g. businessUnit=emea; got "${text}"`);
  return { key: text.slice(0, at), values: text.slice(at + 1).split(',') };
}

/**
 * The command of a declared query: its path, its words, its validation, its
 * runner and how its answer reads are the declaration's (as the API's route
 * is); the command adds how its flags make a body and, for a query with
 * query-string options (the funnel leads' step and page), how they make those
 * options; the options it is not given keep their defaults (a funnel's
 * timeout). With --url the options go in the query string, as the API takes
 * them; on the embedded engine they are validated, and checked with the body,
 * as the route does.
 */
export function declaredCommand<F extends QueryRangeFlags>(
  query: AnyQuery,
  bodyOf: (flags: F, timeZone: string) => unknown,
  optionsOf: (flags: F) => Record<string, string> = () => ({}),
) {
  return (openStore: () => Promise<EventStore>, settings: Settings, flags: F, json: boolean): Promise<void> => {
    const given = optionsOf(flags);
    let options: unknown;
    if (query.options !== undefined) {
      const parsed = parseWith(query.options, given);
      if (!parsed.ok) throw new CliError(`the options of the ${query.what} are invalid:\n${issueLines(parsed.issues)}`);
      options = parsed.query;
    }
    const queryString = new URLSearchParams(given).toString();
    return stageCommand({
      kind: query.kind,
      path: queryString === '' ? query.path : `${query.path}?${queryString}`,
      what: query.what,
      stageTables: query.reads.includes('stageTables'),
      // as of now where the query asks for it (unless --as-of or the file says otherwise), as the API does
      bodyOf: (flags: F, timeZone: string) => withAsOfDefault(query, bodyOf(flags, timeZone), new Date()),
      parse: (input) => {
        const parsed = parseWith(query.request, input);
        if (!parsed.ok) return parsed;
        const issues = query.crossCheck?.(parsed.query, options) ?? [];
        return issues.length === 0 ? parsed : { ok: false, issues };
      },
      run: (client, valid) => query.run(client, valid, options),
      format: (result) => query.format(result),
    })(openStore, settings, flags, json);
  };
}

/**
 * The command of a declared query of the read models: asks the server at
 * --url, or the data directory's read models caught up with its log under
 * the live rules; prints a table or JSON. `nowMs` is the caller's clock.
 */
export function declaredReadModelCommand<F extends { url?: string | undefined }>(query: AnyReadModelQuery, bodyOf: (flags: F, timeZone: string) => unknown) {
  return async (openStore: () => Promise<EventStore>, settings: Settings, flags: F, json: boolean, nowMs: number): Promise<void> => {
    const body = bodyOf(flags, settings.timeZone);
    let result: object;
    if (flags.url !== undefined) result = await postQuery<object>(flags.url, query.path, body, settings);
    else {
      // checked before the log is opened: a typo should not wait for a catch-up
      const parsed = parseWith(query.request, body);
      if (!parsed.ok) throw invalidQueryError(query.what, parsed.issues);
      const valid = parsed.query;
      const store = await openStore();
      try {
        result = await withCaughtUpProjections(store, settings, (projections) => query.run({ readModels: sqliteReadModels(projections), rules: settings.config, nowMs }, valid, undefined));
      } catch (err) {
        // rules without an SLA: the user's to change, not a crash (the API answers it 409)
        if (err instanceof SlaNotConfiguredError) throw new CliError(err.message);
        throw err;
      } finally {
        await store.close();
      }
    }
    if (json) printJson(result);
    else process.stdout.write(query.format(result));
  };
}
