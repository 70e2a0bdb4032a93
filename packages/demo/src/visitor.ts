import { ANONYMOUS_PAGES, CHANNEL_BY_SHARE, LANDING_PAGES, REFERRER_BY_SOURCE, campaignName, type ChannelSpec, type ConversionKind, type Page } from './catalog.js';
import type { DemoContext } from './context.js';
import { KNOBS } from './funnel.js';
import type { Attribution, Who } from './journey-buffer.js';
import { DURATION } from './time.js';

/** A return visit typed in or bookmarked: no campaign behind it. */
export const DIRECT: Attribution = { source: 'direct', channel: 'direct' };

/** The moment an anonymous visitor gives contact details, and how they came. */
export interface Conversion {
  at: number;
  firstTouchAt: number;
  kind: ConversionKind;
  spec: ChannelSpec;
  anonymousId: string;
  /** Attribution of the session that converted (put on the conversion event). */
  attribution: Attribution;
  /** First-touch source, recorded as the lead source. */
  leadSource: string;
}

/**
 * An anonymous visitor: one to a few sessions (ad click, visit, page views)
 * from one acquisition channel, returning directly now and then. Returns the
 * conversion when the visitor gives contact details (the lead simulation
 * writes that event, since it carries the new lead id).
 */
export function simulateVisitor(ctx: DemoContext, spec: ChannelSpec = CHANNEL_BY_SHARE.pick(ctx.rng), firstTouchAt = ctx.clock.randomVisitStart(ctx.rng)): Conversion | undefined {
  const { rng } = ctx;
  const anonymousId = ctx.newAnonymousId();
  const who: Who = { anonymousId };
  const source = spec.sources.pick(rng);
  const theme = spec.campaignThemes.length > 0 ? rng.pick(spec.campaignThemes) : undefined;
  const acquisition = acquisitionOf(ctx, spec, source, theme, firstTouchAt);
  const converts = rng.chance(spec.leadRate);
  let sessions = 1;
  while (sessions < 6 && rng.chance(KNOBS.returnSessionsMean / (1 + KNOBS.returnSessionsMean))) sessions += 1;
  const lastSession = converts ? rng.int(sessions) : sessions - 1;

  let at = firstTouchAt;
  let attribution = acquisition;
  for (let session = 0; ; session++) {
    at = browse(ctx, who, at, spec, attribution, session === 0 || attribution !== DIRECT, theme);
    if (session === lastSession) break;
    at += DURATION.HOUR + rng.exponential(3 * DURATION.DAY);
    attribution = rng.chance(0.4) ? acquisitionOf(ctx, spec, source, theme, at) : DIRECT;
  }
  if (!converts) return undefined;
  return {
    at: at + (30 + rng.int(300)) * 1000,
    firstTouchAt,
    kind: spec.conversions.pick(rng),
    spec,
    anonymousId,
    attribution,
    leadSource: source,
  };
}

function acquisitionOf(ctx: DemoContext, spec: ChannelSpec, source: string, theme: string | undefined, at: number): Attribution {
  if (theme === undefined) return { source, channel: spec.channel };
  const { year, month } = ctx.clock.localYearMonth(at);
  return { source, channel: spec.channel, campaign: campaignName(theme, year, month) };
}

/** One session: an ad click when the channel is paid, the visit, a few page views. Returns when it ended. */
function browse(ctx: DemoContext, who: Who, start: number, spec: ChannelSpec, attribution: Attribution, fromChannel: boolean, theme: string | undefined): number {
  const { rng, buffer } = ctx;
  let at = start;
  const landing = fromChannel ? LANDING_PAGES[spec.channel] : ANONYMOUS_PAGES.pick(rng);
  if (fromChannel && theme !== undefined && rng.chance(spec.adClickRate)) {
    const network = spec.adNetwork?.[attribution.source] ?? attribution.source;
    buffer.add(at, 'ad_click', who, { adId: `ad-${theme}-${1 + rng.int(4)}`, network, url: landing.url }, attribution);
    at += 1000 + rng.int(3000);
  }
  const referrer = fromChannel ? REFERRER_BY_SOURCE[attribution.source] : undefined;
  buffer.add(at, 'visit', who, referrer === undefined ? { url: landing.url, landingPage: landing.url } : { url: landing.url, referrer, landingPage: landing.url }, attribution);
  at = pageView(ctx, who, at + 1000, landing);
  if (fromChannel && rng.chance(0.01)) ctx.buffer.add(at, 'social_follow', who, { network: 'linkedin' });
  // pages per session: geometric, mean ~2.5 including the landing page
  while (rng.chance(0.55)) at = pageView(ctx, who, at, ANONYMOUS_PAGES.pick(rng));
  return at;
}

export function pageView(ctx: DemoContext, who: Who, at: number, page: Page): number {
  ctx.buffer.add(at, 'page_view', who, { url: page.url, title: page.title, pageType: page.pageType });
  return at + (10 + ctx.rng.int(170)) * 1000;
}
