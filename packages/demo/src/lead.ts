import { ANONYMOUS_PAGES, CONTENT, FORM_NAMES, NURTURE_PAGES, PRICING_PAGE, REFERRAL_PROGRAM, webinarFor } from './catalog.js';
import type { DemoContext } from './context.js';
import { KNOBS } from './funnel.js';
import type { Attribution, Who } from './journey-buffer.js';
import { JUNK_KINDS, createLead, type Lead, type Referral } from './profile.js';
import { followUpMql } from './sales.js';
import { DURATION } from './time.js';
import { DIRECT, pageView, simulateVisitor, type Conversion } from './visitor.js';

const NURTURE: Omit<Attribution, 'campaign'> = { source: 'nurture', channel: 'email' };

/**
 * A visitor who converted: the conversion event carries both ids (that is how
 * the anonymous history gets stitched to the lead), an identify with profile
 * facts follows, then nurture e-mails over weeks. About a third show MQL
 * behaviour and go to sales; junk and clear no-fits are disqualified.
 */
export function simulateInboundLead(ctx: DemoContext, conv: Conversion, boost = 1, leadNo = ctx.newLead()): Referral | undefined {
  const { rng, buffer, clock } = ctx;
  const junk = rng.chance(conv.spec.junkRate) ? JUNK_KINDS.pick(rng) : undefined;
  const { lead, profile } = createLead(ctx, leadNo, conv.spec.channel, conv.kind, conv.leadSource, boost, junk);
  writeConversion(ctx, lead, conv);
  // everything else about the lead happens after the identify
  const identifiedAt = conv.at + 2000 + rng.int(10_000);
  buffer.add(identifiedAt, 'identify', lead.who, profile);
  if (rng.chance(KNOBS.secondDeviceRate)) secondDevice(ctx, lead, conv);

  if (junk !== undefined) {
    if (rng.chance(0.3)) buffer.add(identifiedAt + DURATION.MINUTE + rng.exponential(DURATION.DAY), 'email_open', lead.who, { emailId: `welcome-${lead.bu}` });
    const reviewedAt = clock.afterWorkingDays(identifiedAt + (1 + rng.int(8)) * DURATION.HOUR, rng.int(3), rng);
    buffer.add(reviewedAt, 'disqualified', lead.who, { reason: junk });
    return undefined;
  }
  const mql = conv.kind === 'demo_requested' || rng.chance(Math.min(0.95, KNOBS.mqlBase[conv.kind] * (0.5 + lead.fit) * boost));
  nurture(ctx, lead, identifiedAt, mql);
  if (!mql) {
    if (lead.fit < KNOBS.noFitBelow && rng.chance(KNOBS.noFitDisqualifyRate)) {
      buffer.add(clock.afterWorkingDays(identifiedAt, 1 + rng.int(8), rng), 'disqualified', lead.who, { reason: 'no_fit' });
    }
    return undefined;
  }
  return followUpMql(ctx, lead, mqlSignal(ctx, lead, conv, identifiedAt), conv.kind === 'demo_requested' ? 'demoRequest' : 'inbound');
}

/** A lead a customer referred: comes in through the referral link days later, converts, and converts best. */
export function simulateReferredLead(ctx: DemoContext, referral: Referral): Referral | undefined {
  const conv = simulateVisitor(ctx, REFERRAL_PROGRAM, referral.at + (1 + ctx.rng.exponential(4)) * DURATION.DAY);
  // the referral program's visitors always convert; the guard only satisfies the types
  return conv === undefined ? undefined : simulateInboundLead(ctx, conv, KNOBS.referredBoost, referral.leadNo);
}

/** The touch that gave contact details: both ids, so the visitor's history joins the lead. */
function writeConversion(ctx: DemoContext, lead: Lead, conv: Conversion): void {
  const who: Who = { ...lead.who, anonymousId: conv.anonymousId };
  const { buffer, rng, clock } = ctx;
  switch (conv.kind) {
    case 'form_submit':
      buffer.add(conv.at, 'form_submit', who, { formId: conv.spec.formId, formName: FORM_NAMES[conv.spec.formId] ?? conv.spec.formId }, conv.attribution);
      return;
    case 'content_download': {
      const content = CONTENT.pick(rng);
      buffer.add(conv.at, 'content_download', who, { contentId: content.contentId, title: content.title, contentType: content.contentType }, conv.attribution);
      return;
    }
    case 'webinar_registered': {
      const { year, month } = clock.localYearMonth(conv.at + 14 * DURATION.DAY);
      buffer.add(conv.at, 'webinar_registered', who, webinarFor(year, month), conv.attribution);
      return;
    }
    case 'demo_requested':
      buffer.add(conv.at, 'demo_requested', who, { formId: 'request-demo' }, conv.attribution);
      return;
  }
}

/**
 * The same person browsed from a second device before converting; weeks
 * later an e-mail link opens the site there, carrying both ids, which
 * identifies that device's history too.
 */
function secondDevice(ctx: DemoContext, lead: Lead, conv: Conversion): void {
  const { rng, buffer } = ctx;
  const deviceId = ctx.newAnonymousId();
  const device: Who = { anonymousId: deviceId };
  let at = conv.firstTouchAt + rng.next() * (conv.at - conv.firstTouchAt);
  let page = ANONYMOUS_PAGES.pick(rng);
  buffer.add(at, 'visit', device, { url: page.url, landingPage: page.url }, DIRECT);
  pageView(ctx, device, at + 1000, page);
  at = conv.at + DURATION.DAY * (2 + rng.exponential(10));
  page = NURTURE_PAGES.pick(rng);
  buffer.add(at, 'visit', { ...lead.who, anonymousId: deviceId }, { url: page.url, landingPage: page.url }, nurtureAttribution(lead));
  pageView(ctx, lead.who, at + 1000, page);
}

function nurtureAttribution(lead: Lead): Attribution {
  return { ...NURTURE, campaign: `nurture-${lead.bu}` };
}

/**
 * Weekly nurture e-mails for a few weeks: opens and clicks depend on
 * interest. Leads without MQL behaviour click at most once, read no pricing,
 * and some unsubscribe.
 */
function nurture(ctx: DemoContext, lead: Lead, from: number, mql: boolean): void {
  const { rng, buffer, clock } = ctx;
  const emails = 4 + rng.int(10);
  const unsubscribeAfter = !mql && rng.chance(KNOBS.unsubscribeRate) ? rng.int(emails) : -1;
  let clicks = 0;
  let sentAt = clock.afterWorkingDays(from, 1 + rng.int(3), rng);
  for (let i = 0; i < emails; i++) {
    const emailId = `nurture-${lead.bu}-${String(i + 1).padStart(2, '0')}`;
    if (rng.chance(0.15 + 0.35 * lead.interest) || i === unsubscribeAfter) {
      const openedAt = sentAt + rng.exponential(5 * DURATION.HOUR);
      buffer.add(openedAt, 'email_open', lead.who, { emailId });
      if (i === unsubscribeAfter) {
        buffer.add(openedAt + 60_000, 'unsubscribe', lead.who, { listId: `nurture-${lead.bu}` });
        return;
      }
      if ((mql || clicks === 0) && rng.chance(0.1 + 0.2 * lead.interest)) {
        clicks += 1;
        const page = mql ? ANONYMOUS_PAGES.pick(rng) : NURTURE_PAGES.pick(rng);
        const clickedAt = openedAt + (10 + rng.int(120)) * 1000;
        buffer.add(clickedAt, 'email_click', lead.who, { emailId, url: page.url });
        buffer.add(clickedAt + 2000, 'visit', lead.who, { url: page.url, landingPage: page.url }, nurtureAttribution(lead));
        pageView(ctx, lead.who, clickedAt + 3000, page);
      }
    }
    sentAt = clock.afterWorkingDays(sentAt, 5 + rng.int(5), rng);
  }
}

/**
 * The behaviour that makes a lead marketing-qualified: the demo request
 * itself, attending the webinar it registered for, or coming back to read
 * pricing. Returns when it happened (sales is alerted then).
 */
function mqlSignal(ctx: DemoContext, lead: Lead, conv: Conversion, identifiedAt: number): number {
  const { rng, buffer, clock } = ctx;
  if (conv.kind === 'demo_requested') return identifiedAt;
  if (conv.kind === 'webinar_registered') {
    const at = clock.afterWorkingDays(conv.at, 5 + rng.int(10), rng);
    const { year, month } = clock.localYearMonth(conv.at + 14 * DURATION.DAY);
    buffer.add(at, 'webinar_attended', lead.who, { webinarId: webinarFor(year, month).webinarId, minutesAttended: 15 + rng.int(46) });
    return at + 60 * DURATION.MINUTE;
  }
  let at = conv.at + DURATION.DAY + rng.exponential(10 * DURATION.DAY);
  buffer.add(at, 'visit', lead.who, { url: PRICING_PAGE.url, landingPage: PRICING_PAGE.url }, DIRECT);
  at = pageView(ctx, lead.who, at + 1000, PRICING_PAGE);
  if (rng.chance(0.5)) at = pageView(ctx, lead.who, at, ANONYMOUS_PAGES.pick(rng));
  if (rng.chance(0.4)) at = pageView(ctx, lead.who, at, PRICING_PAGE);
  return at;
}
