import { z } from 'zod';
import { EVENT_TYPES, type EventType } from '../events/envelope.js';

/**
 * Capture at the source: how events from a website (the `/sluice.js`
 * tracker, under a site key) and from Segment / RudderStack clients (the
 * tracking spec under `/segment/v1/...`) become Sluice events. Process
 * settings like `server`: none of them changes how a stored event is read,
 * so they are left out of the rule version's fingerprint.
 */

const lowerList = z.array(z.string().min(1).max(200).transform((s) => s.toLowerCase()));

/**
 * One channel rule: every condition it gives must hold (utm_medium among
 * `medium`, utm_source among `source`, the referrer's host containing one of
 * `referrerHost`). Rules are tried in order; the first that holds names the
 * channel. None holding: `referral` with a referrer of another site, `other`
 * with UTM parameters, `direct` with neither.
 */
export const ChannelRuleSchema = z
  .strictObject({
    channel: z.string().regex(/^[a-z0-9_-]{1,64}$/, { message: 'must be 1-64 characters: lowercase letters, digits, _ -' }),
    medium: lowerList.optional(),
    source: lowerList.optional(),
    referrerHost: lowerList.optional(),
  })
  .refine((r) => r.medium !== undefined || r.source !== undefined || r.referrerHost !== undefined, { message: 'give at least one of medium, source, referrerHost' });
export type ChannelRule = z.output<typeof ChannelRuleSchema>;

const SEARCH_ENGINES = ['google.', 'bing.com', 'duckduckgo.com', 'search.yahoo.', 'yandex.', 'baidu.com', 'ecosia.org', 'search.brave.com'];
const SOCIAL_NETWORKS = ['facebook.com', 'linkedin.com', 'lnkd.in', 't.co', 'twitter.com', 'x.com', 'instagram.com', 'reddit.com', 'youtube.com'];

export const DEFAULT_CHANNEL_RULES: ChannelRule[] = [
  { channel: 'paid_search', medium: ['cpc', 'ppc', 'paidsearch', 'paid_search', 'sem'] },
  { channel: 'paid_social', medium: ['paid_social', 'paidsocial', 'social_paid', 'social-paid'] },
  { channel: 'display', medium: ['display', 'banner', 'cpm'] },
  { channel: 'email', medium: ['email', 'e-mail', 'newsletter'] },
  { channel: 'organic_social', medium: ['social', 'social-network', 'social_network'] },
  { channel: 'organic_search', referrerHost: SEARCH_ENGINES },
  { channel: 'organic_social', referrerHost: SOCIAL_NETWORKS },
];

const knownType = z.string().refine((t): t is EventType => (EVENT_TYPES as readonly string[]).includes(t), { message: `must be a Sluice event type: ${EVENT_TYPES.join(', ')}` });

/** identify's profile facts a trait may fill */
export const PROFILE_FACTS = ['email', 'name', 'title', 'role', 'company', 'industry', 'companySize', 'country', 'businessUnit', 'leadSource'] as const;

/** Segment's reserved traits (segment.com/docs/connections/spec/identify/#traits) onto Sluice's profile facts. */
export const DEFAULT_TRAIT_MAP: Record<string, (typeof PROFILE_FACTS)[number]> = {
  email: 'email',
  name: 'name',
  title: 'title',
  company: 'company',
  industry: 'industry',
  employees: 'companySize',
  country: 'country',
};

export const SegmentCaptureSchema = z.strictObject({
  /** `track` event names onto Sluice types, e.g. { "Demo Requested": "demo_requested" } */
  events: z.record(z.string().min(1).max(200), knownType).default({}),
  /** a `track` whose name is not in `events`: rejected (dead-lettered, counted) or skipped (answered as accepted, counted, not stored) */
  unmapped: z.enum(['reject', 'skip']).default('reject'),
  /** identify / group traits onto profile facts; traits not named here go under properties.x */
  traits: z.record(z.string().min(1).max(200), z.enum(PROFILE_FACTS)).default(DEFAULT_TRAIT_MAP),
  /** most rejected items kept for GET /v1/capture/rejected (the oldest go first) */
  deadLetterLimit: z.number().int().min(0).max(100_000).default(1_000),
});
export type SegmentCapture = z.output<typeof SegmentCaptureSchema>;

const Origin = z.string().regex(/^https?:\/\/[^/\s]+$/, { message: 'must be an origin: scheme://host[:port], no path' });

/**
 * A site key: the public key a website's `/sluice.js` sends. Not a secret (it
 * is in the page), so it is bounded by what it may do: write web touchpoints
 * only, from its own origins only, at a limited rate.
 */
export const SiteKeySchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, { message: 'must be 1-64 characters: letters, digits, . _ -' }),
  key: z.string().regex(/^[A-Za-z0-9_-]{8,128}$/, { message: 'must be 8-128 characters: letters, digits, _ -' }),
  origins: z.array(Origin).min(1),
});
export type SiteKey = z.output<typeof SiteKeySchema>;

/** What a site key may write: the touchpoints a web page sees, and identify from its forms. */
export const SITE_KEY_TYPES = ['visit', 'page_view', 'form_submit', 'content_download', 'ad_click', 'identify'] as const satisfies readonly EventType[];

export const SiteCaptureSchema = z.strictObject({
  keys: z
    .array(SiteKeySchema)
    .default([])
    .superRefine((keys, ctx) => {
      const seen = new Set<string>();
      keys.forEach((k, i) => {
        if (seen.has(k.key)) ctx.addIssue({ code: 'custom', path: [i, 'key'], input: k.key, message: 'same key as an earlier site key' });
        seen.add(k.key);
      });
    }),
  /** per site key and client address: a bucket of `burst` requests refilled at `perMinute` */
  rateLimit: z.strictObject({ perMinute: z.number().int().min(1).max(1_000_000).default(120), burst: z.number().int().min(1).max(100_000).default(60) }).prefault({}),
  /** requests from known crawlers and headless browsers: dropped (answered, not stored), flagged (properties.x.bot = true) or kept */
  bots: z.enum(['drop', 'flag', 'keep']).default('drop'),
  /** store the client's address on each event (properties.x.clientAddress); off by default */
  storeClientAddress: z.boolean().default(false),
});

/** What the browser script is told when served. */
export const TrackerSettingsSchema = z.strictObject({
  /** nothing stored or sent until the page calls sluice.consent(true) */
  consentRequired: z.boolean().default(false),
  /** send nothing when the browser says Do Not Track */
  honorDoNotTrack: z.boolean().default(false),
  /** the form field whose value is the lead id when a data-sluice-form is submitted */
  leadIdField: z.string().min(1).max(100).default('email'),
  /** send the lead id as the hex SHA-256 of its trimmed, lowercased value */
  hashLeadId: z.boolean().default(false),
  /** a new session after this long without an event */
  sessionMinutes: z.number().int().min(1).max(24 * 60).default(30),
  /** link targets counted as downloads */
  fileExtensions: z.array(z.string().regex(/^[a-z0-9]{1,10}$/)).default(['pdf', 'zip', 'docx', 'xlsx', 'pptx', 'csv', 'epub', 'mp4']),
  /** how long events wait to be sent together */
  flushMs: z.number().int().min(0).max(60_000).default(1_000),
});
export type TrackerSettings = z.output<typeof TrackerSettingsSchema>;

export const CaptureSchema = z
  .strictObject({
    channels: z.array(ChannelRuleSchema).default(DEFAULT_CHANNEL_RULES),
    segment: SegmentCaptureSchema.prefault({}),
    site: SiteCaptureSchema.prefault({}),
    tracker: TrackerSettingsSchema.prefault({}),
  })
  .prefault({});
export type CaptureConfig = z.output<typeof CaptureSchema>;
