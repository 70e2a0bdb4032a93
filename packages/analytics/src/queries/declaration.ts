import { z } from 'zod';
import type { AnalyticsClient } from '../client.js';
import type { FieldIssue } from '../funnel-definition.js';
import type { StageQueryKind } from '../rule-defaults.js';

/**
 * The ClickHouse tables a query reads, by the follower that writes them: an
 * answer waits for those followers and says how far they had come.
 */
export type QueryReads = 'touchpoints' | 'stageTables';

/**
 * One query, declared once: the API route, the CLI command and the
 * dashboard's client are all made from this, so its path, its body, its
 * answer, its words and how it reads as text cannot drift apart between them.
 * Q is the body as validated, O the query-string options as validated (none
 * for most), R the answer less `freshness` (the route adds it).
 */
export interface QueryDeclaration<Q, R extends object, O = undefined> {
  /** the CLI command: `sluice query <name>` (a report: `sluice report <name>`) */
  readonly name: string;
  readonly path: `/v1/${string}`;
  /** which live-rule defaults fill what the body leaves out; none for a query that names everything itself */
  readonly kind?: StageQueryKind;
  /** the problem type of a 400 in the body ("invalid-conversion-query") */
  readonly slug: string;
  /** for messages: "conversion query" */
  readonly what: string;
  readonly summary: string;
  readonly description: string;
  readonly request: z.ZodType<Q>;
  /** options in the query string, as text (numbers coerced); a bad one is a 400 naming querystring.<option> */
  readonly options?: z.ZodType<O>;
  /** the answer as the API sends it, less `freshness` (the route adds it) */
  readonly response: z.ZodObject;
  readonly reads: readonly QueryReads[];
  // method syntax: a registry of different queries is a list of one type
  /** the bound of the whole request: its queries answer within it together */
  timeoutSeconds(query: Q, options: O): number;
  /** what only the body and the options together show is wrong, by field (the options' as querystring.<option>) */
  crossCheck?(query: Q, options: O): FieldIssue[];
  run(client: AnalyticsClient, query: Q, options: O): Promise<R>;
  /** the answer as text, for people (the CLI prints it; --json prints the answer) */
  format(result: R): string;
}

/** A query whose body is all of it (no query-string options). */
export type StageQueryDeclaration<Q, R extends object> = QueryDeclaration<Q, R, undefined>;

/** Any declared query, as a loop over the registry sees it. */
export type AnyQuery = QueryDeclaration<unknown, object, unknown>;
/** What a declared query takes, validated, and what it answers (less `freshness`). */
export type QueryOf<D> = D extends QueryDeclaration<infer Q, object, infer _O> ? Q : never;
export type ResultOf<D> = D extends QueryDeclaration<infer _Q, infer R, infer _O> ? R : never;

/** The timeout of a query whose body carries it. */
export const bodyTimeout = (query: { timeoutSeconds: number }) => query.timeoutSeconds;

/** Where a derived answer stands on the log (the API's `freshness`). */
export const FreshnessSchema = z.object({
  position: z.number().int().describe('every event up to this log position is in the answer'),
  head: z.number().int().describe("the log's head when the request arrived"),
  caughtUp: z.boolean(),
});

/** The query as validated, echoed in the answer. */
export const EchoedQuery = z.looseObject({}).describe('the query as validated, defaults filled in');
