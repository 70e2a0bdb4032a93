import type { SluiceEvent } from '@sluice/schemas';
import { RuleConfigSchema, parseEvent } from '@sluice/schemas';
import fc from 'fast-check';

/* Test-only: opportunity events written as a CRM would send them, and random streams of them. */

export const model = RuleConfigSchema.parse({ version: 't' }).opportunities;

const DAY = 86_400_000;
/** Midnight UTC of a 2026 date given as month and day. */
export const on = (month: number, day: number, hour = 0) => new Date(Date.UTC(2026, month - 1, day, hour)).toISOString();
export const ms = (iso: string) => Date.parse(iso);

let seq = 0;
/** An opportunity event of `account`, validated as the edge would. */
export function opp(type: string, occurredAt: string, properties: Record<string, unknown>, account = 'acme', id = `e${++seq}`): SluiceEvent {
  const parsed = parseEvent({ id, type, occurredAt, accountId: account, properties });
  if (!parsed.ok) throw new Error(`test event ${type} is invalid: ${JSON.stringify(parsed.issues)}`);
  return parsed.event;
}

/*
 * Random streams: a few opportunities over a short clock (ties are common),
 * every kind of event, stages the model has and one it does not, two
 * currencies, close dates inside and outside the test period, events before
 * their opportunity's creation, a second creation and repeated ids.
 */
export const T0 = Date.UTC(2026, 0, 1);
export const tickMs = (tick: number) => T0 + tick * DAY;
export const MAX_TICK = 40;

const stageArb = fc.constantFrom('discovery', 'qualification', 'proposal', 'negotiation', 'legal_review');
const moneyArb = fc.record({ amount: fc.integer({ min: 0, max: 1_000_000 }), currency: fc.constantFrom('EUR', 'USD') });
const tickArb = fc.integer({ min: 0, max: MAX_TICK });
const createdArb = fc.record({ kind: fc.constant('created' as const), tick: fc.integer({ min: 0, max: 25 }), stage: stageArb, money: moneyArb, close: tickArb, owner: fc.constantFrom(undefined, 'rep-1', 'rep-2'), segment: fc.constantFrom(undefined, 'smb', 'enterprise'), probability: fc.option(fc.constantFrom(0, 0.3, 1), { nil: undefined }) });
const changeArb = fc.oneof(
  fc.record({ kind: fc.constant('stage' as const), tick: tickArb, stage: stageArb, probability: fc.option(fc.constantFrom(0.05, 0.9), { nil: undefined }) }),
  fc.record({ kind: fc.constant('amount' as const), tick: tickArb, money: moneyArb }),
  fc.record({ kind: fc.constant('close' as const), tick: tickArb, close: tickArb }),
  fc.record({ kind: fc.constant('owner' as const), tick: tickArb, owner: fc.constantFrom('rep-1', 'rep-2', 'rep-3') }),
  fc.record({ kind: fc.constant('won' as const), tick: tickArb, money: fc.option(moneyArb, { nil: undefined }) }),
  fc.record({ kind: fc.constant('lost' as const), tick: tickArb }),
);
/** Mostly a creation (sometimes two, sometimes none) and changes at any tick, so some sort before the creation. */
const opportunityArb = fc.tuple(fc.oneof({ weight: 8, arbitrary: fc.array(createdArb, { minLength: 1, maxLength: 1 }) }, { weight: 1, arbitrary: fc.constant([]) }, { weight: 1, arbitrary: fc.array(createdArb, { minLength: 2, maxLength: 2 }) }), fc.array(changeArb, { maxLength: 10 }));
const eventArb = fc.oneof(createdArb, changeArb);

/** A random log: the events of up to six opportunities, interleaved in arrival order, with some ids sent twice. */
export const streamArb = fc
  .tuple(fc.array(fc.tuple(fc.integer({ min: 1, max: 6 }), opportunityArb), { minLength: 1, maxLength: 6 }), fc.array(fc.tuple(fc.integer({ min: 1, max: 6 }), eventArb), { maxLength: 4 }))
  .map(([opportunities, strays]) => [...opportunities.flatMap(([o, [created, changes]]) => [...created, ...changes].map((event) => ({ opportunity: o, event }))), ...strays.map(([opportunity, event]) => ({ opportunity, event }))])
  .chain((items) => fc.tuple(fc.shuffledSubarray(items, { minLength: items.length, maxLength: items.length }), fc.array(fc.boolean(), { minLength: items.length, maxLength: items.length })))
  .map(([items, resends]) => items.map((item, i) => ({ ...item, resend: resends[i] ?? false })))
  .map((items) => {
    const events: SluiceEvent[] = [];
    items.forEach(({ opportunity, event: e, resend }, i) => {
      const opportunityId = `o${opportunity}`;
      const at = new Date(tickMs(e.tick)).toISOString();
      const id = `r${i}`;
      const account = `acct-${opportunity % 3}`;
      let event: SluiceEvent;
      switch (e.kind) {
        case 'created':
          event = opp('opportunity_created', at, { opportunityId, stage: e.stage, ...e.money, closeDate: new Date(tickMs(e.close)).toISOString(), ...(e.owner ? { ownerId: e.owner } : {}), ...(e.segment ? { segment: e.segment } : {}), ...(e.probability === undefined ? {} : { probability: e.probability }) }, account, id);
          break;
        case 'stage':
          event = opp('opportunity_stage_changed', at, { opportunityId, stage: e.stage, ...(e.probability === undefined ? {} : { probability: e.probability }) }, account, id);
          break;
        case 'amount':
          event = opp('opportunity_amount_changed', at, { opportunityId, ...e.money }, account, id);
          break;
        case 'close':
          event = opp('opportunity_close_date_changed', at, { opportunityId, closeDate: new Date(tickMs(e.close)).toISOString() }, account, id);
          break;
        case 'owner':
          event = opp('opportunity_owner_changed', at, { opportunityId, ownerId: e.owner }, account, id);
          break;
        case 'won':
          event = opp('opportunity_won', at, { opportunityId, ...(e.money ?? {}) }, account, id);
          break;
        case 'lost':
          event = opp('opportunity_lost', at, { opportunityId, reason: 'price' }, account, id);
          break;
      }
      events.push(event);
      if (resend) events.push(event);
    });
    return events;
  });
