import type { SideStateKind } from '../lead.js';

/**
 * What a lead is segmented by in stage-level analytics: its current profile,
 * one row per lead and rule configuration (analytics' lead_profile table).
 * Text fields are '' when unknown; companySize is 0 when unknown.
 */
export interface LeadProfileFacts {
  /** The resolved business unit (aliases mapped by the config). */
  businessUnit: string;
  /** First-touch attribution. */
  source: string;
  channel: string;
  campaign: string;
  /** Role in the decision (the persona): economic_buyer, user, influencer, ... */
  role: string;
  industry: string;
  /** ISO 3166-1 alpha-2. */
  country: string;
  companySize: number;
  /** The lead source the lead's profile names (identify.leadSource). */
  leadSource: string;
  owner: string;
  /** The furthest stage reached. */
  currentStage: string;
}

/** Keys a stage-level query may segment or filter by (analytics maps each to a column expression). */
export const SEGMENT_KEYS = ['businessUnit', 'source', 'channel', 'campaign', 'role', 'industry', 'country', 'companySize', 'leadSource', 'owner', 'currentStage'] as const;
export type SegmentKey = (typeof SEGMENT_KEYS)[number];

/** Company sizes are segmented in bands (employees, inclusive upper bounds); above the last band: `5001+`. */
export const COMPANY_SIZE_BANDS: ReadonlyArray<{ upTo: number; label: string }> = [
  { upTo: 10, label: '1-10' },
  { upTo: 50, label: '11-50' },
  { upTo: 200, label: '51-200' },
  { upTo: 1000, label: '201-1000' },
  { upTo: 5000, label: '1001-5000' },
];
export const LARGEST_COMPANY_SIZE_BAND = '5001+';

/** The band of a company size; '' when unknown (0). */
export function companySizeBand(size: number): string {
  if (size <= 0) return '';
  return COMPANY_SIZE_BANDS.find((b) => size <= b.upTo)?.label ?? LARGEST_COMPANY_SIZE_BAND;
}

/** The segment value of a lead's profile under a key; '' for a lead without a profile. */
export function segmentValue(profile: LeadProfileFacts | undefined, key: SegmentKey): string {
  if (profile === undefined) return '';
  return key === 'companySize' ? companySizeBand(profile.companySize) : profile[key];
}

/**
 * What a lead_profile row also holds for account-level counting and the
 * side-state rates of stage conversion: the lead's account ('' without one)
 * and its side state as the projector last recorded it ('' when in the
 * funnel; sideSinceMs 0 then).
 */
export interface LeadLifecycleFacts {
  accountId: string;
  sideState: '' | SideStateKind;
  sideSinceMs: number;
}
