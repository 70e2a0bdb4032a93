import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jsonSchemaDocuments } from '../src/json-schema.js';

const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'json');
rmSync(out, { recursive: true, force: true });
const docs = jsonSchemaDocuments();
for (const [file, text] of Object.entries(docs)) {
  mkdirSync(dirname(join(out, file)), { recursive: true });
  writeFileSync(join(out, file), text);
}
console.log(`wrote ${Object.keys(docs).length} JSON Schema files to schemas/json (${readdirSync(join(out, 'events')).length} event types)`);
