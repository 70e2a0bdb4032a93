import type { DemoContext } from './context.js';
import { KNOBS } from './funnel.js';
import type { Lead, Referral } from './profile.js';
import { Weighted } from './prng.js';
import { AccountOpportunities } from './opportunity.js';
import { DEAL_SIZE, LOST_REASONS } from './sales-team.js';
import { DURATION } from './time.js';

type LostReason = ReturnType<typeof LOST_REASONS.pick>;
/** Deals that die right after the demo, before any quote. */
const EARLY_LOSS = new Weighted<LostReason>([['no_decision', 40], ['timing', 25], ['product_fit', 20], ['no_budget', 15]]);

/**
 * An accepted lead's deal: demo (some no-shows), evaluation (stakeholder
 * meetings and a POC in enterprise, a trial in SMB), quote, maybe a revised
 * quote, then won (quote accepted, invoice, payment) or lost with a reason.
 * Returns a referral when the new customer later refers someone.
 */
export function runDeal(ctx: DemoContext, lead: Lead, rep: string, sqlAt: number): Referral | undefined {
  const { rng, clock, buffer } = ctx;
  const won = rng.chance(Math.min(0.95, KNOBS.winRate[lead.bu] * (0.6 + 0.8 * lead.fit) * lead.boost));
  // the account's side of the deal: its opportunities draw from a generator of their own, so the lines below draw what they always did
  const account = AccountOpportunities.open(ctx, lead, rep, sqlAt);
  let demoAt = clock.afterWorkingDays(sqlAt, 2 + rng.int(7), rng);
  let demoNo = 1;
  let demoId = ctx.idFor('demo', lead.leadNo, demoNo);
  buffer.add(sqlAt + (2 + rng.int(30)) * DURATION.MINUTE, 'demo_scheduled', lead.who, { demoId, scheduledFor: clock.format(demoAt) });
  while (rng.chance(KNOBS.demoNoShowRate)) {
    buffer.add(demoAt + 15 * DURATION.MINUTE, 'demo_no_show', lead.who, { demoId });
    if (!won && rng.chance(0.5)) {
      const lostAt = clock.afterWorkingDays(demoAt, 5 + rng.int(10), rng);
      buffer.add(lostAt, 'deal_lost', lead.who, { reason: 'no_decision' });
      account?.lost(lostAt, 'no_decision');
      return undefined;
    }
    const rescheduledAt = demoAt + (1 + rng.int(4)) * DURATION.HOUR;
    demoAt = clock.afterWorkingDays(demoAt, 2 + rng.int(5), rng);
    demoNo += 1;
    demoId = ctx.idFor('demo', lead.leadNo, demoNo);
    buffer.add(rescheduledAt, 'demo_scheduled', lead.who, { demoId, scheduledFor: clock.format(demoAt) });
  }
  const heldAt = demoAt + (45 + rng.int(30)) * DURATION.MINUTE;
  buffer.add(heldAt, 'demo_held', lead.who, { demoId });
  account?.demoHeld(heldAt);
  let at = evaluate(ctx, lead, rep, demoAt + 2 * DURATION.HOUR);
  if (!won && rng.chance(0.25)) {
    const lostAt = clock.afterWorkingDays(at, 3 + rng.int(15), rng);
    const reason = EARLY_LOSS.pick(rng);
    buffer.add(lostAt, 'deal_lost', lead.who, { reason });
    account?.lost(lostAt, reason);
    return undefined;
  }

  const size = DEAL_SIZE[lead.bu];
  let amount = roundTo100(Math.max(size.min, rng.logNormal(size.median, size.sigma)) * (0.85 + 0.3 * lead.fit));
  let quoteNo = 1;
  at = clock.afterWorkingDays(at, 2 + rng.int(9), rng);
  buffer.add(at, 'quote', lead.who, { quoteId: ctx.idFor('quote', lead.leadNo, quoteNo), amount, currency: lead.currency });
  account?.quoted(at, amount, false);
  if (rng.chance(0.25)) {
    // negotiation: a revised quote with a discount
    quoteNo += 1;
    amount = roundTo100(amount * (0.88 + 0.07 * rng.next()));
    at = clock.afterWorkingDays(at, 3 + rng.int(8), rng);
    buffer.add(at, 'quote', lead.who, { quoteId: ctx.idFor('quote', lead.leadNo, quoteNo), amount, currency: lead.currency });
    account?.quoted(at, amount, true);
  }
  if (!won) {
    const lostAt = clock.afterWorkingDays(at, 5 + rng.int(35), rng);
    const reason = LOST_REASONS.pick(rng);
    buffer.add(lostAt, 'deal_lost', lead.who, { reason });
    account?.lost(lostAt, reason);
    return undefined;
  }
  const quoteId = ctx.idFor('quote', lead.leadNo, quoteNo);
  const acceptedAt = clock.afterWorkingDays(at, 3 + rng.exponential(12), rng);
  buffer.add(acceptedAt, 'quote_accepted', lead.who, { quoteId, amount, currency: lead.currency });
  account?.won(acceptedAt, amount);
  const invoiceId = ctx.idFor('invoice', lead.leadNo);
  const invoicedAt = clock.afterWorkingDays(acceptedAt, rng.int(3), rng);
  buffer.add(invoicedAt, 'invoice', lead.who, { invoiceId, amount, currency: lead.currency, dueAt: clock.format(invoicedAt + 30 * DURATION.DAY) });
  const paidAt = clock.afterWorkingDays(invoicedAt, 3 + rng.int(35), rng);
  buffer.add(paidAt, 'payment', lead.who, { paymentId: ctx.idFor('payment', lead.leadNo), invoiceId, amount, currency: lead.currency });
  return afterSale(ctx, lead, acceptedAt, amount);
}

/** Evaluation after the demo; returns when it ended. */
function evaluate(ctx: DemoContext, lead: Lead, rep: string, from: number): number {
  const { rng, clock, buffer } = ctx;
  let at = from;
  if (lead.bu === 'smb') {
    if (rng.chance(0.5)) {
      buffer.add(at, 'trial_started', lead.who, { plan: 'team', endsAt: clock.format(at + 14 * DURATION.DAY) });
      at = clock.afterWorkingDays(at, 8 + rng.int(4), rng);
    }
    return at;
  }
  // enterprise deals meet the buying committee; partner deals meet with the partner
  const meetings = lead.bu === 'enterprise' ? 1 + rng.int(3) : 1;
  for (let n = 1; n <= meetings; n++) {
    at = clock.afterWorkingDays(at, 3 + rng.int(8), rng);
    buffer.add(at, 'meeting', lead.who, { meetingId: ctx.idFor('meeting', lead.leadNo, n), durationMinutes: rng.pick([30, 45, 60]), ownerId: rep });
  }
  if (lead.bu === 'enterprise' && rng.chance(0.4)) {
    at = clock.afterWorkingDays(at, 2 + rng.int(5), rng);
    buffer.add(at, 'poc_started', lead.who, { pocId: ctx.idFor('poc', lead.leadNo), endsAt: clock.format(at + 30 * DURATION.DAY) });
    at = clock.afterWorkingDays(at, 22, rng);
  }
  return at;
}

/** Retention and advocacy: yearly renewals, an upsell now and then, a referral. */
function afterSale(ctx: DemoContext, lead: Lead, wonAt: number, amount: number): Referral | undefined {
  const { rng, clock, buffer } = ctx;
  const contractId = ctx.idFor('contract', lead.leadNo);
  if (rng.chance(KNOBS.upsellRate)) {
    const at = clock.nextWorkingTime(wonAt + (90 + rng.int(180)) * DURATION.DAY, rng.int(480));
    buffer.add(at, 'upsell', lead.who, { contractId, amount: roundTo100(amount * (0.15 + 0.25 * rng.next())), currency: lead.currency });
  }
  let renewalAmount = amount;
  for (let year = 1; ; year++) {
    const at = clock.nextWorkingTime(wonAt + (365 * year - rng.int(30)) * DURATION.DAY, rng.int(480));
    if (at >= clock.endMs || !rng.chance(KNOBS.renewalRate)) break;
    renewalAmount = roundTo100(renewalAmount * (1.02 + 0.08 * rng.next()));
    buffer.add(at, 'renewal', lead.who, { contractId, amount: renewalAmount, currency: lead.currency });
  }
  if (!rng.chance(KNOBS.referralRate)) return undefined;
  const at = clock.afterWorkingDays(wonAt, 20 + rng.int(120), rng);
  const leadNo = ctx.newLead();
  buffer.add(at, 'referral', lead.who, { referredLeadId: ctx.leadId(leadNo) });
  return { leadNo, at };
}

function roundTo100(amount: number): number {
  return Math.max(100, Math.round(amount / 100) * 100);
}
