import { z } from 'zod';
import type { AnalyticsClient } from '../client.js';
import type { StageQueryKind } from '../rule-defaults.js';

/**
 * One stage-level query, declared once: the API route, the CLI command and
 * the dashboard's client are all made from this, so its path, its body, its
 * answer and its words cannot drift apart between them.
 */
export interface StageQueryDeclaration<Q extends { timeoutSeconds: number }, R extends object> {
  /** the CLI command: `sluice query <name>` */
  readonly name: string;
  readonly path: `/v1/${string}`;
  /** which live-rule defaults fill what the body leaves out */
  readonly kind: StageQueryKind;
  /** the problem type of a 400 ("invalid-conversion-query") */
  readonly slug: string;
  /** for messages: "conversion query" */
  readonly what: string;
  readonly summary: string;
  readonly description: string;
  readonly request: z.ZodType<Q>;
  /** the answer as the API sends it, less `freshness` (the route adds it) */
  readonly response: z.ZodObject;
  // method syntax: a registry of different queries is a list of one type
  run(client: AnalyticsClient, query: Q): Promise<R>;
}

/** Any declared query, as a loop over the registry sees it. */
export type AnyStageQuery = StageQueryDeclaration<{ timeoutSeconds: number }, object>;
/** What a declared query takes, validated, and what it answers (less `freshness`). */
export type QueryOf<D> = D extends StageQueryDeclaration<infer Q, object> ? Q : never;
export type ResultOf<D> = D extends StageQueryDeclaration<{ timeoutSeconds: number }, infer R> ? R : never;

/** Where a derived answer stands on the log (the API's `freshness`). */
export const FreshnessSchema = z.object({
  position: z.number().int().describe('every event up to this log position is in the answer'),
  head: z.number().int().describe("the log's head when the request arrived"),
  caughtUp: z.boolean(),
});

/** The query as validated, echoed in the answer. */
export const EchoedQuery = z.looseObject({}).describe('the query as validated, defaults filled in');
