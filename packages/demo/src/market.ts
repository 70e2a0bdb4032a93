import type { EventOf } from '@sluice/schemas';
import { Weighted, hash32 } from './prng.js';

/**
 * The market the fictional vendor sells into: buyer personas, and companies
 * that are pure functions of (seed, index), so a company is picked by picking
 * an index and nothing is stored.
 */
export const BUSINESS_UNITS = ['smb', 'enterprise', 'partners'] as const;
export type BusinessUnit = (typeof BUSINESS_UNITS)[number];

export interface Persona {
  title: string;
  role: NonNullable<EventOf<'identify'>['properties']['role']>;
  /** How well the title matches the ideal customer profile, 0..1. */
  fit: number;
}
export const PERSONAS = new Weighted<Persona>([
  [{ title: 'Head of Revenue Operations', role: 'champion', fit: 1 }, 8],
  [{ title: 'VP Marketing', role: 'economic_buyer', fit: 0.9 }, 7],
  [{ title: 'VP Sales', role: 'economic_buyer', fit: 0.85 }, 6],
  [{ title: 'Director of Demand Generation', role: 'champion', fit: 0.95 }, 7],
  [{ title: 'Marketing Operations Manager', role: 'user', fit: 0.85 }, 12],
  [{ title: 'Sales Operations Manager', role: 'user', fit: 0.8 }, 9],
  [{ title: 'CEO', role: 'economic_buyer', fit: 0.65 }, 6],
  [{ title: 'CFO', role: 'economic_buyer', fit: 0.55 }, 3],
  [{ title: 'Head of Data Engineering', role: 'technical_buyer', fit: 0.7 }, 5],
  [{ title: 'IT Manager', role: 'technical_buyer', fit: 0.5 }, 6],
  [{ title: 'Data Analyst', role: 'user', fit: 0.55 }, 10],
  [{ title: 'Marketing Manager', role: 'influencer', fit: 0.6 }, 12],
  [{ title: 'Account Executive', role: 'influencer', fit: 0.35 }, 6],
  [{ title: 'Consultant', role: 'other', fit: 0.3 }, 5],
]);

interface Industry {
  name: string;
  fit: number;
  word: string;
}
const INDUSTRIES: readonly Industry[] = [
  { name: 'Software', fit: 1, word: 'Software' },
  { name: 'Financial Services', fit: 0.95, word: 'Capital' },
  { name: 'Telecommunications', fit: 0.8, word: 'Telecom' },
  { name: 'Manufacturing', fit: 0.7, word: 'Industries' },
  { name: 'Retail', fit: 0.65, word: 'Retail' },
  { name: 'Healthcare', fit: 0.6, word: 'Health' },
  { name: 'Logistics', fit: 0.6, word: 'Logistics' },
  { name: 'Media', fit: 0.55, word: 'Media' },
  { name: 'Education', fit: 0.3, word: 'Learning' },
  { name: 'Public Sector', fit: 0.25, word: 'Services' },
];

interface Country {
  code: string;
  currency: string;
  legalForm: string;
  fit: number;
  weight: number;
}
const COUNTRIES: readonly Country[] = [
  { code: 'DE', currency: 'EUR', legalForm: 'GmbH', fit: 1, weight: 20 },
  { code: 'US', currency: 'USD', legalForm: 'Inc.', fit: 0.95, weight: 24 },
  { code: 'GB', currency: 'GBP', legalForm: 'Ltd', fit: 0.9, weight: 10 },
  { code: 'FR', currency: 'EUR', legalForm: 'SAS', fit: 0.8, weight: 8 },
  { code: 'NL', currency: 'EUR', legalForm: 'B.V.', fit: 0.9, weight: 6 },
  { code: 'AT', currency: 'EUR', legalForm: 'GmbH', fit: 0.9, weight: 4 },
  { code: 'CH', currency: 'EUR', legalForm: 'AG', fit: 0.9, weight: 4 },
  { code: 'SE', currency: 'EUR', legalForm: 'AB', fit: 0.8, weight: 3 },
  { code: 'ES', currency: 'EUR', legalForm: 'S.L.', fit: 0.6, weight: 5 },
  { code: 'IT', currency: 'EUR', legalForm: 'S.r.l.', fit: 0.6, weight: 5 },
  { code: 'PL', currency: 'EUR', legalForm: 'sp. z o.o.', fit: 0.55, weight: 4 },
  { code: 'CA', currency: 'USD', legalForm: 'Inc.', fit: 0.85, weight: 4 },
  { code: 'IN', currency: 'USD', legalForm: 'Pvt Ltd', fit: 0.4, weight: 3 },
];
const COUNTRY_TOTAL = COUNTRIES.reduce((sum, c) => sum + c.weight, 0);

/** Employees: most companies are small; a long tail of large ones is where enterprise deals come from. */
const SIZE_BANDS: readonly (readonly [number, number, number])[] = [
  // [share in 1000, min, max]
  [300, 5, 49],
  [300, 50, 249],
  [200, 250, 999],
  [120, 1_000, 4_999],
  [80, 5_000, 60_000],
];

const NAME_HEADS = ['Nor', 'Vel', 'Astr', 'Quin', 'Bryn', 'Cor', 'Lum', 'Zen', 'Kai', 'Tor', 'Mar', 'Sol', 'Hal', 'Fen', 'Ori', 'Pax', 'Rhe', 'Sen', 'Tal', 'Ul', 'Vor', 'Wel', 'Yar', 'Eld'];
const NAME_MIDS = ['', 'a', 'en', 'ar', 'il', 'o'];
const NAME_TAILS = ['vik', 'ora', 'ex', 'ium', 'by', 'dal', 'ent', 'is', 'ano', 'ford', 'mark', 'stead', 'wick', 'ion', 'ara', 'holm'];

/** How well a company size matches the ideal customer profile, 0..1. */
export function sizeFit(employees: number): number {
  return employees < 50 ? 0.45 : employees < 250 ? 0.75 : employees < 1000 ? 0.9 : 1;
}

/** Companies leads work for. A company is a pure function of (seed, index); pick an index to pick a company. */
export const COMPANY_POOL = 60_000;

export interface Company {
  index: number;
  name: string;
  domain: string;
  industry: string;
  industryFit: number;
  employees: number;
  country: string;
  currency: string;
  countryFit: number;
}

export function companyAt(seed: number, index: number): Company {
  const h1 = hash32(seed, index * 4 + 1);
  const h2 = hash32(seed, index * 4 + 2);
  const h3 = hash32(seed, index * 4 + 3);
  const stem = (NAME_HEADS[h1 % NAME_HEADS.length] as string) + (NAME_MIDS[(h2 >>> 20) % NAME_MIDS.length] as string) + (NAME_TAILS[(h1 >>> 8) % NAME_TAILS.length] as string);
  const industry = INDUSTRIES[(h1 >>> 16) % INDUSTRIES.length] as Industry;
  let pick = h2 % COUNTRY_TOTAL;
  let country = COUNTRIES[0] as Country;
  for (const c of COUNTRIES) {
    if (pick < c.weight) {
      country = c;
      break;
    }
    pick -= c.weight;
  }
  let bandPick = h3 % 1000;
  let employees = 10;
  for (const [share, min, max] of SIZE_BANDS) {
    if (bandPick < share) {
      employees = min + ((h3 >>> 10) % (max - min + 1));
      break;
    }
    bandPick -= share;
  }
  // names repeat now and then across the pool, as real company names do; the account id tells them apart
  const name = `${stem} ${industry.word} ${country.legalForm}`;
  const domain = `${stem}${industry.word}.example`.toLowerCase();
  return { index, name, domain, industry: industry.name, industryFit: industry.fit, employees, country: country.code, currency: country.currency, countryFit: country.fit };
}

export const FIRST_NAMES = ['Anna', 'Ben', 'Clara', 'David', 'Elena', 'Felix', 'Grace', 'Hannah', 'Ivan', 'Julia', 'Karim', 'Lena', 'Marco', 'Nina', 'Oliver', 'Priya', 'Quentin', 'Rosa', 'Sven', 'Tara', 'Umar', 'Vera', 'William', 'Yuki', 'Zoe', 'Lukas', 'Sofia', 'Jonas', 'Mia', 'Noah'];
export const LAST_NAMES = ['Schmidt', 'Miller', 'Dubois', 'Jansen', 'Rossi', 'Garcia', 'Novak', 'Berg', 'Kowalski', 'Smith', 'Patel', 'Weber', 'Fischer', 'Brown', 'Lindqvist', 'Moreau', 'Huber', 'Keller', 'Nguyen', 'Okafor'];
