import type { FastifyReply } from 'fastify';
import type { z } from 'zod';
import type { AnalyticsClient, FreshnessSchema } from '@sluice/analytics';
import type { Follower } from '@sluice/follower';
import type { RuleConfig } from '@sluice/schemas';
import { ProblemError } from '../problem.js';
import type { ProblemItem } from '../problem.js';

export interface Analytics {
  client: AnalyticsClient;
  /** the live touchpoint sink (the log into ClickHouse's touchpoints); its position is a log position */
  sink: Follower;
  /**
   * the follower writing stage_transitions and lead_profile from the projector's read models; its position is the projector
   * checkpoint it last copied, a log position too (the read models hold every event up to it), so stage answers wait for it
   */
  stageSink?: Follower;
  /** the live rules: stage queries default their config version, stage model and time zone to them */
  rules?: RuleConfig;
}

/** Where a derived answer stands on the log (the one schema the query registry's responses carry). */
export type Freshness = z.infer<typeof FreshnessSchema>;

/**
 * Waits (up to the server's bound, and at most half of `budgetSeconds`, the
 * request's timeout, so its queries keep the rest) for the followers an
 * answer reads to reach the log's head as of the call, then says where they
 * stand: the least of their positions.
 */
export type FreshnessCheck = (followers: ReadonlyArray<Follower | undefined>, budgetSeconds?: number) => Promise<Freshness>;

/** What the query routes take: the analytics engine and how to tell an answer's freshness. */
export type AnalyticsRoutes = Analytics & { fresh: FreshnessCheck };

export function freshnessCheck(logHead: () => Promise<number>, bound: number): FreshnessCheck {
  return async (followers, budgetSeconds) => {
    const head = await logHead();
    const reading = followers.filter((f): f is Follower => f !== undefined);
    const waitMs = Math.min(bound, budgetSeconds === undefined ? Infinity : budgetSeconds * 500);
    if (reading.some((f) => f.position < head) && waitMs > 0) {
      let timer: NodeJS.Timeout | undefined;
      // a follower that stopped rejects: the answer is given from what there is, marked (/readyz says which and why)
      await Promise.race([Promise.all(reading.map((f) => f.caughtUp(head))), new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)))]).catch(() => undefined);
      clearTimeout(timer);
    }
    const reached = reading.length === 0 ? head : Math.min(...reading.map((f) => f.position));
    return { position: reached, head, caughtUp: reached >= head };
  };
}

export const FRESHNESS_HEADER = 'sluice-freshness';

/** The answer with its freshness: in the body (`freshness`) and in the Sluice-Freshness header. */
export function marked<T extends object>(reply: FastifyReply, freshness: Freshness, answer: T): T & { freshness: Freshness } {
  void reply.header(FRESHNESS_HEADER, freshnessHeader(freshness));
  return { ...answer, freshness };
}

export function freshnessHeader({ position, head, caughtUp }: Freshness): string {
  return `position=${position}; head=${head}; caught-up=${caughtUp}`;
}

/** For route descriptions: what `freshness` says. */
export const FRESHNESS_NOTE =
  'The answer carries `freshness` {position, head, caughtUp} (and the header `Sluice-Freshness: position=P; head=H; caught-up=true|false`): ' +
  'the server waits up to server.freshnessWaitMs (2 s by default) for what the answer reads to reach the log\'s head as it was when the request ' +
  'arrived (head), then answers; position is the log position up to which every event is in the answer, the least of the followers it reads ' +
  '(the touchpoint sink\'s; the stage tables\' is the projector checkpoint they were last copied at, itself a log position; the read models\' is ' +
  "the projector's checkpoint). caughtUp false: the answer leaves out events between position and head; ask again for whole numbers.";

/** A 400 naming every bad field of a query body. */
export function invalidQuery(slug: string, what: string, issues: readonly ProblemItem[]): ProblemError {
  return new ProblemError(400, slug, `Invalid ${what}`, `${issues.length} problem${issues.length === 1 ? '' : 's'} in the ${what}`, [...issues]);
}
