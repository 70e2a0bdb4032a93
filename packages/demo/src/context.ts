import { JourneyBuffer } from './journey-buffer.js';
import { Prng } from './prng.js';
import type { BusinessClock } from './time.js';

/**
 * What every part of a journey simulation shares: the seeded random stream,
 * the business clock, the buffer the journey writes to, and the counters that
 * make ids. Ids are `demo-<seed>-<kind>-<n>`, so the same seed gives the same
 * ids and re-importing a demo is idempotent.
 */
export class DemoContext {
  readonly rng: Prng;
  readonly buffer = new JourneyBuffer();
  readonly prefix: string;
  private leads = 0;
  private visitors = 0;
  /** opportunities opened per account so far: an account has one to three over the demo, whichever of its leads reach sales */
  readonly opportunitiesOf = new Map<string, number>();

  constructor(
    readonly seed: number,
    readonly clock: BusinessClock,
  ) {
    this.rng = new Prng(seed);
    this.prefix = `demo-${seed}`;
  }

  /** A new lead's number; its id is `leadId(number)`. */
  newLead(): number {
    this.leads += 1;
    return this.leads;
  }

  leadId(leadNo: number): string {
    return `${this.prefix}-lead-${leadNo}`;
  }

  newAnonymousId(): string {
    this.visitors += 1;
    return `${this.prefix}-anon-${this.visitors}`;
  }

  /** An id for a thing belonging to a lead (`demo-7-quote-12-1`: lead 12's first quote), unique without another counter. */
  idFor(kind: string, leadNo: number, n = 1): string {
    return `${this.prefix}-${kind}-${leadNo}-${n}`;
  }

  accountId(companyIndex: number): string {
    return `${this.prefix}-acct-${companyIndex}`;
  }
}
