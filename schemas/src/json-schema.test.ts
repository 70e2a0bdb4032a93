import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { OffsetDateTime } from './events/primitives.js';
import { jsonSchemaDocuments } from './json-schema.js';

const jsonDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'json');

describe('generated JSON Schema files', () => {
  it('match the zod schemas (run `pnpm gen:schemas` after changing a schema)', () => {
    const expected = jsonSchemaDocuments();
    const onDisk = ['event.v1.json', ...readdirSync(join(jsonDir, 'events')).map((f) => `events/${f}`)].sort();
    expect(onDisk).toEqual(Object.keys(expected).sort());
    for (const [file, text] of Object.entries(expected)) {
      expect(readFileSync(join(jsonDir, file), 'utf8'), `schemas/json/${file} is stale`).toBe(text);
    }
  });
});

describe('the date-time pattern producers read', () => {
  const documented = new RegExp(JSON.parse(jsonSchemaDocuments()['events/visit.v1.json']!).properties.occurredAt.pattern as string);
  // the check is code; the pattern restates it for other languages, so the two must agree (away from the UTC edges of the range, which only code sees)
  it.each(['2026-03-01T10:00:00+14:00', '2026-03-01T10:00-12:00', '2026-03-01T10:00:00.5+05:45', '1900-01-01T00:00:00Z', '2299-12-31T23:59:59Z', '2026-03-01T10:00:00+14:01', '2026-03-01T10:00:00-12:01', '2026-03-01T10:00:00+24:00', '2026-03-01T10:00:00+05:60', '1899-06-01T00:00:00Z', '2300-06-01T00:00:00Z', '0001-01-01T00:00:00Z', '2026-03-01T10:00:00'])(
    'agrees with the check on %s',
    (text) => {
      expect(documented.test(text)).toBe(OffsetDateTime.safeParse(text).success);
    },
  );
});
