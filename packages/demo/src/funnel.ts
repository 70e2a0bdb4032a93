/**
 * The funnel the demo aims for: the practitioner literature's rates (see
 * docs/domain.md). The journey simulation is calibrated so that the events it
 * writes, measured the way an analyst would, land near these; the tests check
 * them within tolerance.
 */
export const DEMO_FUNNEL_TARGETS = {
  /** visitors who give contact details */
  visitToLead: 0.025,
  /** leads showing MQL behaviour (demo request, webinar attended, pricing viewed or two e-mail clicks as a known lead) */
  leadToMql: 0.3,
  /** leads disqualified by a sales decision (spam, no fit, no response, ...) */
  leadDisqualified: 0.15,
  /** MQLs accepted by sales (`sales_accepted`) */
  mqlToSql: 0.4,
  /** SQLs who pay */
  sqlToCustomer: 0.25,
} as const;

/** The knobs behind those rates; per-channel lead and junk rates live in the channel catalog. */
export const KNOBS = {
  /** Share of journeys that are outbound prospects (known from the start, no anonymous history): ~10% of leads. */
  outboundShare: 0.0025,
  /** Mean number of return sessions of an anonymous visitor. */
  returnSessionsMean: 0.55,
  /** Converting visitors who also browsed from a second device, identified later through an e-mail link. */
  secondDeviceRate: 0.15,
  /** Base chance of MQL behaviour by how the lead converted, times (0.5 + fit). */
  mqlBase: { form_submit: 0.4, content_download: 0.27, webinar_registered: 0.4, demo_requested: 1 },
  /** Non-MQL leads with fit below this are candidates for a no-fit disqualification. */
  noFitBelow: 0.15,
  noFitDisqualifyRate: 0.2,
  unsubscribeRate: 0.08,
  /** Speed to lead: share of MQLs followed up within minutes, within hours; the rest take days. */
  speedMinutes: 0.28,
  speedHours: 0.4,
  connectRate: { inbound: 0.4, demoRequest: 0.6, outbound: 0.22 },
  /** Chance a connected MQL is accepted: acceptScale x speed factor x (0.25 + BANT yes-share). */
  acceptScale: 0.85,
  unreachedDisqualifyRate: 0.3,
  rejectedDisqualifyRate: 0.2,
  demoNoShowRate: 0.15,
  /** Win chance per business unit, times (0.6 + 0.8 x fit). */
  winRate: { smb: 0.31, enterprise: 0.23, partners: 0.28 },
  upsellRate: 0.22,
  renewalRate: 0.85,
  referralRate: 0.15,
  /** Referred leads convert best. */
  referredBoost: 1.5,
} as const;
