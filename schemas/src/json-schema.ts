import { z } from 'zod';
import { EVENT_TYPES, SluiceEventSchema, eventSchemas } from './events/envelope.js';

/**
 * JSON Schema documents generated from the zod schemas, keyed by file name
 * under `schemas/json/`. The zod schemas are the source of truth; these files
 * are for producers in other languages. A test fails when they are stale.
 */
export function jsonSchemaDocuments(): Record<string, string> {
  const toFile = (title: string, schema: z.ZodType) =>
    JSON.stringify({ title, ...z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) }, null, 2) + '\n';
  const docs: Record<string, string> = { 'event.v1.json': toFile('Sluice event envelope v1', SluiceEventSchema) };
  for (const type of EVENT_TYPES) docs[`events/${type}.v1.json`] = toFile(`Sluice ${type} event v1`, eventSchemas[type]);
  return docs;
}
