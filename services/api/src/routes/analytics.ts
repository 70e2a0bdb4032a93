import type { z } from 'zod';
import type { AnalyticsClient } from '@sluice/analytics';
import type { RuleConfig } from '@sluice/schemas';
import { ProblemError } from '../problem.js';
import type { ProblemItem } from '../problem.js';

/** Something that copies into ClickHouse and can say when it has caught up with its source. */
export interface Follower {
  caughtUp(): Promise<void>;
}

export interface Analytics {
  client: AnalyticsClient;
  /** the live touchpoint sink; queries wait (briefly) for it to reach the log's head */
  sink: Follower;
  /** the follower writing stage_transitions and lead_profile from the projector's read models; stage queries wait for it too */
  stageSink?: Follower;
  /** the live rules: stage queries default their config version, stage model and time zone to them */
  rules?: RuleConfig;
}

/** How long a query waits for the followers to catch up before answering from what ClickHouse has. */
const FRESHNESS_WAIT_MS = 2_000;

export async function freshEnough(...followers: ReadonlyArray<Follower | undefined>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const all = Promise.all(followers.map((f) => f?.caughtUp()));
  // a follower that stopped shows in its own log and in /metrics; the query answers from what is there
  await Promise.race([all, new Promise<void>((resolve) => (timer = setTimeout(resolve, FRESHNESS_WAIT_MS)))]).catch(() => undefined);
  clearTimeout(timer);
}

/** A 400 naming every bad field of a query body. */
export function invalidQuery(slug: string, what: string, issues: readonly ProblemItem[]): ProblemError {
  return new ProblemError(400, slug, `Invalid ${what}`, `${issues.length} problem${issues.length === 1 ? '' : 's'} in the ${what}`, [...issues]);
}

/** Parses query-string options, naming each bad one as querystring.<name>. */
export function checkedQueryString<T>(schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw new ProblemError(400, 'invalid-request', 'Invalid request', 'the query string is invalid', r.error.issues.map((i) => ({ field: ['querystring', ...i.path.map(String)].join('.'), message: i.message })));
}
