import { z } from 'zod';
import type { ReadModels } from '@sluice/projector';
import type { RuleConfig } from '@sluice/schemas';
import type { AnalyticsClient } from '../client.js';
import type { FieldIssue } from '../funnel-definition.js';
import type { StageQueryKind } from '../rule-defaults.js';

/**
 * What a query reads, by the follower that writes it: the ClickHouse
 * touchpoints and stage tables, or the projector's read models. An answer
 * waits for those followers and says how far they had come.
 */
export type QueryReads = 'touchpoints' | 'stageTables' | 'readModels';

/** What a query of the read models runs on: the port, the rules it answers under, and now (the caller reads the clock; the query does not). */
export interface ReadModelSource {
  readModels: ReadModels;
  rules: RuleConfig;
  nowMs: number;
}

/**
 * One query, declared once: the API route, the CLI command and the
 * dashboard's client are all made from this, so its path, its body, its
 * answer, its words and how it reads as text cannot drift apart between them.
 * Q is the body as validated, O the query-string options as validated (none
 * for most), R the answer less `freshness` (the route adds it), S what it
 * runs on: ClickHouse, or the read models.
 */
export interface QueryDeclaration<Q, R extends object, O = undefined, S = AnalyticsClient> {
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
  /**
   * A body without `asOf` is asked as of the moment it arrives: the edge (the
   * API, the CLI) reads the clock, the query does not. For answers whose later
   * periods have not happened yet (they read as blank then, not as zero).
   */
  readonly asOfDefaultsToNow?: true;
  // method syntax: a registry of different queries is a list of one type
  /** the bound of the whole request: its queries answer within it together (none: only the server's wait for freshness bounds it) */
  timeoutSeconds?(query: Q, options: O): number;
  /** what only the body and the options together show is wrong, by field (the options' as querystring.<option>) */
  crossCheck?(query: Q, options: O): FieldIssue[];
  run(source: S, query: Q, options: O): Promise<R>;
  /** the answer as text, for people (the CLI prints it; --json prints the answer) */
  format(result: R): string;
}

/** A query whose body is all of it (no query-string options). */
export type StageQueryDeclaration<Q, R extends object> = QueryDeclaration<Q, R, undefined>;

/** A query of the read models (its body is all of it). */
export type ReadModelQueryDeclaration<Q, R extends object> = QueryDeclaration<Q, R, undefined, ReadModelSource>;

/** Any declared ClickHouse query, as a loop over the registry sees it. */
export type AnyQuery = QueryDeclaration<unknown, object, unknown>;
/** Any declared query of the read models. */
export type AnyReadModelQuery = QueryDeclaration<unknown, object, unknown, ReadModelSource>;
/** What a declared query takes, validated, and what it answers (less `freshness`). */
export type QueryOf<D> = D extends QueryDeclaration<infer Q, object, infer _O, infer _S> ? Q : never;
export type ResultOf<D> = D extends QueryDeclaration<infer _Q, infer R, infer _O, infer _S> ? R : never;

/** The body with `asOf` set to `now` where the query asks for it and the body has none (the edge's clock; see asOfDefaultsToNow). */
export function withAsOfDefault(query: { readonly asOfDefaultsToNow?: true }, body: unknown, now: Date): unknown {
  if (query.asOfDefaultsToNow !== true || typeof body !== 'object' || body === null || Array.isArray(body) || 'asOf' in body) return body;
  return { ...body, asOf: now.toISOString() };
}

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
