import type { SluiceEvent } from '@sluice/schemas';
import { describe, expect, it } from 'vitest';
import { DEMO_OPPORTUNITY_STAGES } from './config.js';
import { generateDemoEvents } from './generate.js';
import { BUYING_GROUP_SOURCE } from './opportunity.js';

/** Map.groupBy, which Node 20 lacks. */
function groupBy<T, K>(items: readonly T[], key: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = groups.get(k);
    if (list === undefined) groups.set(k, [item]);
    else list.push(item);
  }
  return groups;
}

const events = [...generateDemoEvents({ seed: 11, leads: 1_500, start: '2025-01-01', months: 18, end: '2026-05-20T12:00:00+02:00', timeZone: 'Europe/Berlin' })];
const opportunityEvents = events.filter((e) => e.type.startsWith('opportunity_'));
const propsOf = (e: SluiceEvent) => e.properties as Record<string, unknown>;
const byOpportunity = groupBy(opportunityEvents, (e) => propsOf(e).opportunityId as string);
const created = opportunityEvents.filter((e) => e.type === 'opportunity_created');

describe('the demo accounts and their opportunities', () => {
  it('given a demo, then accounts have one to three opportunities each, and every opportunity starts with its creation', () => {
    expect(created.length).toBeGreaterThan(100);
    const perAccount = groupBy(created, (e) => e.accountId!);
    const counts = [...perAccount.values()].map((list) => list.length);
    expect(Math.min(...counts)).toBe(1);
    expect(Math.max(...counts)).toBe(3);
    for (const list of byOpportunity.values()) expect(list[0]!.type).toBe('opportunity_created');
  });

  it('given the first opportunity of an account, then a buying group of 2 to 6 contacts, the added ones identified as buying-group contacts of the account', () => {
    const firsts = [...groupBy(created, (e) => e.accountId!).values()].map((list) => propsOf(list[0]!).opportunityId as string);
    const sizes = firsts.map((id) => new Set(byOpportunity.get(id)!.filter((e) => e.type === 'opportunity_contact_added').map((e) => propsOf(e).leadId)).size);
    // a group can be cut short by the end of the demo
    expect(Math.max(...sizes)).toBe(6);
    expect(sizes.filter((n) => n >= 2).length / sizes.length).toBeGreaterThan(0.9);
    const contacts = events.filter((e) => e.type === 'identify' && propsOf(e).leadSource === BUYING_GROUP_SOURCE);
    expect(contacts.length).toBeGreaterThan(created.length);
    for (const c of contacts.slice(0, 50)) expect(c.accountId).toMatch(/^demo-11-acct-/);
  });

  it('given the opportunities, then stage changes through the demo model, pushes, amount changes, owner changes, wins with amounts and losses with reasons, in several currencies', () => {
    const types = groupBy(opportunityEvents, (e) => e.type);
    for (const t of ['opportunity_stage_changed', 'opportunity_close_date_changed', 'opportunity_amount_changed', 'opportunity_owner_changed', 'opportunity_won', 'opportunity_lost']) {
      expect(types.get(t as SluiceEvent['type'])?.length ?? 0, t).toBeGreaterThan(5);
    }
    const stages = new Set(opportunityEvents.filter((e) => e.type === 'opportunity_stage_changed' || e.type === 'opportunity_created').map((e) => propsOf(e).stage));
    expect([...stages].sort()).toEqual(DEMO_OPPORTUNITY_STAGES.map((s) => s.id).sort());
    expect(new Set(types.get('opportunity_lost')!.map((e) => propsOf(e).reason)).size).toBeGreaterThan(3);
    expect([...new Set(created.map((e) => propsOf(e).currency))].sort()).toEqual(['EUR', 'GBP', 'USD']);
    // every push moves the close date later than it was
    for (const list of byOpportunity.values()) {
      let close = Date.parse(propsOf(list[0]!).closeDate as string);
      for (const e of list.filter((x) => x.type === 'opportunity_close_date_changed')) {
        const next = Date.parse(propsOf(e).closeDate as string);
        expect(next).toBeGreaterThan(close);
        close = next;
      }
    }
  });

  it('given an end, then no opportunity event after it', () => {
    const end = Date.parse('2026-05-20T12:00:00+02:00');
    expect(opportunityEvents.filter((e) => Date.parse(e.occurredAt) >= end)).toEqual([]);
    // deals still open at the end: created, neither won nor lost
    const open = [...byOpportunity.values()].filter((list) => !list.some((e) => e.type === 'opportunity_won' || e.type === 'opportunity_lost'));
    expect(open.length).toBeGreaterThan(0);
  });
});
