import type { EventStore } from '@sluice/event-store';
import { type CompiledRules, type DomainEvent, type LeadState, absorbAnonymousHistory, anonymousStream, foldLead, leadStream } from '@sluice/domain';
import type { SubjectRef } from './rows.js';

/**
 * A subject's state folded from the log: its events with a global position
 * below `before` (the position about to be applied) but the `parked` ones,
 * so the state is exactly what the projector had when it last wrote the
 * subject. A lead takes in the anonymous histories it owned by then;
 * `ownedAnonymousIds` lists the stored links, and a link that comes at or
 * after `before` is left out.
 */
export async function foldSubjectFromLog(
  store: Pick<EventStore, 'readStream'>,
  subject: SubjectRef,
  before: number,
  rules: CompiledRules,
  ownedAnonymousIds: () => readonly string[],
  parked: ReadonlySet<number>,
): Promise<LeadState> {
  const upTo = async (streamId: string): Promise<DomainEvent[]> => {
    const out: DomainEvent[] = [];
    for (const e of await store.readStream(streamId)) if (e.position < before && !parked.has(e.position)) out.push(e.data as DomainEvent);
    return out;
  };
  if (subject.kind === 'anonymous') return foldLead({ kind: 'anonymous', anonymousId: subject.id }, await upTo(anonymousStream(subject.id)), rules);
  let state = foldLead({ kind: 'lead', leadId: subject.id }, await upTo(leadStream(subject.id)), rules);
  for (const anonymousId of [...ownedAnonymousIds()].sort()) {
    const anonymous = foldLead({ kind: 'anonymous', anonymousId }, await upTo(anonymousStream(anonymousId)), rules);
    if (anonymous.mergedInto === subject.id) state = absorbAnonymousHistory(state, anonymous, rules);
  }
  return state;
}
