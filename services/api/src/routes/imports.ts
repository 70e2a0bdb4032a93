import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { EventStore } from '@sluice/event-store';
import { ImportFileError, ImportMapError, checkImportMap, importWithMap, loadImportMap, readyMapNames } from '@sluice/import';
import type { ImportMap, MapImportSummary } from '@sluice/import';
import { ProblemError } from '../problem.js';

export interface ImportRouteOptions {
  store: EventStore;
  /** the zone times without an offset are read in when the map names none: the business time zone */
  defaultTimeZone: string;
}

const ImportRequest = z.strictObject({
  map: z.union([z.string().min(1).max(200), z.record(z.string(), z.unknown())]).describe('an import map (see the README), or the name of a ready map: hubspot-contacts, hubspot-deals, salesforce-leads, salesforce-opportunities'),
  file: z.string().min(1).describe("the export's text: CSV with a header row, or NDJSON"),
  fileName: z.string().max(200).optional().describe('the name the report gives the file'),
  dryRun: z.boolean().default(false).describe('check every row, write nothing'),
  skipInvalid: z.boolean().default(false).describe('write the good rows and report the bad ones; otherwise one bad row means nothing is written'),
  delimiter: z.string().length(1).optional().describe("the CSV delimiter; otherwise the map's, otherwise detected"),
});

const ErrorGroup = z.object({
  eventType: z.string(),
  field: z.string(),
  column: z.string().optional().describe('the source column that fed the field'),
  message: z.string(),
  count: z.number().int(),
  lines: z.array(z.number().int()).describe('the first lines it was found on'),
  examples: z.array(z.string()),
});

const ImportResponse = z.object({
  file: z.string(),
  map: z.string(),
  format: z.enum(['csv', 'ndjson']),
  delimiter: z.string().optional(),
  timeZone: z.string(),
  rows: z.number().int(),
  events: z.number().int(),
  rowsWithoutEvents: z.number().int(),
  written: z.number().int(),
  duplicates: z.number().int(),
  rejectedRows: z.number().int(),
  outcome: z.enum(['written', 'checked', 'refused']),
  errors: z.array(ErrorGroup),
  dateOnly: z.array(z.object({ column: z.string(), timeZone: z.string(), count: z.number().int() })).describe('time columns that held dates only, read as local midnight in their zone'),
});

function mapOf(input: string | Record<string, unknown>): { map: ImportMap; name: string } {
  if (typeof input === 'string') {
    if (!readyMapNames().includes(input)) {
      throw new ProblemError(400, 'invalid-import', 'Invalid import', `"${input}" is not a ready map`, [{ field: 'map', message: `must be an import map or one of ${readyMapNames().join(', ')}` }]);
    }
    return { map: loadImportMap(input), name: input };
  }
  const checked = checkImportMap(input);
  if (!checked.ok) throw new ProblemError(400, 'invalid-import', 'Invalid import', 'the import map is invalid', checked.issues.map((i) => ({ field: i.field === '' ? 'map' : `map.${i.field}`, message: i.message })));
  return { map: checked.map, name: checked.map.name ?? 'the map in the request' };
}

/** Rows the import refused, as problem items: one per kind of error, at its first line, naming the event, field and column. */
function problemItems(summary: MapImportSummary) {
  return summary.errors.map((g) => ({
    line: g.lines[0]!,
    field: [g.eventType, g.field].filter((part) => part !== '').join(' '),
    message: `${g.message}${g.column === undefined ? '' : ` (column "${g.column}")`}: ${g.count} row(s), lines ${g.lines.join(', ')}${g.examples.length > 0 ? `, e.g. ${g.examples.map((e) => JSON.stringify(e)).join(', ')}` : ''}`,
  }));
}

/**
 * POST /v1/imports: an export's text and a map, for the dashboard: the same
 * import as `sluice import FILE --map MAP`. Atomic unless skipInvalid: a bad
 * row is a 400 naming every kind of error, and nothing is written.
 */
export const importRoutes: FastifyPluginAsync<ImportRouteOptions> = async (app, { store, defaultTimeZone }) => {
  app.withTypeProvider<ZodTypeProvider>().post('/v1/imports', {
    config: { scope: 'ingest' },
    schema: {
      summary: 'Import a CSV or NDJSON export through a map',
      description: 'Each row becomes the events the map says, validated and appended like POST /v1/events (ids already stored with the same content are duplicates, so a re-import is a no-op). Bodies are limited like every request.',
      tags: ['ingest'],
      body: ImportRequest,
      response: { 200: ImportResponse },
    },
    handler: async (request) => {
      const body = request.body;
      const { map, name } = mapOf(body.map);
      const text = body.file;
      let summary: MapImportSummary;
      try {
        summary = await importWithMap(
          store,
          {
            name: body.fileName ?? 'the file in the request',
            open: async function* () {
              yield Buffer.from(text, 'utf8');
            },
          },
          { map, mapName: name, defaultTimeZone, dryRun: body.dryRun, skipInvalid: body.skipInvalid, delimiter: body.delimiter, batchSize: 5_000 },
        );
      } catch (err) {
        if (err instanceof ImportMapError || err instanceof ImportFileError) throw new ProblemError(400, 'invalid-import', 'Invalid import', err.message, [{ field: 'file', message: err.message }]);
        throw err;
      }
      if (summary.rejectedRows > 0 && !body.skipInvalid) {
        const detail = `${summary.rejectedRows} of ${summary.rows} rows are bad; ${body.dryRun ? 'a dry run writes nothing' : 'nothing was written (skipInvalid writes the good rows)'}`;
        throw new ProblemError(400, 'import-rejected', 'Import rejected', detail, problemItems(summary), { rejectedRows: summary.rejectedRows, rows: summary.rows });
      }
      const { elapsedMs: _elapsed, ungroupedIssues: _ungrouped, dryRun: _dryRun, skipInvalid: _skip, gzip: _gzip, ...answer } = summary;
      return answer;
    },
  });
};
