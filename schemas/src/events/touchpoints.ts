import { z } from 'zod';
import { Extensions } from './extensions.js';
import { Id, Label, Money, OffsetDateTime, Text, Url } from './primitives.js';

/** Per-type `properties` schemas. Every object is strict: unknown keys are rejected. */
const props = <T extends z.ZodRawShape>(shape: T) => z.strictObject({ ...shape, x: Extensions });

const Note = Text.max(2000);

export const CallOutcome = z.enum(['connected', 'no_answer', 'voicemail', 'busy', 'wrong_number', 'meeting_booked']);
export const DecisionRole = z.enum(['economic_buyer', 'technical_buyer', 'user', 'influencer', 'champion', 'other']);
export const DisqualifyReason = z.enum(['spam', 'no_fit', 'competitor', 'student', 'duplicate', 'no_budget', 'no_response', 'other']);
export const LostReason = z.enum(['price', 'competitor', 'no_decision', 'timing', 'no_budget', 'product_fit', 'other']);
export const ContentKind = z.enum(['white_paper', 'ebook', 'case_study', 'report', 'video', 'template', 'other']);

/** BANT answers from a connect call; an unanswered question is simply absent. */
export const Bant = z.strictObject({
  budget: z.boolean().optional(),
  authority: z.boolean().optional(),
  need: z.boolean().optional(),
  timeline: z.boolean().optional(),
});

export const touchpointProperties = {
  // Owned-channel touches: what makes a visitor.
  visit: props({ url: Url.optional(), referrer: Url.optional(), landingPage: Url.optional() }),
  page_view: props({ url: Url, title: Label.optional(), pageType: z.enum(['pricing', 'product', 'blog', 'docs', 'home', 'other']).optional() }),
  ad_click: props({ adId: Id.optional(), network: Label.optional(), url: Url.optional() }),
  social_follow: props({ network: Label }),
  // Conversion points: contact details given.
  content_download: props({ contentId: Id.optional(), title: Label.optional(), contentType: ContentKind.optional() }),
  form_submit: props({ formId: Id, formName: Label.optional(), landingPage: Url.optional() }),
  webinar_registered: props({ webinarId: Id, title: Label.optional() }),
  webinar_attended: props({ webinarId: Id, minutesAttended: z.number().int().nonnegative().optional() }),
  email_open: props({ emailId: Id.optional() }),
  email_click: props({ emailId: Id.optional(), url: Url.optional() }),
  unsubscribe: props({ listId: Id.optional() }),
  // Sales touches.
  call: props({
    direction: z.enum(['inbound', 'outbound']),
    outcome: CallOutcome,
    durationSeconds: z.number().int().nonnegative(),
    bant: Bant.optional(),
    ownerId: Id.optional(),
  }),
  meeting: props({ meetingId: Id.optional(), durationMinutes: z.number().int().nonnegative().optional(), ownerId: Id.optional() }),
  demo_requested: props({ formId: Id.optional() }),
  demo_scheduled: props({ demoId: Id, scheduledFor: OffsetDateTime.optional() }),
  demo_held: props({ demoId: Id }),
  demo_no_show: props({ demoId: Id }),
  trial_started: props({ plan: Label.optional(), endsAt: OffsetDateTime.optional() }),
  poc_started: props({ pocId: Id.optional(), endsAt: OffsetDateTime.optional() }),
  quote: props({ quoteId: Id, ...Money }),
  quote_accepted: props({ quoteId: Id, ...Money }),
  // Money in and after the sale.
  invoice: props({ invoiceId: Id, ...Money, dueAt: OffsetDateTime.optional() }),
  payment: props({ paymentId: Id.optional(), invoiceId: Id.optional(), ...Money }),
  renewal: props({ contractId: Id.optional(), ...Money }),
  upsell: props({ contractId: Id.optional(), ...Money }),
  referral: props({ referredLeadId: Id.optional() }),
} as const;

/** Profile facts: who the lead is (fit scoring reads these). */
export const profileProperties = {
  identify: props({
    email: z.email().optional(),
    name: Label.optional(),
    title: Label.optional(),
    role: DecisionRole.optional(),
    company: Label.optional(),
    industry: Label.optional(),
    companySize: z.number().int().positive().optional(),
    country: z.string().regex(/^[A-Z]{2}$/, { message: 'must be an ISO 3166-1 alpha-2 code such as US or DE' }).optional(),
    businessUnit: Label.optional(),
    leadSource: Label.optional(),
  }),
} as const;

/**
 * Money spent to reach people: no lead, no visitor. An ad platform's export
 * row: what a source (channel, campaign) cost over a period [periodStart,
 * periodEnd), for a business unit (resolved like a lead's; absent: the
 * default unit). Reports spread the amount over the period evenly in time.
 */
export const costProperties = {
  spend: props({ ...Money, periodStart: OffsetDateTime, periodEnd: OffsetDateTime, businessUnit: Label.optional() }),
} as const;

/** Human decisions are facts too: they enter the log like any touchpoint. */
export const decisionProperties = {
  sales_accepted: props({ ownerId: Id.optional(), note: Note.optional() }),
  disqualified: props({ reason: DisqualifyReason, note: Note.optional() }),
  deal_lost: props({ reason: LostReason, note: Note.optional() }),
  owner_assigned: props({ ownerId: Id }),
} as const;
