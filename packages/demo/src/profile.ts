import type { EventOf } from '@sluice/schemas';
import type { Channel, ConversionKind } from './catalog.js';
import type { DemoContext } from './context.js';
import type { Who } from './journey-buffer.js';
import { COMPANY_POOL, FIRST_NAMES, LAST_NAMES, PERSONAS, type BusinessUnit, type Company, type Persona, companyAt, sizeFit } from './market.js';
import { Weighted } from './prng.js';

/** A known person, as the rest of the journey needs them. */
export interface Lead {
  leadNo: number;
  /** leadId (and accountId when the company is known): what every event about the lead carries. */
  who: Who;
  bu: BusinessUnit;
  /** Match with the ideal customer profile (title x industry x size x country), 0..1. */
  fit: number;
  /** Buying interest, 0..1. */
  interest: number;
  currency: string;
  /** Referred leads convert best: multiplies the sales-side chances. */
  boost: number;
  /** the company (companyAt) and the persona's role, when the lead is a real person at a known company: what its account's opportunities need */
  companyIndex?: number | undefined;
  role?: NonNullable<IdentifyProperties['role']> | undefined;
}

/** A customer referred this lead; the referral event already names its lead number. */
export interface Referral {
  leadNo: number;
  at: number;
}

type IdentifyProperties = EventOf<'identify'>['properties'];
type JunkKind = 'spam' | 'student' | 'competitor' | 'duplicate';
export const JUNK_KINDS = new Weighted<JunkKind>([['spam', 55], ['student', 20], ['competitor', 15], ['duplicate', 10]]);
const INTEREST_BASE: Readonly<Record<ConversionKind | 'outbound', number>> = { form_submit: 0.45, content_download: 0.3, webinar_registered: 0.4, demo_requested: 0.9, outbound: 0.2 };
/** Picks who the lead is (a company from the pool, a persona) and derives business unit, fit and the identify facts. */
export function createLead(
  ctx: DemoContext,
  leadNo: number,
  channel: Channel,
  kind: ConversionKind | 'outbound',
  leadSource: string,
  boost: number,
  junk?: JunkKind,
): { lead: Lead; profile: IdentifyProperties } {
  const { rng } = ctx;
  // a skewed pick: some accounts bring several leads (buying committees)
  let company = companyAt(ctx.seed, Math.floor(COMPANY_POOL * rng.next() ** 1.5));
  // outbound prospecting targets companies of 250+ employees
  for (let tries = 0; channel === 'outbound' && company.employees < 250 && tries < 4; tries++) company = companyAt(ctx.seed, rng.int(COMPANY_POOL));
  const persona = PERSONAS.pick(rng);
  const first = rng.pick(FIRST_NAMES);
  const last = rng.pick(LAST_NAMES);
  const bu: BusinessUnit = channel === 'partner' ? 'partners' : company.employees >= 1000 ? 'enterprise' : 'smb';
  const interest = Math.min(1, INTEREST_BASE[kind] * (0.6 + 0.8 * rng.next()));
  const leadId = ctx.leadId(leadNo);
  const name = `${first} ${last}`;
  const local = `${first}.${last}`.toLowerCase();
  const base = { leadNo, bu, interest, currency: company.currency, boost };
  switch (junk) {
    case 'spam':
      return { lead: { ...base, who: { leadId }, fit: 0 }, profile: { email: `test${rng.int(10_000)}@mailinator.example`, name: 'Test Test', leadSource } };
    case 'student':
      return {
        lead: { ...base, who: { leadId }, fit: 0 },
        profile: { email: `${local}@student.riverside-university.example`, name, title: 'Student', role: 'other', company: 'Riverside University', industry: 'Education', country: company.country, leadSource },
      };
    case 'competitor':
      return {
        lead: { ...base, who: { leadId }, fit: 0 },
        profile: { email: `${local}@rivalytics.example`, name, title: 'Product Marketing Manager', role: 'other', company: 'Rivalytics Inc.', industry: 'Software', country: 'US', leadSource },
      };
    default: {
      // a duplicate is a real person's second record: same kind of profile, disqualified as a duplicate
      const fit = persona.fit * company.industryFit * company.countryFit * sizeFit(company.employees);
      return {
        lead: { ...base, who: { leadId, accountId: ctx.accountId(company.index) }, fit, companyIndex: company.index, role: persona.role },
        profile: personAt(company, persona, { first, last }, bu, leadSource),
      };
    }
  }
}

/** The identify facts of a real person at a known company, in the persona's job: a lead's own profile and a buying group colleague's alike. */
export function personAt(company: Company, persona: Persona, person: { first: string; last: string }, businessUnit: BusinessUnit, leadSource: string): IdentifyProperties {
  return {
    email: `${person.first}.${person.last}`.toLowerCase() + `@${company.domain}`,
    name: `${person.first} ${person.last}`,
    title: persona.title,
    role: persona.role,
    company: company.name,
    industry: company.industry,
    companySize: company.employees,
    country: company.country,
    businessUnit,
    leadSource,
  };
}
