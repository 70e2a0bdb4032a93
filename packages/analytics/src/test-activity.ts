import fc from 'fast-check';
import type { LogLine } from './test-log.js';

/*
 * Test-only: generated touches of the activity-level property tests (close
 * rates, conversion drivers). A one-second clock over ten ticks makes ties
 * common; some touches are made before the visitor identified itself.
 */

export const ACTIVITY_TYPES = ['visit', 'page_view', 'email_open', 'payment'] as const;

export const touchArb = fc.record({
  tick: fc.integer({ min: 0, max: 9 }),
  type: fc.constantFrom(...ACTIVITY_TYPES),
  pageType: fc.constantFrom(undefined, 'pricing', 'blog'),
  anonymously: fc.constantFrom(false, false, true),
});
export type Touch = ReturnType<typeof touchArb.generate>['value'];

/**
 * The log lines of one actor's touches: an unlinked anonymous visitor's under
 * its anonymous id; a lead's made anonymously before it first identified
 * under the anonymous id, the rest under both (which links the history).
 */
export function touchLines(touches: readonly Touch[], who: { anonymous: boolean; lead: string; anon: string }, at: (tick: number) => number): LogLine[] {
  let linked = false;
  return touches.map((t) => {
    const ids = who.anonymous ? { anon: who.anon } : t.anonymously && !linked ? { anon: who.anon } : { lead: who.lead, anon: who.anon };
    if ('lead' in ids) linked = true;
    return { type: t.type, at: at(t.tick), ...ids, properties: t.pageType === undefined ? {} : { pageType: t.pageType } };
  });
}
