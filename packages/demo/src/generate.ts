import type { SluiceEvent } from '@sluice/schemas';
import { DemoContext } from './context.js';
import { KNOBS } from './funnel.js';
import { simulateInboundLead, simulateReferredLead } from './lead.js';
import type { Referral } from './profile.js';
import { isFunnelLead } from './opportunity.js';
import { simulateOutboundProspect } from './sales.js';
import { BusinessClock, endInstantOf } from './time.js';
import { simulateVisitor } from './visitor.js';

export interface DemoOptions {
  /** Same seed, same events (byte for byte) and the same ids, so re-importing a demo is idempotent. */
  seed: number;
  /** Stop after the journey in which this many leads have identified (default 1,000 when targetEvents is not given); contacts sales adds to a deal's buying group do not count. */
  leads?: number | undefined;
  /** Stop at exactly this many events. Give leads or targetEvents, not both. */
  targetEvents?: number | undefined;
  /** First day of history, an ISO date such as 2025-01-01 (local midnight in timeZone). */
  start: string;
  /** Months of history from start; events after the window are not written (journeys still under way). */
  months: number;
  /**
   * The instant history ends, ISO 8601 with an offset (e.g. the moment the demo is written): nothing
   * after it is written, even when `months` reach further. Without it the window is `months` long.
   */
  end?: string | undefined;
  /** IANA time zone of the business: working hours, and the offset in every occurredAt. */
  timeZone: string;
}

export interface DemoEstimate {
  events: number;
  leads: number;
  /** The numbers are exact (small demos are counted by generating them), not extrapolated from a sample. */
  exact: boolean;
}

export const DEFAULT_DEMO_LEADS = 1_000;

/**
 * The synthetic data set behind `sluice demo`: one journey at a time
 * (anonymous visitors, most of whom never convert; leads that identify,
 * nurture, qualify; deals; customers who renew, buy more and refer), each
 * journey's events in time order, journeys overlapping in time. Memory stays
 * constant whatever the size. Options are checked before the first event.
 */
export function generateDemoEvents(options: DemoOptions): Generator<SluiceEvent, void, undefined> {
  const limits = limitsOf(options);
  const clock = new BusinessClock(options.timeZone, options.start, options.months, endInstantOf(options.end));
  return writeJourneys(new DemoContext(options.seed, clock), limits);
}

/** Roughly how many events and leads `generateDemoEvents` will produce (for a progress bar); counts a sample, so it is cheap. */
export function describeDemo(options: DemoOptions): DemoEstimate {
  const limits = limitsOf(options);
  const SAMPLE_EVENTS = 100_000;
  const SAMPLE_LEADS = 400;
  const sample = (events: number, leads: number) => {
    const counted = { events: 0, leads: 0 };
    for (const event of generateDemoEvents({ ...options, targetEvents: events === Infinity ? undefined : events, leads: leads === Infinity ? undefined : leads })) {
      counted.events += 1;
      if (isFunnelLead(event)) counted.leads += 1;
    }
    return counted;
  };
  if (limits.events !== Infinity) {
    const counted = sample(Math.min(limits.events, SAMPLE_EVENTS), Infinity);
    if (limits.events <= SAMPLE_EVENTS) return { ...counted, exact: true };
    return { events: limits.events, leads: Math.round((counted.leads * limits.events) / counted.events), exact: false };
  }
  const counted = sample(Infinity, Math.min(limits.leads, SAMPLE_LEADS));
  if (limits.leads <= SAMPLE_LEADS) return { ...counted, exact: true };
  return { events: Math.round((counted.events * limits.leads) / counted.leads), leads: limits.leads, exact: false };
}

function limitsOf(options: DemoOptions): { events: number; leads: number } {
  if (!Number.isSafeInteger(options.seed)) throw new RangeError(`seed must be an integer, got ${options.seed}`);
  const { leads, targetEvents } = options;
  if (leads !== undefined && targetEvents !== undefined) throw new RangeError('give leads or targetEvents, not both');
  for (const [name, value] of [['leads', leads], ['targetEvents', targetEvents]] as const) {
    if (value !== undefined && !(Number.isSafeInteger(value) && value > 0)) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  }
  if (targetEvents !== undefined) return { events: targetEvents, leads: Infinity };
  return { events: Infinity, leads: leads ?? DEFAULT_DEMO_LEADS };
}

function* writeJourneys(ctx: DemoContext, limits: { events: number; leads: number }): Generator<SluiceEvent, void, undefined> {
  const { clock, buffer, prefix } = ctx;
  let events = 0;
  let leads = 0;
  while (events < limits.events && leads < limits.leads) {
    let referral = simulateJourney(ctx);
    for (;;) {
      for (const { at, event } of buffer.drain()) {
        // the window clips journeys: they started in it, some are still under way at its end
        if (at < clock.startMs || at >= clock.endMs) continue;
        if (events >= limits.events) return;
        events += 1;
        event.id = `${prefix}-${events}`;
        event.occurredAt = clock.format(at);
        if (isFunnelLead(event)) leads += 1;
        yield event;
      }
      if (referral === undefined || referral.at >= clock.endMs) break;
      referral = simulateReferredLead(ctx, referral);
    }
  }
}

function simulateJourney(ctx: DemoContext): Referral | undefined {
  if (ctx.rng.chance(KNOBS.outboundShare)) return simulateOutboundProspect(ctx);
  const conversion = simulateVisitor(ctx);
  return conversion === undefined ? undefined : simulateInboundLead(ctx, conversion);
}
