import type { FastifyInstance } from 'fastify';
import { ndjsonItems } from '@sluice/touchpoint-log';
import type { RawItem } from '@sluice/touchpoint-log';
import { ProblemError } from './problem.js';

/** An NDJSON body, parsed line by line so a bad line is reported with its number. */
export class NdjsonBody {
  constructor(readonly items: RawItem[]) {}
}

/**
 * JSON via plain JSON.parse (the ingest hot path; prototype-poisoning keys are
 * harmless here because every body is checked against strict zod schemas
 * before use) and NDJSON for batches and files.
 */
export function installBodyParsers(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
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
}
