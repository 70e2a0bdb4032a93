import type { SluiceEvent } from '@sluice/schemas';
import { isFunnelLead } from './opportunity.js';

export interface ObservedFunnel {
  visitors: number;
  leads: number;
  mqls: number;
  sqls: number;
  customers: number;
  disqualified: number;
  visitToLead: number;
  leadToMql: number;
  leadDisqualified: number;
  mqlToSql: number;
  sqlToCustomer: number;
}

interface LeadFacts {
  mql: boolean;
  emailClicks: number;
  sql: boolean;
  customer: boolean;
  disqualified: boolean;
}

/**
 * Measures a demo's funnel from its events the way an analyst would, for a
 * cohort: visitors first seen, and leads identified (buying-group contacts
 * sales added to a deal left out), before `cohortEnd`
 * (later cohorts have not had the time to convert yet). A lead counts as MQL
 * on the behaviour the demo's MQL-like leads show: a demo request, a webinar
 * attended, a pricing page viewed as a known lead, or two e-mail clicks.
 * Holds per-person state: for tests and checks, not for huge data sets.
 */
export function observeFunnel(events: Iterable<SluiceEvent>, cohortEnd: number): ObservedFunnel {
  const firstSeen = new Map<string, number>();
  const linked = new Set<string>();
  const identifiedAt = new Map<string, number>();
  const leads = new Map<string, LeadFacts>();
  const factsOf = (leadId: string) => {
    let facts = leads.get(leadId);
    if (facts === undefined) {
      facts = { mql: false, emailClicks: 0, sql: false, customer: false, disqualified: false };
      leads.set(leadId, facts);
    }
    return facts;
  };
  for (const event of events) {
    if (event.anonymousId !== undefined) {
      if (!firstSeen.has(event.anonymousId)) firstSeen.set(event.anonymousId, Date.parse(event.occurredAt));
      if (event.leadId !== undefined) linked.add(event.anonymousId);
    }
    if (event.leadId === undefined) continue;
    const facts = factsOf(event.leadId);
    switch (event.type) {
      case 'identify':
        // contacts sales adds to a deal's buying group never entered the funnel: not leads of its cohort
        if (isFunnelLead(event) && !identifiedAt.has(event.leadId)) identifiedAt.set(event.leadId, Date.parse(event.occurredAt));
        break;
      case 'demo_requested':
      case 'webinar_attended':
        facts.mql = true;
        break;
      case 'page_view':
        if (event.properties.pageType === 'pricing') facts.mql = true;
        break;
      case 'email_click':
        facts.emailClicks += 1;
        if (facts.emailClicks >= 2) facts.mql = true;
        break;
      case 'sales_accepted':
        facts.sql = true;
        break;
      case 'payment':
        facts.customer = true;
        break;
      case 'disqualified':
        facts.disqualified = true;
        break;
    }
  }
  let visitors = 0;
  let convertedVisitors = 0;
  for (const [anonymousId, at] of firstSeen) {
    if (at >= cohortEnd) continue;
    visitors += 1;
    if (linked.has(anonymousId)) convertedVisitors += 1;
  }
  let leadCount = 0;
  let mqls = 0;
  let sqls = 0;
  let mqlSqls = 0;
  let customers = 0;
  let disqualified = 0;
  for (const [leadId, at] of identifiedAt) {
    if (at >= cohortEnd) continue;
    const facts = factsOf(leadId);
    leadCount += 1;
    if (facts.mql) mqls += 1;
    if (facts.sql) sqls += 1;
    if (facts.sql && facts.mql) mqlSqls += 1;
    if (facts.sql && facts.customer) customers += 1;
    if (facts.disqualified) disqualified += 1;
  }
  return {
    visitors,
    leads: leadCount,
    mqls,
    sqls,
    customers,
    disqualified,
    visitToLead: convertedVisitors / visitors,
    leadToMql: mqls / leadCount,
    leadDisqualified: disqualified / leadCount,
    mqlToSql: mqlSqls / mqls,
    sqlToCustomer: customers / sqls,
  };
}
