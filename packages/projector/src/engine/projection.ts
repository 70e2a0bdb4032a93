import type Database from 'better-sqlite3';
import type { EventStore, RecordedEvent } from '@sluice/event-store';
import {
  type CompiledRules,
  type DomainEvent,
  type LeadSnapshot,
  type LeadState,
  absorbAnonymousHistory,
  compileRules,
  evolve,
  initialLeadState,
  isActorlessStream,
  leadStateAsOf,
  leadStream,
  touchpointsOf,
  transitionChanges,
} from '@sluice/domain';
import { ItemFailed } from '@sluice/follower';
import type { Grade, IdentityLinked, RuleConfig } from '@sluice/schemas';
import type { DerivedChangeBody } from '../changes.js';
import { parkedPositions, recordParked } from '../store/parked.js';
import type { ProjectionStore } from '../store/projection-store.js';
import { type Contribution, CounterDeltas, NO_CONTRIBUTION, sameContribution } from './contribution.js';
import { foldSubjectFromLog } from './loader.js';
import { LocalDays } from './local-day.js';
import { type SubjectRef, contributionOf, contributionOfRow, leadRow, subjectOfStream } from './rows.js';
import { ProjectionWriter } from './writer.js';

/** What was last written for a subject: what the next flush compares against. */
interface Written {
  /** the state the stored transitions came from; undefined once an anonymous history is merged (no transitions) */
  readonly state: LeadState | undefined;
  readonly contribution: Contribution;
  readonly stage: string | undefined;
  readonly grade: Grade | undefined;
}

interface Entry {
  readonly subject: SubjectRef;
  /** undefined for an anonymous history a lead already owned when it was loaded: it only routes events to the lead */
  state: LeadState | undefined;
  mergedInto: string | undefined;
  written: Written;
  dirty: boolean;
  /** when it was last used (a counter): eviction drops the least recently used */
  used: number;
}

export interface FlushResult {
  readonly position: number;
  readonly subjects: number;
  /** sequence number of the flush's last derived change, when it recorded any */
  readonly lastChangeSeq: number | undefined;
}

export interface ProjectionOptions {
  projections: ProjectionStore;
  /** read when a subject is not in memory: its stream (and owned anonymous streams) are folded again */
  store: Pick<EventStore, 'readStream'>;
  config: RuleConfig;
  /** subjects kept in memory between flushes (least recently used ones go first) */
  cacheSize: number;
  /** record derived changes (the live projector does; rebuilds and what-ifs do not) */
  recordChanges: boolean;
  /** how many of the newest derived changes the feed keeps (default CHANGE_RETENTION, 10,000) */
  changeRetention?: number;
  /**
   * Scale-out: the leads this instance keeps (default all). Anonymous subjects
   * are always kept, so a lead's owner has the visitor history it absorbs at
   * the link whichever instance the visitor would hash to.
   */
  ownsLead?: (leadId: string) => boolean;
  /** the follower its parked events are kept under (default 'projector') */
  follower?: string;
}

/**
 * The projection of the log into the read models, in memory between flushes:
 * `apply` routes each event to its subject and evolves that subject's state
 * (write-behind); `flush` writes every changed subject, its transitions, the
 * conversion counters and the checkpoint in one transaction.
 *
 * Routing: a lead stream's events go to the lead; an anonymous stream's go to
 * the anonymous subject until its first identity_linked, which merges its
 * history into the lead it names (absorbAnonymousHistory); after that they go
 * to the lead. The order of the global log decides "first", so replays agree.
 *
 * An event that cannot be applied leaves every subject as it was (apply
 * throws ItemFailed naming it); `park` keeps it with the reason and passes
 * it, and every later fold of a subject from the log passes it too.
 */
export class Projection {
  readonly rules: CompiledRules;
  readonly #store: Pick<EventStore, 'readStream'>;
  readonly #writer: ProjectionWriter;
  readonly #days: LocalDays;
  readonly #cacheSize: number;
  readonly #recordChanges: boolean;
  readonly #cache = new Map<string, Entry>();
  #dirty: Entry[] = [];
  #links: { anonymousId: string; leadId: string; eventId: string }[] = [];
  #tick = 0;
  /**
   * The subjects evicted from memory, when the store was empty at the start
   * (a rebuild): a subject missing from memory is new unless it is listed
   * here, so a build from empty never asks the store about a new subject.
   * Undefined otherwise, or once it lists a million: every miss looks for a
   * stored row.
   */
  #evicted: Set<string> | undefined;
  readonly #ownsLead: ((leadId: string) => boolean) | undefined;
  readonly #db: Database.Database;
  readonly #follower: string;
  /** positions of the parked events: passed by apply and by every fold from the log */
  readonly #parked: Set<number>;
  #position: number;
  #durablePosition: number;
  readonly #readRow: Database.Statement<[string], StoredSubjectRow>;
  readonly #readLinks: Database.Statement<[string], string>;

  constructor(options: ProjectionOptions) {
    this.rules = compileRules(options.config);
    this.#store = options.store;
    this.#writer = new ProjectionWriter(options.projections.db, options.changeRetention);
    this.#days = new LocalDays(options.config.timeZone);
    this.#cacheSize = options.cacheSize;
    this.#recordChanges = options.recordChanges;
    this.#ownsLead = options.ownsLead;
    this.#position = this.#durablePosition = options.projections.state().position;
    const db = options.projections.db;
    this.#db = db;
    this.#follower = options.follower ?? 'projector';
    this.#parked = parkedPositions(db);
    this.#evicted = db.prepare('SELECT EXISTS (SELECT 1 FROM leads)').pluck().get() === 1 ? undefined : new Set();
    this.#readRow = db.prepare('SELECT merged_into, business_unit, source, stages, stage, grade FROM leads WHERE subject = ?');
    this.#readLinks = db.prepare<[string], string>('SELECT anonymous_id FROM identity_links WHERE lead_id = ?').pluck();
  }

  /** Position of the last event applied in memory. */
  get position(): number {
    return this.#position;
  }

  /** Position of the last event whose effect is committed. */
  get durablePosition(): number {
    return this.#durablePosition;
  }

  /** Events applied since the last flush. */
  get pending(): number {
    return this.#position - this.#durablePosition;
  }

  /**
   * Applies a batch of the global log in position order; positions already
   * applied (redelivery) or parked are passed. Throws ItemFailed(index) for an
   * event that cannot be applied, with the events before it applied and no
   * subject changed by it.
   */
  async apply(events: readonly RecordedEvent[]): Promise<void> {
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      if (e.position <= this.#position) continue;
      if (!this.#parked.has(e.position)) {
        try {
          const done = this.#applyEvent(e);
          if (done !== undefined) await done;
        } catch (err) {
          throw new ItemFailed(i, err);
        }
      }
      this.#position = e.position;
    }
  }

  /**
   * Keeps an event apply could not take (parked_events, in its own
   * transaction) and passes it: the position moves past it, so the next
   * flush's checkpoint covers it.
   */
  park(event: RecordedEvent, reason: string): void {
    recordParked(this.#db, this.#follower, event, reason);
    this.#parked.add(event.position);
    this.#position = Math.max(this.#position, event.position);
  }

  /** Entry of a subject: from memory, else new, else folded again from the log (the only async case). */
  #entry(subject: SubjectRef | string, position: number): Entry | Promise<Entry> {
    const key = typeof subject === 'string' ? subject : subject.key;
    const cached = this.#cache.get(key);
    if (cached !== undefined) {
      cached.used = ++this.#tick;
      return cached;
    }
    const ref = typeof subject === 'string' ? subjectOfStream(subject) : subject;
    const row = this.#evicted === undefined || this.#evicted.has(key) ? this.#readRow.get(key) : undefined;
    if (row === undefined) {
      const state = initialLeadState(ref.kind === 'lead' ? { kind: 'lead', leadId: ref.id } : { kind: 'anonymous', anonymousId: ref.id }, this.rules);
      return this.#remember({ subject: ref, state, mergedInto: undefined, written: { state, contribution: NO_CONTRIBUTION, stage: undefined, grade: undefined }, dirty: false, used: 0 });
    }
    const written = { contribution: contributionOfRow(row), stage: row.stage ?? undefined, grade: (row.grade as Grade | null) ?? undefined };
    if (row.merged_into !== null) return this.#remember({ subject: ref, state: undefined, mergedInto: row.merged_into, written: { ...written, state: undefined }, dirty: false, used: 0 });
    return foldSubjectFromLog(this.#store, ref, position, this.rules, () => this.#readLinks.all(ref.id), this.#parked).then((state) => {
      // another event of the batch cannot have loaded it meanwhile: apply awaits each event
      return this.#remember({ subject: ref, state, mergedInto: undefined, written: { ...written, state }, dirty: false, used: 0 });
    });
  }

  #remember(entry: Entry): Entry {
    entry.used = ++this.#tick;
    this.#cache.set(entry.subject.key, entry);
    return entry;
  }

  #evolve(entry: Entry, event: DomainEvent): void {
    const next = evolve(entry.state!, event, this.rules);
    if (next === entry.state) return; // a redelivered event: nothing changed
    entry.state = next;
    this.#markDirty(entry);
  }

  #markDirty(entry: Entry): void {
    if (entry.dirty) return;
    entry.dirty = true;
    this.#dirty.push(entry);
  }

  #applyEvent(e: RecordedEvent): Promise<void> | undefined {
    // spend is about no lead: it moves no read model (the cost report reads it from ClickHouse)
    if (isActorlessStream(e.streamId)) return undefined;
    if (this.#ownsLead !== undefined) {
      const ref = subjectOfStream(e.streamId);
      if (ref.kind === 'lead' && !this.#ownsLead(ref.id)) return undefined;
    }
    const found = this.#entry(e.streamId, e.position);
    if (found instanceof Promise) return found.then((entry) => this.#route(entry, e));
    return this.#route(found, e);
  }

  #route(entry: Entry, e: RecordedEvent): Promise<void> | undefined {
    if (entry.subject.kind === 'lead') {
      this.#evolve(entry, e.data as DomainEvent);
      return undefined;
    }
    if (entry.mergedInto !== undefined) {
      if (e.type === 'identity_linked') return undefined; // a later link: a fact that moves nothing
      return this.#toLead(entry.mergedInto, e.position, (lead) => this.#evolve(lead, e.data as DomainEvent));
    }
    if (e.type !== 'identity_linked') {
      this.#evolve(entry, e.data as DomainEvent);
      return undefined;
    }
    const link = e.data as IdentityLinked;
    const merged = evolve(entry.state!, link, this.rules);
    const leadId = merged.mergedInto;
    if (leadId === undefined) throw new Error(`identity_linked ${e.id} in stream ${e.streamId} names anonymous id ${link.anonymousId}`);
    // both sides are worked out before either changes: a lead side that fails leaves the anonymous one unlinked, as a fold that passes the parked link does
    const merge = (lead: Entry | undefined) => {
      const absorbed = lead && absorbAnonymousHistory(lead.state!, merged, this.rules);
      entry.state = merged;
      entry.mergedInto = leadId;
      this.#markDirty(entry);
      this.#links.push({ anonymousId: entry.subject.id, leadId, eventId: e.id });
      if (lead === undefined) return;
      lead.state = absorbed;
      this.#markDirty(lead);
    };
    const lead = this.#owned(leadId, e.position);
    if (lead instanceof Promise) return lead.then(merge);
    merge(lead);
    return undefined;
  }

  #toLead(leadId: string, position: number, apply: (lead: Entry) => void): Promise<void> | undefined {
    const lead = this.#owned(leadId, position);
    if (lead instanceof Promise) return lead.then(apply);
    if (lead !== undefined) apply(lead);
    return undefined;
  }

  /** The lead's entry, when this instance keeps it: the anonymous side of a link is kept everywhere, the lead's side only by its owner. */
  #owned(leadId: string, position: number): Entry | Promise<Entry> | undefined {
    if (this.#ownsLead !== undefined && !this.#ownsLead(leadId)) return undefined;
    return this.#entry(leadStream(leadId), position);
  }

  /**
   * Writes every subject changed since the last flush and moves the
   * checkpoint to the last applied position, in one transaction. On an error
   * nothing is written and the in-memory state no longer matches the store:
   * the caller must discard this Projection and start again from the
   * checkpoint.
   */
  flush(): FlushResult {
    const position = this.#position;
    const dirty = this.#dirty;
    if (position === this.#durablePosition && dirty.length === 0) return { position, subjects: 0, lastChangeSeq: undefined };
    const writer = this.#writer;
    const nextWritten: Written[] = [];
    const lastChangeSeq = writer.flush(this.#durablePosition, position, () => {
      const deltas = new CounterDeltas(this.#days);
      const changes: { type: string; subject: string; payload: string }[] = [];
      for (const entry of dirty) {
        const state = entry.state!;
        const snap = leadStateAsOf(state, lastEventAt(state), this.rules);
        const merged = entry.mergedInto !== undefined;
        const contribution = contributionOf(snap);
        const written = entry.written;
        if (!sameContribution(written.contribution, contribution)) {
          deltas.add(written.contribution, -1);
          deltas.add(contribution, 1);
        }
        if (merged) writer.writeMergedSubject(leadRow(entry.subject, snap));
        else {
          const { upserts, removals } = transitionChanges(written.state!, state, this.rules);
          writer.writeSubject(leadRow(entry.subject, snap), upserts, removals);
        }
        nextWritten.push({ state: merged ? undefined : state, contribution, stage: snap.stage, grade: snap.grade });
        if (this.#recordChanges && entry.subject.kind === 'lead') changes.push(...derivedChanges(entry.subject.id, written, snap));
      }
      for (const d of deltas.changes()) writer.addCounter(d);
      for (const l of this.#links) writer.addLink(l.anonymousId, l.leadId, l.eventId);
      return writer.addChanges(changes);
    });

    // committed: only now does memory follow
    dirty.forEach((entry, i) => {
      entry.written = nextWritten[i]!;
      entry.dirty = false;
      // a merged anonymous history only routes events from now on
      if (entry.mergedInto !== undefined) entry.state = undefined;
    });
    this.#dirty = [];
    this.#links = [];
    this.#durablePosition = position;
    this.#evict();
    return { position, subjects: dirty.length, lastChangeSeq };
  }

  /** Drops the least recently used subjects beyond the cache size; they are folded again from the log if they come back. */
  #evict(): void {
    const cache = this.#cache;
    if (cache.size <= this.#cacheSize) return;
    // the use counter of the last subject to go: one typed-array sort, not a reorder per access
    const used = new Float64Array(cache.size);
    let i = 0;
    for (const entry of cache.values()) used[i++] = entry.used;
    used.sort();
    const cutoff = used[cache.size - Math.floor(this.#cacheSize * 0.9) - 1]!;
    for (const [key, entry] of cache) {
      if (entry.used > cutoff) continue;
      cache.delete(key);
      this.#evicted?.add(key);
    }
    if (this.#evicted !== undefined && this.#evicted.size > 1_000_000) this.#evicted = undefined;
  }
}

interface StoredSubjectRow {
  merged_into: string | null;
  business_unit: string;
  source: string | null;
  stages: string;
  stage: string | null;
  grade: string | null;
}

/** The time of a state's last touchpoint: its read-model row is the lead as of then. */
function lastEventAt(state: LeadState): number {
  return touchpointsOf(state).at(-1)?.at ?? 0;
}

const iso = (ms: number) => new Date(ms).toISOString();

function derivedChanges(leadId: string, before: Written, snap: LeadSnapshot): { type: string; subject: string; payload: string }[] {
  const out: DerivedChangeBody[] = [];
  const entered = snap.stages.at(-1);
  if (snap.stage !== undefined && snap.stage !== before.stage && entered !== undefined) {
    out.push({ type: 'stage_changed', leadId, from: before.stage ?? null, to: snap.stage, at: iso(entered.at), rule: entered.rule, configVersion: snap.configVersion });
  }
  if (snap.grade === 'hot' && before.grade !== 'hot') {
    out.push({ type: 'lead_hot', leadId, stage: snap.stage ?? null, scores: snap.scores, at: iso(snap.lastTouchAt ?? snap.asOf), configVersion: snap.configVersion });
  }
  return out.map((c) => ({ type: c.type, subject: leadStream(leadId), payload: JSON.stringify(c) }));
}
