import { instantOf } from '@sluice/domain';
import type { EventOf, EventType, ForecastCategory, OpportunityModel, SluiceEvent } from '@sluice/schemas';
import { OPPORTUNITY_TYPES } from '@sluice/schemas';

/**
 * One opportunity's state, folded from its events.
 *
 * Ordering (as packages/domain does for a lead): an opportunity's events are
 * folded sorted by (occurredAt, event id), so the state never depends on the
 * order they arrived in; a repeated event id counts once (at-least-once
 * delivery). Event time only: no clock.
 * - The opportunity exists from its `opportunity_created`. Its other events
 *   that sort before the creation are facts about a deal not yet open and
 *   change nothing (as a CRM could not have changed a deal it had not made).
 *   Events of an opportunity that was never created make no opportunity.
 * - Won and lost are final: later events of a closed deal change nothing.
 * - Winning moves the close date to the instant it was won, as CRMs do (a
 *   deal won early was pulled in); losing leaves it, so a deal lost for next
 *   quarter never enters this quarter's waterfall.
 * - The account is the one the creation names. Accounts need no
 *   registration: an account no lead names is an account all the same, as a
 *   lead no one announced is a lead from its first event.
 * - A stage the model does not list is kept as sent (so it shows), with
 *   probability 0 (unless the event gives one) and category omitted.
 */
export interface OpportunityState {
  opportunityId: string;
  accountId: string;
  name: string | undefined;
  status: 'open' | 'won' | 'lost';
  stage: string;
  /** when it entered its stage (epoch ms): age in stage counts from here */
  stageEnteredAtMs: number;
  /** win probability frozen at stage entry: the event's, or the model's for the stage then */
  probability: number;
  amount: number;
  currency: string;
  closeDateMs: number;
  ownerId: string | undefined;
  businessUnit: string | undefined;
  segment: string | undefined;
  createdAtMs: number;
  closedAtMs: number | undefined;
  lostReason: string | undefined;
  contacts: ReadonlyArray<{ leadId: string; role: string }>;
}

export type OpportunityEvent = EventOf<Extract<EventType, `opportunity_${string}`>>;
/** An opportunity event with its instant parsed once. */
export interface TimedOpportunityEvent {
  atMs: number;
  event: OpportunityEvent;
}

export const isOpportunityEvent = (e: SluiceEvent): e is OpportunityEvent => OPPORTUNITY_TYPES.has(e.type);

/**
 * Every opportunity's events from a stream of events (others are passed
 * over), each list sorted by (occurredAt, id) with repeated ids dropped.
 */
export function opportunityHistories(events: Iterable<SluiceEvent>): Map<string, TimedOpportunityEvent[]> {
  const byOpportunity = new Map<string, TimedOpportunityEvent[]>();
  const seen = new Set<string>();
  for (const event of events) {
    if (!isOpportunityEvent(event) || seen.has(event.id)) continue;
    seen.add(event.id);
    const id = event.properties.opportunityId;
    let list = byOpportunity.get(id);
    if (list === undefined) byOpportunity.set(id, (list = []));
    list.push({ atMs: instantOf(event.occurredAt), event });
  }
  for (const list of byOpportunity.values()) list.sort(byTimeThenId);
  return byOpportunity;
}

const byTimeThenId = (a: TimedOpportunityEvent, b: TimedOpportunityEvent) => a.atMs - b.atMs || (a.event.id < b.event.id ? -1 : a.event.id > b.event.id ? 1 : 0);

/** The model's reading of a stage: its probability and forecast category. */
export function stageTerms(model: OpportunityModel, stage: string): { probability: number; category: ForecastCategory; known: boolean } {
  const s = model.stages.find((x) => x.id === stage);
  return s === undefined ? { probability: 0, category: 'omitted', known: false } : { probability: s.probability, category: s.category, known: true };
}

/** The forecast category a state counts in: closed when won, omitted when lost, else its stage's. */
export function categoryOf(state: OpportunityState, model: OpportunityModel): ForecastCategory {
  if (state.status === 'won') return 'closed';
  if (state.status === 'lost') return 'omitted';
  return stageTerms(model, state.stage).category;
}

/**
 * The states one event passes the opportunity through, the last being the
 * result; empty when it changes nothing. Winning is up to three steps (the
 * close date moves to the win, the amount becomes the signed amount, the
 * deal closes), so the waterfall can see a deal pulled in, resized and won
 * by the same event.
 */
export function stepsOf(state: OpportunityState | undefined, { atMs, event }: TimedOpportunityEvent, model: OpportunityModel): OpportunityState[] {
  if (event.type === 'opportunity_created') {
    if (state !== undefined) return []; // a second creation of the same deal: the first stands
    const p = event.properties;
    return [
      {
        opportunityId: p.opportunityId,
        accountId: event.accountId ?? '',
        name: p.name,
        status: 'open',
        stage: p.stage,
        stageEnteredAtMs: atMs,
        probability: p.probability ?? stageTerms(model, p.stage).probability,
        amount: p.amount,
        currency: p.currency,
        closeDateMs: instantOf(p.closeDate),
        ownerId: p.ownerId,
        businessUnit: p.businessUnit,
        segment: p.segment,
        createdAtMs: atMs,
        closedAtMs: undefined,
        lostReason: undefined,
        contacts: [],
      },
    ];
  }
  if (state === undefined || state.status !== 'open') return [];
  switch (event.type) {
    case 'opportunity_stage_changed': {
      const p = event.properties;
      if (p.stage === state.stage) return p.probability === undefined ? [] : [{ ...state, probability: p.probability }];
      return [{ ...state, stage: p.stage, stageEnteredAtMs: atMs, probability: p.probability ?? stageTerms(model, p.stage).probability }];
    }
    case 'opportunity_amount_changed':
      return [{ ...state, amount: event.properties.amount, currency: event.properties.currency }];
    case 'opportunity_close_date_changed':
      return [{ ...state, closeDateMs: instantOf(event.properties.closeDate) }];
    case 'opportunity_owner_changed':
      return [{ ...state, ownerId: event.properties.ownerId }];
    case 'opportunity_contact_added': {
      const { leadId, role } = event.properties;
      return [{ ...state, contacts: [...state.contacts.filter((c) => c.leadId !== leadId), { leadId, role }] }];
    }
    case 'opportunity_won': {
      const { amount, currency } = event.properties;
      const closing = { ...state, closeDateMs: atMs };
      const signed = amount !== undefined && currency !== undefined && (amount !== state.amount || currency !== state.currency) ? [{ ...closing, amount, currency }] : [];
      return [closing, ...signed, { ...(signed[0] ?? closing), status: 'won', closedAtMs: atMs }];
    }
    case 'opportunity_lost':
      return [{ ...state, status: 'lost', closedAtMs: atMs, lostReason: event.properties.reason }];
  }
}

/** One opportunity as of `beforeMs`: the fold of its events that occurred before that instant (undefined: not created by then). */
export function opportunityAsOf(history: readonly TimedOpportunityEvent[], beforeMs: number, model: OpportunityModel): OpportunityState | undefined {
  let state: OpportunityState | undefined;
  for (const e of history) {
    if (e.atMs >= beforeMs) break;
    const steps = stepsOf(state, e, model);
    if (steps.length > 0) state = steps[steps.length - 1];
  }
  return state;
}
