/**
 * Where a visit came from: UTM parameters and the referrer onto source,
 * channel and campaign, by ordered channel rules. Pure and dependency-free:
 * the browser script bundles it, and the Segment endpoint classifies
 * `context.campaign` with the same rules, so both doors name channels alike.
 */

/** The shape of capture.channels in the configuration (lowercased there). */
export interface ChannelRule {
  channel: string;
  medium?: readonly string[] | undefined;
  source?: readonly string[] | undefined;
  referrerHost?: readonly string[] | undefined;
}

export interface Arrival {
  utmSource?: string | undefined;
  utmMedium?: string | undefined;
  utmCampaign?: string | undefined;
  /** the referring page's URL; absent or empty: none */
  referrer?: string | undefined;
  /** the site's own host: a referrer from it is no referrer */
  ownHost?: string | undefined;
}

export interface Attribution {
  source?: string;
  channel: string;
  campaign?: string;
}

function hostOf(url: string | undefined): string | undefined {
  if (url === undefined || url === '') return undefined;
  const match = /^[a-z][a-z0-9+.-]*:\/\/([^/?#:@]+)/i.exec(url);
  return match?.[1]?.toLowerCase();
}

const nonEmpty = (s: string | undefined): string | undefined => (s === undefined || s.trim() === '' ? undefined : s.trim());

/**
 * The first rule whose every given condition holds names the channel; none:
 * `referral` with another site's referrer, `other` with UTM parameters,
 * `direct` with neither. Source is utm_source, else the referrer's host.
 */
export function attribute(arrival: Arrival, rules: readonly ChannelRule[]): Attribution {
  const medium = nonEmpty(arrival.utmMedium)?.toLowerCase();
  const utmSource = nonEmpty(arrival.utmSource);
  const campaign = nonEmpty(arrival.utmCampaign);
  let referrerHost = hostOf(arrival.referrer);
  if (referrerHost !== undefined && referrerHost === arrival.ownHost?.toLowerCase()) referrerHost = undefined;
  const sourceLower = utmSource?.toLowerCase();
  const holds = (rule: ChannelRule) =>
    (rule.medium === undefined || (medium !== undefined && rule.medium.includes(medium))) &&
    (rule.source === undefined || (sourceLower !== undefined && rule.source.includes(sourceLower))) &&
    (rule.referrerHost === undefined || (referrerHost !== undefined && rule.referrerHost.some((needle) => referrerHost.includes(needle))));
  const hasUtm = medium !== undefined || utmSource !== undefined || campaign !== undefined;
  const channel = rules.find(holds)?.channel ?? (referrerHost !== undefined ? 'referral' : hasUtm ? 'other' : 'direct');
  const source = utmSource ?? referrerHost;
  return { channel, ...(source === undefined ? {} : { source: source.slice(0, 200) }), ...(campaign === undefined ? {} : { campaign: campaign.slice(0, 200) }) };
}
