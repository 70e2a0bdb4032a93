import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
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
