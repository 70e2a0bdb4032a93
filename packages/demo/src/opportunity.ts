import type { EventOf, EventType, SluiceEvent } from '@sluice/schemas';
import type { DEMO_OPPORTUNITY_STAGES } from './config.js';
import type { DemoContext } from './context.js';
import { FIRST_NAMES, LAST_NAMES, PERSONAS, companyAt } from './market.js';
import { type Lead, personAt } from './profile.js';
import { Prng, Weighted, hash32 } from './prng.js';
import { DEAL_SIZE, LOST_REASONS, REPS } from './sales-team.js';
import { DURATION } from './time.js';

type OpportunityType = Extract<EventType, `opportunity_${string}`>;
type BuyingRole = EventOf<'opportunity_contact_added'>['properties']['role'];
type LostReason = EventOf<'opportunity_lost'>['properties']['reason'];
type Stage = (typeof DEMO_OPPORTUNITY_STAGES)[number]['id'];

/** The lead source of contacts sales adds to a deal's buying group: they never entered the marketing funnel. */
export const BUYING_GROUP_SOURCE = 'buying_group';

/** A lead's identify, unless sales added the person to a deal's buying group: the leads the demo's size and funnel count. */
export const isFunnelLead = (event: SluiceEvent): boolean => event.type === 'identify' && event.properties.leadSource !== BUYING_GROUP_SOURCE;

/** The persona roles as buying-group roles (a technical buyer influences the decision). */
const ROLE_OF: Record<NonNullable<EventOf<'identify'>['properties']['role']>, BuyingRole> = {
  economic_buyer: 'economic_buyer',
  technical_buyer: 'influencer',
  user: 'user',
  influencer: 'influencer',
  champion: 'champion',
  other: 'other',
};
const ADDED_ROLES = new Weighted<BuyingRole>([['decision_maker', 3], ['economic_buyer', 2], ['influencer', 4], ['user', 4], ['champion', 1], ['other', 1]]);
const MAX_OPPORTUNITIES = 3;
const SEGMENTS: ReadonlyArray<readonly [number, string]> = [[1000, 'enterprise'], [200, 'mid_market'], [0, 'smb']];

/**
 * An account's opportunities, told beside the lead-level deal (runDeal): the
 * deal's opportunity follows its milestones (created at acceptance,
 * demo, proposal at the quote, negotiation at a revised quote, won at the
 * signature with the signed amount, lost with the deal's reason), its close
 * date pushed whenever a milestone comes after it; on the account's first
 * deal a buying group of 2-6 contacts joins it (the lead and colleagues sales
 * adds, who identify); after it closes the account may open another (an
 * expansion, or another try), each with its own stages, pushes and outcome,
 * up to three opportunities per account whichever of its leads reach sales.
 *
 * Draws come from a generator of the deal's own (seeded by the demo seed and
 * the lead), not the journey's: the rest of the demo is the same numbers it
 * was before accounts had opportunities. Events past the demo's end are
 * clipped by the writer like every other.
 */
export class AccountOpportunities {
  private readonly rng: Prng;
  private readonly accountId: string;
  private readonly contacts: Array<{ leadId: string; role: BuyingRole }> = [];
  private opportunityNo = 0;
  private current: OpenOpportunity | undefined;

  private constructor(
    private readonly ctx: DemoContext,
    private readonly lead: Lead,
    private readonly rep: string,
    accountId: string,
  ) {
    this.rng = new Prng(hash32(ctx.seed ^ 0x0ff0_0ff0, lead.leadNo));
    this.accountId = accountId;
  }

  /** The account's first opportunity, opened when sales accepts the lead; undefined for a lead without a known company. */
  static open(ctx: DemoContext, lead: Lead, rep: string, acceptedAt: number): AccountOpportunities | undefined {
    const accountId = lead.who.accountId;
    if (accountId === undefined || lead.companyIndex === undefined) return undefined;
    const before = ctx.opportunitiesOf.get(accountId) ?? 0;
    if (before >= MAX_OPPORTUNITIES) return undefined;
    const account = new AccountOpportunities(ctx, lead, rep, accountId);
    account.create(acceptedAt, 45 + account.rng.int(60));
    // the account's first deal brings its buying group; a later lead of the account joins its own deal alone
    if (before === 0) account.buyingGroup(acceptedAt);
    else account.join(acceptedAt + DURATION.MINUTE, lead.who.leadId!, lead.role === undefined ? 'other' : ROLE_OF[lead.role]);
    return account;
  }

  /** The demo was held: the deal moves to the demo stage. */
  demoHeld(at: number): void {
    this.stage(at, 'demo');
  }

  /** A quote went out: proposal at the first, negotiation at a revised one; the amount becomes the quote's. */
  quoted(at: number, amount: number, revised: boolean): void {
    // now and then a deal changes hands before the proposal (a rep leaves, a territory is recut)
    if (!revised && this.current !== undefined && this.rng.chance(0.08)) {
      const others = REPS[this.lead.bu].filter((r) => r !== this.rep);
      this.add(at - DURATION.HOUR, 'opportunity_owner_changed', { opportunityId: this.current.id, ownerId: this.rng.pick(others) });
    }
    this.stage(at, revised ? 'negotiation' : 'proposal');
    this.amount(at + DURATION.MINUTE, amount);
  }

  won(at: number, amount: number): void {
    const opp = this.current;
    if (opp === undefined) return;
    this.pushPast(at);
    this.add(at, 'opportunity_won', { opportunityId: opp.id, amount, currency: this.lead.currency });
    this.closed(at, true);
  }

  lost(at: number, reason: LostReason): void {
    const opp = this.current;
    if (opp === undefined) return;
    this.pushPast(at);
    this.add(at, 'opportunity_lost', { opportunityId: opp.id, reason });
    this.closed(at, false);
  }

  private create(at: number, cycleDays: number): void {
    this.opportunityNo += 1;
    const nth = (this.ctx.opportunitiesOf.get(this.accountId) ?? 0) + 1;
    this.ctx.opportunitiesOf.set(this.accountId, nth);
    const id = this.ctx.idFor('opp', this.lead.leadNo, this.opportunityNo);
    const size = DEAL_SIZE[this.lead.bu];
    const estimate = roundTo500(Math.max(size.min, this.rng.logNormal(size.median, size.sigma)) * (nth === 1 ? 1 : 0.4));
    const closeDateMs = this.ctx.clock.nextWorkingTime(at + cycleDays * DURATION.DAY, 0);
    const company = companyAt(this.ctx.seed, this.lead.companyIndex!);
    const segment = SEGMENTS.find(([min]) => company.employees >= min)![1];
    this.current = { id, closeDateMs, stage: 'discovery' };
    this.add(at, 'opportunity_created', {
      opportunityId: id,
      name: `${company.name}${nth === 1 ? '' : ` #${nth}`}`,
      stage: 'discovery',
      amount: estimate,
      currency: this.lead.currency,
      closeDate: this.ctx.clock.format(closeDateMs),
      ownerId: this.rep,
      businessUnit: this.lead.bu,
      segment,
    });
    for (const c of this.contacts) this.add(at + DURATION.MINUTE, 'opportunity_contact_added', { opportunityId: id, leadId: c.leadId, role: c.role });
  }

  /** The lead and 1-5 colleagues: 2-6 people of the account on the deal, each added as sales meets them. */
  private buyingGroup(from: number): void {
    const { ctx, lead, rng } = this;
    const company = companyAt(ctx.seed, lead.companyIndex!);
    this.join(from + DURATION.MINUTE, lead.who.leadId!, lead.role === undefined ? 'other' : ROLE_OF[lead.role]);
    const colleagues = 1 + rng.int(5);
    let at = from;
    for (let k = 1; k <= colleagues; k++) {
      at = ctx.clock.afterWorkingDays(at, 1 + rng.int(6), rng);
      const persona = PERSONAS.pick(rng);
      const first = rng.pick(FIRST_NAMES);
      const last = rng.pick(LAST_NAMES);
      const leadId = `${ctx.leadId(lead.leadNo)}-c${k}`;
      ctx.buffer.add(at, 'identify', { leadId, accountId: this.accountId }, personAt(company, persona, { first, last }, lead.bu, BUYING_GROUP_SOURCE));
      this.join(at + DURATION.MINUTE, leadId, rng.chance(0.5) ? ROLE_OF[persona.role] : ADDED_ROLES.pick(rng));
    }
  }

  /** A person of the account joins the open deal (and the account's later ones). */
  join(at: number, leadId: string, role: BuyingRole): void {
    this.contacts.push({ leadId, role });
    if (this.current !== undefined) this.add(at, 'opportunity_contact_added', { opportunityId: this.current.id, leadId, role });
  }

  private stage(at: number, stage: Stage): void {
    const opp = this.current;
    if (opp === undefined || opp.stage === stage) return;
    this.pushPast(at);
    opp.stage = stage;
    this.add(at, 'opportunity_stage_changed', { opportunityId: opp.id, stage });
  }

  private amount(at: number, amount: number): void {
    if (this.current === undefined) return;
    this.add(at, 'opportunity_amount_changed', { opportunityId: this.current.id, amount, currency: this.lead.currency });
  }

  /** The rep pushes the close date when it lapses with the deal still open: as many times as it takes to lie after `at`. */
  private pushPast(at: number): void {
    const opp = this.current!;
    while (opp.closeDateMs <= at) {
      const pushedAt = this.ctx.clock.nextWorkingTime(opp.closeDateMs, this.rng.int(480));
      opp.closeDateMs = this.ctx.clock.nextWorkingTime(opp.closeDateMs + (14 + this.rng.int(45)) * DURATION.DAY, 0);
      this.add(Math.min(pushedAt, at - DURATION.MINUTE), 'opportunity_close_date_changed', { opportunityId: opp.id, closeDate: this.ctx.clock.format(opp.closeDateMs) });
    }
  }

  /** After a close, maybe another opportunity (an expansion after a win, another try after a loss), up to three per account. */
  private closed(at: number, won: boolean): void {
    this.current = undefined;
    if ((this.ctx.opportunitiesOf.get(this.accountId) ?? 0) >= MAX_OPPORTUNITIES || !this.rng.chance(won ? 0.5 : 0.3)) return;
    const { rng, ctx } = this;
    let t = ctx.clock.afterWorkingDays(at, 30 + rng.int(150), rng);
    this.create(t, 30 + rng.int(60));
    const path: Stage[] = ['demo', 'proposal', 'negotiation'];
    const reach = 1 + rng.int(path.length);
    for (const stage of path.slice(0, reach)) {
      t = ctx.clock.afterWorkingDays(t, 5 + rng.int(25), rng);
      this.stage(t, stage);
      if (stage === 'proposal' && rng.chance(0.5)) this.amount(t + DURATION.MINUTE, roundTo500(DEAL_SIZE[this.lead.bu].median * (0.2 + 0.5 * rng.next())));
    }
    t = ctx.clock.afterWorkingDays(t, 5 + rng.int(30), rng);
    const amount = roundTo500(DEAL_SIZE[this.lead.bu].median * (0.2 + 0.4 * rng.next()));
    if (rng.chance(reach === path.length ? 0.6 : 0.25)) this.won(t, amount);
    else this.lost(t, LOST_REASONS.pick(rng) as LostReason);
  }

  private add<T extends OpportunityType>(at: number, type: T, properties: EventOf<T>['properties']): void {
    // the buffer's own properties type is this one; TypeScript cannot see that through two generic indirections
    this.ctx.buffer.add<T>(at, type, { accountId: this.accountId }, properties as never);
  }
}

interface OpenOpportunity {
  id: string;
  closeDateMs: number;
  stage: Stage;
}

const roundTo500 = (amount: number) => Math.max(500, Math.round(amount / 500) * 500);
