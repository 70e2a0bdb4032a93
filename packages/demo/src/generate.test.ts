import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { parseEvent, type SluiceEvent } from '@sluice/schemas';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { describeDemo, generateDemoEvents, type DemoOptions } from './generate.js';
import { isFunnelLead } from './opportunity.js';

const base: DemoOptions = { seed: 7, start: '2025-01-01', months: 12, timeZone: 'Europe/Berlin' };
const take = (options: DemoOptions) => [...generateDemoEvents(options)];
const digest = (events: Iterable<SluiceEvent>) => {
  const hash = createHash('sha256');
  for (const event of events) hash.update(JSON.stringify(event) + '\n');
  return hash.digest('hex');
};

describe('generateDemoEvents: validity', () => {
  it('given a few thousand anonymous and lead events, every one passes parseEvent unchanged', () => {
    const events = take({ ...base, targetEvents: 5_000 });
    // lead events are rarer: add every lead event of a lead-heavy run, so decisions, deals and renewals are covered
    const leadEvents = take({ ...base, seed: 8, leads: 800 }).filter((e) => e.leadId !== undefined);
    const problems: string[] = [];
    for (const event of [...events, ...leadEvents]) {
      const parsed = parseEvent(JSON.parse(JSON.stringify(event)));
      if (!parsed.ok) problems.push(`${event.id} ${event.type}: ${JSON.stringify(parsed.issues)}`);
      else if (!isDeepStrictEqual(parsed.event, event)) problems.push(`${event.id} changed by parsing`);
    }
    expect(problems.slice(0, 5)).toEqual([]);
    expect(events.length + leadEvents.length).toBeGreaterThan(10_000);
  });

  it('writes every touchpoint, profile and decision type producers send', () => {
    const types = new Set(take({ ...base, leads: 2_000, months: 24 }).map((e) => e.type));
    expect([...types].sort()).toEqual(
      [
        'ad_click', 'call', 'content_download', 'deal_lost', 'demo_held', 'demo_no_show', 'demo_requested', 'demo_scheduled',
        'disqualified', 'email_click', 'email_open', 'form_submit', 'identify', 'invoice', 'meeting', 'owner_assigned', 'page_view',
        'payment', 'poc_started', 'quote', 'quote_accepted', 'referral', 'renewal', 'sales_accepted', 'social_follow', 'trial_started',
        'unsubscribe', 'upsell', 'visit', 'webinar_attended', 'webinar_registered',
        'opportunity_created', 'opportunity_stage_changed', 'opportunity_amount_changed', 'opportunity_close_date_changed',
        'opportunity_owner_changed', 'opportunity_contact_added', 'opportunity_won', 'opportunity_lost',
      ].sort(),
    );
  });

  it('gives every event a unique id demo-<seed>-<n>, numbered in the order written', () => {
    const events = take({ ...base, seed: 31, targetEvents: 3_000 });
    expect(events.map((e) => e.id)).toEqual(events.map((_, i) => `demo-31-${i + 1}`));
  });
});

describe('generateDemoEvents: determinism', () => {
  it('given the same options twice, writes byte-identical output', () => {
    const options = { ...base, leads: 150 };
    expect(digest(generateDemoEvents(options))).toBe(digest(generateDemoEvents(options)));
  });

  it('given another seed, writes different events and different ids', () => {
    const a = take({ ...base, targetEvents: 500 });
    const b = take({ ...base, seed: 8, targetEvents: 500 });
    expect(digest(a)).not.toBe(digest(b));
    expect(a[0]?.id).toBe('demo-7-1');
    expect(b[0]?.id).toBe('demo-8-1');
  });

  it('given a bigger size with the same seed, the smaller demo is a prefix of it (re-running appends, same ids)', () => {
    const small = take({ ...base, targetEvents: 2_000 });
    const big = take({ ...base, targetEvents: 4_000 });
    expect(digest(big.slice(0, 2_000))).toBe(digest(small));
  });
});

describe('generateDemoEvents: size', () => {
  it('given targetEvents, writes exactly that many events', () => {
    expect(take({ ...base, targetEvents: 1_234 })).toHaveLength(1_234);
  });

  it('given leads, stops after the journey in which that many leads identified (buying-group contacts sales adds are not counted)', () => {
    const events = take({ ...base, leads: 120 });
    const identifies = events.filter(isFunnelLead).length;
    expect(identifies).toBeGreaterThanOrEqual(120);
    expect(identifies).toBeLessThanOrEqual(121);
    expect(events.at(-1)?.leadId ?? events.at(-1)?.anonymousId ?? events.at(-1)?.accountId).toBeDefined();
  });

  it('describes small demos exactly and big ones within a few percent', () => {
    const small = { ...base, leads: 200 };
    const events = take(small);
    expect(describeDemo(small)).toEqual({ events: events.length, leads: events.filter(isFunnelLead).length, exact: true });
    const big = { ...base, leads: 1_500 };
    const estimate = describeDemo(big);
    const actual = take(big).length;
    expect(estimate.exact).toBe(false);
    expect(estimate.leads).toBe(1_500);
    expect(Math.abs(estimate.events - actual) / actual).toBeLessThan(0.1);
    expect(describeDemo({ ...base, targetEvents: 250_000 })).toMatchObject({ events: 250_000, exact: false });
  });

  it('checks options when called, before the first event', () => {
    expect(() => generateDemoEvents({ ...base, leads: 10, targetEvents: 10 })).toThrow(/not both/);
    expect(() => generateDemoEvents({ ...base, leads: 0 })).toThrow(/leads must be a positive integer/);
    expect(() => generateDemoEvents({ ...base, seed: 1.5 })).toThrow(/seed must be an integer/);
    expect(() => generateDemoEvents({ ...base, timeZone: 'Mars/Olympus' })).toThrow(/unknown time zone/);
    expect(() => describeDemo({ ...base, start: 'soon' })).toThrow(/start must be an ISO date/);
  });
});

describe('generateDemoEvents: time', () => {
  const zone = 'Europe/Berlin';
  const march = take({ seed: 3, start: '2026-03-01', months: 1, timeZone: zone, leads: 100 });

  it('given Europe/Berlin in March 2026, every occurredAt carries the zone offset of its instant (+01:00 before the 29th, +02:00 after)', () => {
    const wrong = march.filter((e) => {
      const at = DateTime.fromISO(e.occurredAt, { setZone: true });
      return at.offset !== DateTime.fromMillis(at.toMillis(), { zone }).offset;
    });
    expect(wrong.map((e) => e.occurredAt).slice(0, 5)).toEqual([]);
    const offsets = new Set(march.map((e) => e.occurredAt.slice(19)));
    expect([...offsets].sort()).toEqual(['+01:00', '+02:00']);
    const dstChange = Date.parse('2026-03-29T01:00:00Z');
    const misplaced = march.filter((e) => e.occurredAt.slice(19) !== (Date.parse(e.occurredAt) < dstChange ? '+01:00' : '+02:00'));
    expect(misplaced).toEqual([]);
  });

  it('keeps all events inside the window and each journey in time order', () => {
    const from = Date.parse('2026-03-01T00:00:00+01:00');
    const to = Date.parse('2026-04-01T00:00:00+02:00');
    const lastOf = new Map<string, number>();
    let outOfOrder = 0;
    let outside = 0;
    for (const e of march) {
      const at = Date.parse(e.occurredAt);
      if (at < from || at >= to) outside += 1;
      // an opportunity's events are about its account: its own stream, its own order
      const key = e.leadId ?? e.anonymousId ?? (e.properties as { opportunityId: string }).opportunityId;
      if (at < (lastOf.get(key) ?? -Infinity)) outOfOrder += 1;
      lastOf.set(key, at);
    }
    expect(outside).toBe(0);
    expect(outOfOrder).toBe(0);
  });

  it('puts sales work (calls, acceptance, quotes) in working hours, Monday to Friday 08:00-18:00 local', () => {
    const sales = take({ ...base, leads: 600 }).filter((e) => ['call', 'sales_accepted', 'quote', 'quote_accepted', 'deal_lost'].includes(e.type));
    expect(sales.length).toBeGreaterThan(300);
    const outside = sales.filter((e) => {
      const local = DateTime.fromISO(e.occurredAt, { zone });
      return local.weekday > 5 || local.hour < 8 || local.hour >= 18;
    });
    expect(outside.map((e) => `${e.type} ${e.occurredAt}`).slice(0, 5)).toEqual([]);
  });

  it('given an end inside the window, nothing after it is written, the days before it are as busy as without the end, and the same end gives the same events', () => {
    const end = '2026-03-18T09:30:00+01:00';
    const cut = take({ seed: 3, start: '2026-03-01', months: 1, timeZone: zone, targetEvents: 8_000, end });
    expect(cut).toEqual(take({ seed: 3, start: '2026-03-01', months: 1, timeZone: zone, targetEvents: 8_000, end }));
    const last = Math.max(...cut.map((e) => Date.parse(e.occurredAt)));
    expect(last).toBeLessThan(Date.parse(end));
    // journeys start up to the end: its last whole day is visited
    expect(new Set(cut.map((e) => e.occurredAt.slice(0, 10)))).toContain('2026-03-17');
    expect(cut).toHaveLength(8_000);
  });

  it('given an end that is not an instant with an offset, or not after the start, then it is refused by name', () => {
    expect(() => generateDemoEvents({ ...base, end: '2026-03-18T09:30:00' })).toThrow(/end must be an ISO 8601 instant with an offset/);
    expect(() => generateDemoEvents({ ...base, end: '2024-12-31T23:00:00Z' })).toThrow(/end must be after its start/);
  });

  it('spreads history over the months of the window, in the configured zone', () => {
    const events = take({ seed: 9, start: '2025-06-01', months: 6, timeZone: 'America/New_York', targetEvents: 20_000 });
    const months = new Set(events.map((e) => e.occurredAt.slice(0, 7)));
    expect([...months].sort()).toEqual(['2025-06', '2025-07', '2025-08', '2025-09', '2025-10', '2025-11']);
    expect(new Set(events.map((e) => e.occurredAt.slice(19)))).toEqual(new Set(['-04:00', '-05:00']));
  });
});

describe('generateDemoEvents: identity', () => {
  const events = take({ ...base, seed: 12, leads: 300 });

  it('given converting visitors, their anonymous history comes first, the conversion carries both ids, and an identify follows', () => {
    const byAnonymous = new Map<string, SluiceEvent[]>();
    for (const e of events) {
      if (e.anonymousId === undefined) continue;
      const history = byAnonymous.get(e.anonymousId) ?? [];
      history.push(e);
      byAnonymous.set(e.anonymousId, history);
    }
    const identifiedAt = new Map<string, number>();
    for (const e of events) if (e.type === 'identify' && e.leadId !== undefined) identifiedAt.set(e.leadId, Date.parse(e.occurredAt));

    let stitched = 0;
    for (const history of byAnonymous.values()) {
      const linkIndex = history.findIndex((e) => e.leadId !== undefined);
      if (linkIndex < 0) continue;
      stitched += 1;
      const link = history[linkIndex]!;
      expect(linkIndex).toBeGreaterThan(0); // anonymous visits before
      expect(history.slice(0, linkIndex).every((e) => e.leadId === undefined)).toBe(true);
      expect(['form_submit', 'content_download', 'webinar_registered', 'demo_requested', 'visit']).toContain(link.type);
      if (link.type !== 'visit') {
        // the conversion: its lead identifies within seconds
        const identified = identifiedAt.get(link.leadId!);
        expect(identified).toBeDefined();
        expect(identified! - Date.parse(link.occurredAt)).toBeLessThan(60_000);
      }
    }
    expect(stitched).toBeGreaterThan(200);
    // most anonymous visitors never identify
    expect(stitched / byAnonymous.size).toBeLessThan(0.05);
  });

  it('keeps each lead\'s story in order: identified first, then assigned, called, accepted, demo, quote, won, paid', () => {
    const steps = ['identify', 'owner_assigned', 'call', 'sales_accepted', 'demo_scheduled', 'demo_held', 'quote', 'quote_accepted', 'invoice', 'payment'];
    const firstAt = new Map<string, Map<string, number>>();
    const problems: string[] = [];
    for (const e of events) {
      if (e.leadId === undefined) continue;
      const seen = firstAt.get(e.leadId) ?? new Map<string, number>();
      firstAt.set(e.leadId, seen);
      // nothing about a lead happens before its conversion or identify (a referral names the lead before it arrives)
      if (seen.size === 0 && !['identify', 'form_submit', 'content_download', 'webinar_registered', 'demo_requested'].includes(e.type)) problems.push(`${e.leadId} starts with ${e.type}`);
      if (!seen.has(e.type)) seen.set(e.type, Date.parse(e.occurredAt));
    }
    for (const [leadId, seen] of firstAt) {
      const present = steps.filter((s) => seen.has(s));
      for (let i = 1; i < present.length; i++) {
        if (seen.get(present[i]!)! < seen.get(present[i - 1]!)!) problems.push(`${leadId}: ${present[i]} before ${present[i - 1]}`);
      }
      const disqualified = seen.get('disqualified');
      if (disqualified !== undefined && disqualified < seen.get('identify')!) problems.push(`${leadId}: disqualified before identify`);
    }
    expect(problems.slice(0, 5)).toEqual([]);
  });

  it('identifies some leads on a second device later, through a visit carrying both ids', () => {
    const secondDevice = events.filter((e) => e.type === 'visit' && e.leadId !== undefined && e.anonymousId !== undefined);
    expect(secondDevice.length).toBeGreaterThan(10);
  });

  it('gives identify the profile facts fit scoring reads, in two to three business units', () => {
    const profiles = events.flatMap((e) => (e.type === 'identify' ? [e.properties] : []));
    const complete = profiles.filter((p) => p.title && p.role && p.company && p.industry && p.companySize && p.country && p.businessUnit && p.email);
    expect(complete.length / profiles.length).toBeGreaterThan(0.8);
    expect(new Set(profiles.map((p) => p.businessUnit).filter(Boolean))).toEqual(new Set(['smb', 'enterprise', 'partners']));
  });
});
