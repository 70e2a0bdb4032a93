import type { EventOf } from '@sluice/schemas';
import { Weighted } from './prng.js';

/**
 * The marketing side of the fictional vendor whose funnel the demo shows: its
 * web site, acquisition channels, campaigns, content and webinars. Static, so
 * nothing here grows with the size of the data set.
 */
const SITE = 'https://www.lumencloud.example';

export type Channel = 'paid_search' | 'organic_search' | 'social' | 'referral' | 'events' | 'partner' | 'outbound';
export type ConversionKind = 'form_submit' | 'content_download' | 'webinar_registered' | 'demo_requested';

export interface ChannelSpec {
  channel: Channel;
  /** Share of anonymous first visits arriving through this channel. */
  share: number;
  /** Probability that a visitor from this channel gives contact details. */
  leadRate: number;
  /** Probability that a lead from this channel is junk (spam, student, competitor, duplicate). */
  junkRate: number;
  sources: Weighted<string>;
  /** Campaign themes; the campaign name adds the quarter (`2026-q1-brand`). Organic traffic has none. */
  campaignThemes: readonly string[];
  /** Ad network per source when the visit starts with an ad click. */
  adNetwork?: Readonly<Record<string, string>>;
  /** Probability that a visit from this channel starts with an ad click. */
  adClickRate: number;
  conversions: Weighted<ConversionKind>;
  /** Form used when this channel converts through form_submit. */
  formId: string;
}

const inboundConversions = new Weighted<ConversionKind>([
  ['content_download', 40],
  ['form_submit', 27],
  ['webinar_registered', 21],
  ['demo_requested', 12],
]);

/** Acquisition channels of anonymous traffic (outbound prospects are simulated separately). */
export const CHANNELS: readonly ChannelSpec[] = [
  {
    channel: 'organic_search',
    share: 0.36,
    leadRate: 0.017,
    junkRate: 0.09,
    sources: new Weighted([['google', 80], ['bing', 12], ['duckduckgo', 8]]),
    campaignThemes: [],
    adClickRate: 0,
    conversions: inboundConversions,
    formId: 'contact-us',
  },
  {
    channel: 'paid_search',
    share: 0.25,
    leadRate: 0.022,
    junkRate: 0.1,
    sources: new Weighted([['google', 85], ['bing', 15]]),
    campaignThemes: ['brand', 'competitor-terms', 'funnel-analytics', 'lead-scoring'],
    adNetwork: { google: 'google_ads', bing: 'microsoft_ads' },
    adClickRate: 1,
    conversions: inboundConversions,
    formId: 'contact-us',
  },
  {
    channel: 'social',
    share: 0.19,
    leadRate: 0.01,
    junkRate: 0.14,
    sources: new Weighted([['linkedin', 60], ['x', 15], ['youtube', 15], ['facebook', 10]]),
    campaignThemes: ['thought-leadership', 'abm-retargeting', 'webinar-promo'],
    adNetwork: { linkedin: 'linkedin_ads', x: 'x_ads', youtube: 'google_ads', facebook: 'meta_ads' },
    adClickRate: 0.55,
    conversions: inboundConversions,
    formId: 'contact-us',
  },
  {
    channel: 'referral',
    share: 0.11,
    leadRate: 0.03,
    junkRate: 0.04,
    sources: new Weighted([['g2', 40], ['capterra', 25], ['industry-blog', 25], ['customer-site', 10]]),
    campaignThemes: ['review-sites'],
    adClickRate: 0,
    conversions: inboundConversions,
    formId: 'contact-us',
  },
  {
    channel: 'partner',
    share: 0.05,
    leadRate: 0.037,
    junkRate: 0.03,
    sources: new Weighted([['aws-marketplace', 45], ['northbridge-consulting', 30], ['atlas-reseller', 25]]),
    campaignThemes: ['marketplace-listing', 'co-marketing'],
    adClickRate: 0,
    conversions: new Weighted<ConversionKind>([['form_submit', 70], ['demo_requested', 15], ['content_download', 15]]),
    formId: 'partner-deal-registration',
  },
  {
    channel: 'events',
    share: 0.04,
    leadRate: 0.071,
    junkRate: 0.03,
    sources: new Weighted([['revops-summit', 40], ['saas-connect', 35], ['dmexco', 25]]),
    campaignThemes: ['booth', 'speaker-session'],
    adClickRate: 0,
    conversions: new Weighted<ConversionKind>([['form_submit', 75], ['demo_requested', 10], ['webinar_registered', 15]]),
    formId: 'event-badge-scan',
  },
];
/** Customers' referral links: a referred person always converts, rarely junk. */
export const REFERRAL_PROGRAM: ChannelSpec = {
  channel: 'referral',
  share: 0,
  leadRate: 1,
  junkRate: 0.01,
  sources: new Weighted([['customer-referral', 1]]),
  campaignThemes: ['customer-referral-program'],
  adClickRate: 0,
  conversions: new Weighted<ConversionKind>([['form_submit', 70], ['demo_requested', 30]]),
  formId: 'contact-us',
};
export const CHANNEL_BY_SHARE = new Weighted(CHANNELS.map((c) => [c, c.share] as const));

/** Campaign name of a theme in the quarter of a local date: `2026-q1-brand`. */
export function campaignName(theme: string, year: number, month: number): string {
  return `${year}-q${Math.floor((month - 1) / 3) + 1}-${theme}`;
}

export type PageType = 'pricing' | 'product' | 'blog' | 'docs' | 'home' | 'other';
export interface Page {
  url: string;
  title: string;
  pageType: PageType;
}
const page = (path: string, title: string, pageType: PageType): Page => ({ url: SITE + path, title, pageType });

export const PRICING_PAGE = page('/pricing', 'Pricing', 'pricing');
const BROWSING_PAGES: readonly (readonly [Page, number])[] = [
  [page('/', 'Lumen Cloud: funnel analytics for B2B teams', 'home'), 18],
  [page('/product', 'Product overview', 'product'), 10],
  [page('/product/lead-scoring', 'Lead scoring', 'product'), 6],
  [page('/product/reverse-funnel', 'Reverse funnel planning', 'product'), 4],
  [page('/product/integrations', 'Integrations', 'product'), 4],
  [page('/customers', 'Customer stories', 'other'), 4],
  [page('/about', 'About us', 'other'), 2],
  [page('/blog/mql-vs-sql', 'MQL vs SQL: where to draw the line', 'blog'), 8],
  [page('/blog/speed-to-lead', 'Why the first five minutes decide a lead', 'blog'), 7],
  [page('/blog/funnel-benchmarks', 'B2B funnel benchmarks', 'blog'), 7],
  [page('/blog/bant-in-practice', 'BANT in practice', 'blog'), 5],
  [page('/blog/lead-scoring-decay', 'Lead scores should decay', 'blog'), 4],
  [page('/docs/getting-started', 'Getting started', 'docs'), 4],
  [page('/docs/api', 'API reference', 'docs'), 3],
];
/** Anonymous browsing: pricing is about one page view in twelve. */
export const ANONYMOUS_PAGES = new Weighted<Page>([...BROWSING_PAGES, [PRICING_PAGE, 8]]);
/** What a known lead without buying intent reads: no pricing (a pricing view is an MQL signal). */
export const NURTURE_PAGES = new Weighted<Page>(BROWSING_PAGES.filter(([p]) => p.pageType === 'blog' || p.pageType === 'docs'));

/** Where each channel's campaigns and links land. */
export const LANDING_PAGES: Readonly<Record<Channel, Page>> = {
  organic_search: page('/blog/funnel-benchmarks', 'B2B funnel benchmarks', 'blog'),
  paid_search: page('/lp/funnel-analytics', 'Funnel analytics for B2B teams', 'product'),
  social: page('/lp/benchmark-report', 'Get the benchmark report', 'other'),
  referral: page('/customers', 'Customer stories', 'other'),
  partner: page('/partners/offer', 'Partner offer', 'other'),
  events: page('/lp/event', 'Meet us at the event', 'other'),
  outbound: page('/lp/meet-us', 'Book a meeting', 'other'),
};
export const REFERRER_BY_SOURCE: Readonly<Record<string, string>> = {
  google: 'https://www.google.com/',
  bing: 'https://www.bing.com/',
  duckduckgo: 'https://duckduckgo.com/',
  linkedin: 'https://www.linkedin.com/',
  x: 'https://x.com/',
  youtube: 'https://www.youtube.com/',
  facebook: 'https://www.facebook.com/',
  g2: 'https://www.g2.com/',
  capterra: 'https://www.capterra.com/',
  'industry-blog': 'https://revops-weekly.example/',
  'customer-site': 'https://customers.example/',
  'aws-marketplace': 'https://aws.amazon.com/marketplace/',
};

export interface Content {
  contentId: string;
  title: string;
  contentType: NonNullable<EventOf<'content_download'>['properties']['contentType']>;
}
export const CONTENT = new Weighted<Content>([
  [{ contentId: 'wp-funnel-benchmarks', title: 'B2B funnel benchmarks report', contentType: 'report' }, 30],
  [{ contentId: 'ebook-lead-scoring', title: 'The lead scoring playbook', contentType: 'ebook' }, 25],
  [{ contentId: 'wp-sales-marketing-sla', title: 'Writing a sales and marketing SLA', contentType: 'white_paper' }, 20],
  [{ contentId: 'cs-northwind-logistics', title: 'How Northwind cut speed-to-lead to 4 minutes', contentType: 'case_study' }, 15],
  [{ contentId: 'tpl-reverse-funnel', title: 'Reverse funnel planning template', contentType: 'template' }, 10],
]);

export const FORM_NAMES: Readonly<Record<string, string>> = {
  'contact-us': 'Contact us',
  'partner-deal-registration': 'Partner deal registration',
  'event-badge-scan': 'Event badge scan',
  'request-demo': 'Request a demo',
};

const WEBINAR_TOPICS = ['Funnel metrics that matter', 'From MQL to SQL without friction', 'Planning pipeline backward from revenue', 'Lead scoring that decays'];
/** One webinar a month: its id and title follow from the local month. */
export function webinarFor(year: number, month: number): { webinarId: string; title: string } {
  const monthText = String(month).padStart(2, '0');
  return { webinarId: `webinar-${year}-${monthText}`, title: `${WEBINAR_TOPICS[(year * 12 + month) % WEBINAR_TOPICS.length]} (${year}-${monthText})` };
}
