import type { EventOf } from '@sluice/schemas';
import { campaignName } from './catalog.js';
import type { DemoContext } from './context.js';
import { KNOBS } from './funnel.js';
import { runDeal } from './deal.js';
import { createLead, type Lead, type Referral } from './profile.js';
import { Weighted } from './prng.js';
import { REPS } from './sales-team.js';
import { DURATION } from './time.js';

type CallOutcome = EventOf<'call'>['properties']['outcome'];
type Bant = NonNullable<EventOf<'call'>['properties']['bant']>;

/** How many times a rep tries before giving up: persistence varies a lot between reps. */
const PERSISTENCE = new Weighted<number>([[1, 18], [2, 20], [3, 24], [4, 18], [5, 8], [6, 12]]);
const MISSED = new Weighted<CallOutcome>([['no_answer', 55], ['voicemail', 35], ['busy', 7], ['wrong_number', 3]]);

/**
 * Sales follow-up of an MQL: routing assigns an owner, the first call comes
 * minutes, hours or days later (speed to lead), a few attempts until someone
 * answers, a connect call with BANT answers, then accepted (SQL) or not.
 */
export function followUpMql(ctx: DemoContext, lead: Lead, mqlAt: number, route: 'inbound' | 'demoRequest'): Referral | undefined {
  const { rng, clock, buffer } = ctx;
  const rep = rng.pick(REPS[lead.bu]);
  const speed = rng.next();
  let assignedAt: number;
  let firstCallAt: number;
  if (speed < KNOBS.speedMinutes) {
    assignedAt = mqlAt + (20 + rng.int(100)) * 1000; // routing rule
    firstCallAt = clock.nextWorkingTime(assignedAt + (1 + rng.int(10)) * DURATION.MINUTE, rng.int(45));
  } else if (speed < KNOBS.speedMinutes + KNOBS.speedHours) {
    assignedAt = clock.nextWorkingTime(mqlAt + (5 + rng.int(55)) * DURATION.MINUTE, rng.int(90));
    firstCallAt = clock.nextWorkingTime(assignedAt + (1 + rng.exponential(2)) * DURATION.HOUR, rng.int(120));
  } else {
    assignedAt = clock.afterWorkingDays(mqlAt + (30 + rng.int(210)) * DURATION.MINUTE, rng.int(2), rng);
    firstCallAt = clock.afterWorkingDays(assignedAt, 1 + rng.int(4), rng);
  }
  buffer.add(assignedAt, 'owner_assigned', lead.who, { ownerId: rep });
  // the literature's point: leads called back within minutes convert far better
  const delay = firstCallAt - mqlAt;
  const speedFactor = delay <= 5 * DURATION.MINUTE ? 1.5 : delay <= DURATION.HOUR ? 1.25 : delay <= DURATION.DAY ? 1 : 0.75;
  const connectRate = route === 'demoRequest' ? KNOBS.connectRate.demoRequest : KNOBS.connectRate.inbound;
  const reached = callUntilConnected(ctx, lead, rep, firstCallAt, PERSISTENCE.pick(rng), connectRate);
  if (reached.connectedAt === undefined) {
    if (rng.chance(KNOBS.unreachedDisqualifyRate)) buffer.add(clock.afterWorkingDays(reached.lastAt, 3 + rng.int(6), rng), 'disqualified', lead.who, { reason: 'no_response' });
    return undefined;
  }
  const bant = askBant(ctx, lead);
  const yes = Number(bant.budget === true) + Number(bant.authority === true) + Number(bant.need === true) + Number(bant.timeline === true);
  const accepted = rng.chance(Math.min(0.95, KNOBS.acceptScale * speedFactor * (0.25 + yes / 4) * lead.boost));
  return connectCall(ctx, lead, rep, reached.connectedAt, bant, accepted);
}

/**
 * An outbound prospect: researched by an SDR (known from the start, no
 * anonymous history), a sequence of cold calls and e-mails, and if someone
 * answers and there is a need, a meeting and an accepted lead.
 */
export function simulateOutboundProspect(ctx: DemoContext): Referral | undefined {
  const { rng, clock, buffer } = ctx;
  const leadNo = ctx.newLead();
  const { lead, profile } = createLead(ctx, leadNo, 'outbound', 'outbound', 'sdr-prospecting', 1);
  const startAt = clock.nextWorkingTime(clock.randomVisitStart(rng), rng.int(120));
  const { year, month } = clock.localYearMonth(startAt);
  buffer.add(startAt, 'identify', lead.who, profile, { source: 'sdr-prospecting', channel: 'outbound', campaign: campaignName('outbound-sequence', year, month) });
  const rep = rng.pick(REPS[lead.bu]);
  buffer.add(startAt + 1000, 'owner_assigned', lead.who, { ownerId: rep });
  for (let step = 1; step <= 3; step++) {
    if (rng.chance(0.25)) buffer.add(clock.afterWorkingDays(startAt, step * 3, rng), 'email_open', lead.who, { emailId: `outbound-sequence-${step}` });
  }
  const reached = callUntilConnected(ctx, lead, rep, clock.afterWorkingDays(startAt, 1, rng), 2 + rng.int(5), KNOBS.connectRate.outbound);
  if (reached.connectedAt === undefined) {
    if (rng.chance(KNOBS.unreachedDisqualifyRate)) buffer.add(clock.afterWorkingDays(reached.lastAt, 5 + rng.int(10), rng), 'disqualified', lead.who, { reason: 'no_response' });
    return undefined;
  }
  return connectCall(ctx, lead, rep, reached.connectedAt, askBant(ctx, lead), rng.chance(0.15 + 0.45 * lead.fit));
}

/** Missed calls until one connects or the rep gives up; returns when the connect happened, if it did. */
function callUntilConnected(ctx: DemoContext, lead: Lead, rep: string, firstAt: number, attempts: number, connectRate: number): { connectedAt?: number; lastAt: number } {
  const { rng, clock, buffer } = ctx;
  let at = firstAt;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    if (rng.chance(connectRate)) return { connectedAt: at, lastAt: at };
    const outcome = MISSED.pick(rng);
    const durationSeconds = outcome === 'voicemail' ? 20 + rng.int(40) : outcome === 'no_answer' ? rng.int(30) : outcome === 'busy' ? 0 : 5 + rng.int(20);
    buffer.add(at, 'call', lead.who, { direction: 'outbound', outcome, durationSeconds, ownerId: rep });
    if (outcome === 'wrong_number') break;
    at = attempt === 1 ? clock.nextWorkingTime(at + (2 + rng.int(4)) * DURATION.HOUR, rng.int(60)) : clock.afterWorkingDays(at, 1 + rng.int(3), rng);
  }
  return { lastAt: at };
}

/** BANT answers from a connect call: budget and authority follow fit, need and timeline follow interest; some stay unanswered. */
function askBant(ctx: DemoContext, lead: Lead): Bant {
  const { rng } = ctx;
  const bant: Bant = {};
  if (rng.chance(0.85)) bant.budget = rng.chance(0.3 + 0.5 * lead.fit);
  if (rng.chance(0.85)) bant.authority = rng.chance(0.35 + 0.4 * lead.fit);
  if (rng.chance(0.85)) bant.need = rng.chance(0.35 + 0.55 * lead.interest);
  if (rng.chance(0.85)) bant.timeline = rng.chance(0.3 + 0.4 * lead.interest);
  return bant;
}

function connectCall(ctx: DemoContext, lead: Lead, rep: string, at: number, bant: Bant, accepted: boolean): Referral | undefined {
  const { rng, clock, buffer } = ctx;
  const durationSeconds = 300 + rng.int(1800);
  const outcome: CallOutcome = accepted && rng.chance(0.5) ? 'meeting_booked' : 'connected';
  buffer.add(at, 'call', lead.who, { direction: 'outbound', outcome, durationSeconds, bant, ownerId: rep });
  const decidedAt = clock.nextWorkingTime(at + durationSeconds * 1000 + (5 + rng.int(85)) * DURATION.MINUTE, rng.int(60));
  if (accepted) {
    buffer.add(decidedAt, 'sales_accepted', lead.who, { ownerId: rep });
    return runDeal(ctx, lead, rep, decidedAt);
  }
  if (rng.chance(KNOBS.rejectedDisqualifyRate)) {
    const reason = bant.budget === false ? 'no_budget' : lead.fit < 0.3 ? 'no_fit' : 'other';
    buffer.add(decidedAt, 'disqualified', lead.who, { reason });
  }
  return undefined;
}
