import type { SluiceEvent } from '@sluice/schemas';
import { describe, expect, it } from 'vitest';
import { DEMO_FUNNEL_TARGETS } from './funnel.js';
import { generateDemoEvents } from './generate.js';
import { observeFunnel, type ObservedFunnel } from './observed-funnel.js';

/**
 * One pass over a demo of 6,000 leads (about 240,000 visitor journeys,
 * three years): funnel rates on the cohort of the first two years (later
 * cohorts have not finished converting), and the shape of the data
 * collected alongside, so nothing has to be held in memory.
 */
interface Shape {
  events: number;
  anonymousOnly: number;
  channels: Set<string>;
  campaigns: Set<string>;
  pricingViews: number;
  currencies: Set<string>;
  businessUnitOf: Map<string, string>;
  quotesByUnit: Map<string, number[]>;
  lostReasons: Set<string>;
  disqualifyReasons: Set<string>;
  identifiedAt: Map<string, number>;
  firstCallAfterIdentify: number[];
  callsPerLead: Map<string, number>;
  bantAnswers: number;
  referredLeads: Set<string>;
  renewals: number;
  upsells: number;
}

function* recordShape(events: Iterable<SluiceEvent>, shape: Shape): Generator<SluiceEvent> {
  for (const e of events) {
    shape.events += 1;
    if (e.leadId === undefined) shape.anonymousOnly += 1;
    if (e.channel !== undefined) shape.channels.add(e.channel);
    if (e.campaign !== undefined) shape.campaigns.add(e.campaign);
    switch (e.type) {
      case 'page_view':
        if (e.properties.pageType === 'pricing') shape.pricingViews += 1;
        break;
      case 'identify':
        shape.identifiedAt.set(e.leadId!, Date.parse(e.occurredAt));
        if (e.properties.businessUnit !== undefined) shape.businessUnitOf.set(e.leadId!, e.properties.businessUnit);
        break;
      case 'quote': {
        shape.currencies.add(e.properties.currency);
        const unit = shape.businessUnitOf.get(e.leadId!) ?? '?';
        const quotes = shape.quotesByUnit.get(unit) ?? [];
        quotes.push(e.properties.amount);
        shape.quotesByUnit.set(unit, quotes);
        break;
      }
      case 'call': {
        const calls = shape.callsPerLead.get(e.leadId!) ?? 0;
        if (calls === 0) shape.firstCallAfterIdentify.push(Date.parse(e.occurredAt) - (shape.identifiedAt.get(e.leadId!) ?? NaN));
        shape.callsPerLead.set(e.leadId!, calls + 1);
        if (e.properties.bant !== undefined) shape.bantAnswers += 1;
        break;
      }
      case 'deal_lost':
        shape.lostReasons.add(e.properties.reason);
        break;
      case 'disqualified':
        shape.disqualifyReasons.add(e.properties.reason);
        break;
      case 'referral':
        if (e.properties.referredLeadId !== undefined) shape.referredLeads.add(e.properties.referredLeadId);
        break;
      case 'renewal':
        shape.renewals += 1;
        break;
      case 'upsell':
        shape.upsells += 1;
        break;
    }
    yield e;
  }
}

const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;

describe('demo funnel realism', () => {
  const shape: Shape = {
    events: 0,
    anonymousOnly: 0,
    channels: new Set(),
    campaigns: new Set(),
    pricingViews: 0,
    currencies: new Set(),
    businessUnitOf: new Map(),
    quotesByUnit: new Map(),
    lostReasons: new Set(),
    disqualifyReasons: new Set(),
    identifiedAt: new Map(),
    firstCallAfterIdentify: [],
    callsPerLead: new Map(),
    bantAnswers: 0,
    referredLeads: new Set(),
    renewals: 0,
    upsells: 0,
  };
  let funnel: ObservedFunnel;

  it('given 6,000 leads over three years, the two-year cohort converts at the literature rates', () => {
    const events = generateDemoEvents({ seed: 2026, leads: 6_000, start: '2023-01-01', months: 36, timeZone: 'Europe/Berlin' });
    funnel = observeFunnel(recordShape(events, shape), Date.parse('2025-01-01T00:00:00+01:00'));
    console.log('demo funnel (seed 2026):', JSON.stringify(funnel));
    expect(funnel.leads).toBeGreaterThan(3_500);
    expect(funnel.visitToLead).toBeGreaterThan(DEMO_FUNNEL_TARGETS.visitToLead - 0.005); // 2-3%
    expect(funnel.visitToLead).toBeLessThan(DEMO_FUNNEL_TARGETS.visitToLead + 0.005);
    expect(funnel.leadToMql).toBeGreaterThan(0.25); // 25-35%
    expect(funnel.leadToMql).toBeLessThan(0.35);
    expect(funnel.leadDisqualified).toBeGreaterThan(0.1); // 10-20%
    expect(funnel.leadDisqualified).toBeLessThan(0.2);
    expect(funnel.mqlToSql).toBeGreaterThan(0.34); // ~40%
    expect(funnel.mqlToSql).toBeLessThan(0.46);
    expect(funnel.sqlToCustomer).toBeGreaterThan(0.2); // 20-30%
    expect(funnel.sqlToCustomer).toBeLessThan(0.3);
  });

  it('is mostly anonymous traffic from several channels and campaigns, with pricing views', () => {
    expect(shape.anonymousOnly / shape.events).toBeGreaterThan(0.85);
    for (const channel of ['paid_search', 'organic_search', 'social', 'referral', 'events', 'partner', 'outbound']) expect(shape.channels).toContain(channel);
    expect(shape.campaigns.size).toBeGreaterThan(30);
    expect(shape.pricingViews).toBeGreaterThan(1_000);
  });

  it('varies speed to lead from minutes to days, with several call attempts and BANT answers', () => {
    const delays = shape.firstCallAfterIdentify.filter((d) => !Number.isNaN(d));
    expect(Math.min(...delays)).toBeLessThan(15 * 60_000);
    expect(Math.max(...delays)).toBeGreaterThan(3 * 24 * 3_600_000);
    expect(Math.max(...shape.callsPerLead.values())).toBeGreaterThanOrEqual(4);
    expect(shape.bantAnswers).toBeGreaterThan(500);
  });

  it('sizes deals by business unit, in EUR, USD and GBP; loses and disqualifies with reasons', () => {
    const smb = median(shape.quotesByUnit.get('smb') ?? []);
    const partners = median(shape.quotesByUnit.get('partners') ?? []);
    const enterprise = median(shape.quotesByUnit.get('enterprise') ?? []);
    expect(smb).toBeLessThan(partners);
    expect(partners).toBeLessThan(enterprise);
    expect(shape.currencies).toEqual(new Set(['EUR', 'USD', 'GBP']));
    expect(shape.lostReasons.size).toBeGreaterThanOrEqual(5);
    for (const reason of ['spam', 'no_fit', 'no_response', 'no_budget']) expect(shape.disqualifyReasons).toContain(reason);
  });

  it('has customers who renew, buy more and refer leads who then identify', () => {
    expect(shape.renewals).toBeGreaterThan(20);
    expect(shape.upsells).toBeGreaterThan(10);
    const referredAndIdentified = [...shape.referredLeads].filter((id) => shape.identifiedAt.has(id));
    expect(referredAndIdentified.length).toBeGreaterThan(10);
  });
});
