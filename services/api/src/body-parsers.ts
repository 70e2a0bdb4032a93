import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import { z } from 'zod';
import { ndjsonItems } from '@sluice/touchpoint-log';
import type { RawItem } from '@sluice/touchpoint-log';
import { ProblemError } from './problem.js';

/** An NDJSON body, parsed line by line so a bad line is reported with its number. */
export class NdjsonBody {
  constructor(readonly items: RawItem[]) {}
}

/** A route takes JSON unless its schema's `consumes` (also its OpenAPI request body) names other media types. */
const DEFAULT_MEDIA_TYPES: readonly string[] = ['application/json'];

const mediaTypeOf = (contentType: string) => contentType.split(';', 1)[0]!.trim().toLowerCase();

/** The JSON types a JSON Schema takes at its top level (`object`, `array`, ...); undefined when it takes any. */
function jsonTypesOf(json: z.core.JSONSchema._JSONSchema): string[] | undefined {
  if (typeof json === 'boolean') return undefined;
  if (json.type !== undefined) return [json.type].flat();
  const alternatives = (json.anyOf ?? json.oneOf)?.map(jsonTypesOf);
  return alternatives?.every((types) => types !== undefined) ? alternatives.flat() : undefined;
}

const jsonTypeOf = (value: unknown) => (value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value);

const a = (type: string) => (/^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`);
const described = (type: string) => (type === 'null' || type === 'nothing' ? type : a(type));

/**
 * Checks every route with a body runs before its handler reads anything:
 * - the media type is one the route documents (so `text/plain`, which a web
 *   page may send cross-origin without asking first, is a 415, never parsed);
 * - the body's top-level JSON type is one its schema takes (`null`, a string
 *   or a number is a 400 naming the body, not a handler's TypeError).
 */
function checkBodiesOf(route: RouteOptions): void {
  const body = route.schema?.body;
  if (body === undefined) return;
  const mediaTypes = route.schema?.consumes ?? DEFAULT_MEDIA_TYPES;
  const method = [route.method].flat().join(', ');
  const checkMediaType = async (request: FastifyRequest) => {
    const contentType = request.headers['content-type'];
    if (contentType === undefined || mediaTypes.includes(mediaTypeOf(contentType))) return;
    throw new ProblemError(415, 'unsupported-media-type', 'Unsupported media type', `${method} ${route.url} takes ${mediaTypes.join(' or ')}, not ${mediaTypeOf(contentType)}`);
  };
  const types = body instanceof z.ZodType ? jsonTypesOf(z.toJSONSchema(body, { io: 'input', unrepresentable: 'any' })) : undefined;
  const checkJsonType = async (request: FastifyRequest) => {
    if (types === undefined || request.body instanceof NdjsonBody) return;
    const type = request.body === undefined ? 'nothing' : jsonTypeOf(request.body);
    if (types.includes(type) || (type === 'number' && types.includes('integer'))) return;
    const expected = [...new Set(types)].map(a).join(' or ');
    throw new ProblemError(400, 'invalid-request', 'Invalid request', `the body must be ${expected}`, [{ field: 'body', message: `must be ${expected}, got ${described(type)}` }]);
  };
  route.preParsing = [...[route.preParsing ?? []].flat(), checkMediaType];
  route.preValidation = [...[route.preValidation ?? []].flat(), checkJsonType];
}

/**
 * JSON via plain JSON.parse (the ingest hot path; prototype-poisoning keys are
 * harmless here because every body is checked against strict zod schemas
 * before use) and NDJSON for the routes that document it. Fastify's default
 * text/plain parser goes: no route takes text.
 */
export function installBodyParsers(app: FastifyInstance): void {
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    if ((body as string).length === 0) return done(new ProblemError(400, 'empty-body', 'Empty body', 'the body is empty; send a JSON object or array'), undefined);
    try {
      done(null, JSON.parse(body as string));
    } catch (err) {
      done(new ProblemError(400, 'malformed-json', 'Malformed JSON', `the body is not valid JSON: ${(err as Error).message}`), undefined);
    }
  });
  app.addContentTypeParser('application/x-ndjson', { parseAs: 'string' }, (_request, body, done) => {
    done(null, new NdjsonBody(ndjsonItems(body as string)));
  });
  app.addHook('onRoute', checkBodiesOf);
}
