/**
 * The registry's types for a client of the API (the dashboard): what each
 * declared query takes and answers, by its path. Types only, so a browser
 * bundle that imports them takes in nothing of the server (`import type`
 * leaves no code behind).
 */
import type { z } from 'zod';
import type { RuleDefaultedFields } from '../rule-defaults.js';
import type { FreshnessSchema } from './declaration.js';
import type { Queries, ReadModelQueries } from './index.js';

type Registry = Queries & ReadModelQueries;
export type QueryName = keyof Registry;
/** Every declared query's path. */
export type QueryPath = Registry[QueryName]['path'];
/** The query a path names. */
export type QueryAt<P extends QueryPath> = { [N in QueryName]: Registry[N]['path'] extends P ? N : never }[QueryName];
type Optional<T, K extends PropertyKey> = Omit<T, K> & Partial<Pick<T, Extract<keyof T, K>>>;
type BodyOf<D> = D extends { request: z.ZodType; kind: infer K extends keyof RuleDefaultedFields } ? Optional<z.input<D['request']>, RuleDefaultedFields[K]> : D extends { request: z.ZodType } ? z.input<D['request']> : never;
/** The body a query takes, as sent: what its schema defaults and (on a server) the live rules fill in may be left out. */
export type QueryBody<P extends QueryPath> = BodyOf<Registry[QueryAt<P>]>;
/** What the API answers: the query's result and where it stands on the log. */
export type QueryAnswer<P extends QueryPath> = Awaited<ReturnType<Registry[QueryAt<P>]['run']>> & { freshness: z.output<typeof FreshnessSchema> };
