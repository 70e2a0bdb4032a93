import type { KafkaProducer, OutgoingMessage } from './client.js';
import type { FileCursor } from './cursor.js';

/** What the publisher needs of a derived change: the feed's sequence number and whose change it is. */
export interface LeadChange {
  readonly seq: number;
  readonly leadId: string;
}

/** The feed's word that changes `fromSeq`..`toSeq` were gone before they were published (the projector's ChangesLost; `seq` = `toSeq`). */
export interface LostChanges {
  readonly seq: number;
  readonly type: 'changes_lost';
  readonly fromSeq: number;
  readonly toSeq: number;
}

export type SequencedChange = LeadChange | LostChanges;

export interface LeadChangePublisherOptions<C extends SequencedChange> {
  /** the change feed after a sequence number, then live (the projector's `changes(afterSeq)`) */
  changes(afterSeq: number): AsyncGenerator<C, void, undefined>;
  producer: KafkaProducer;
  /** the lead-changes topic */
  topic: string;
  cursor: Pick<FileCursor, 'read' | 'commit'>;
  /** most changes per send */
  maxBatch?: number;
  onError?: (err: unknown) => void;
  /** after each batch is acknowledged and its cursor committed */
  onPublished?: (lastSeq: number) => void;
  /** once a changes_lost marker is on the topic (default: a warning on stderr naming the range) */
  onChangesLost?: (lost: LostChanges) => void;
}

export interface LeadChangePublisher {
  /** Stops after the batch in flight (if any) is published and committed. */
  stop(): Promise<void>;
  /** Resolves when publishing ends: after stop(), or rejects when a send or commit failed. */
  readonly done: Promise<void>;
}

const IDLE = Symbol('idle');

const isLost = (change: SequencedChange): change is LostChanges => 'fromSeq' in change;

/**
 * A batch's messages: a change keyed by its lead; a changes_lost marker once
 * on every partition, keyless, so each consumer (whichever partitions it
 * holds) sees it in order before the changes after the gap.
 */
async function messagesOf(batch: readonly SequencedChange[], producer: KafkaProducer, topic: string): Promise<OutgoingMessage[]> {
  const partitions = batch.some(isLost) ? await producer.partitionCount(topic) : 0;
  return batch.flatMap((change): OutgoingMessage[] => {
    const value = JSON.stringify(change);
    return isLost(change) ? Array.from({ length: partitions }, (_, partition) => ({ key: null, value, partition })) : [{ key: change.leadId, value }];
  });
}

/**
 * Publishes derived changes to the lead-changes topic (key = lead id), at least
 * once: the cursor moves only after Kafka acknowledged everything up to it, so
 * a crash re-sends at most the last batch (consumers dedupe on the `seq`
 * field). The batch is whatever the feed has ready, up to maxBatch. Changes
 * the feed trimmed before they were published (the publisher was down or
 * slower than the feed's retention) cannot be sent: the feed's changes_lost
 * marker goes to every partition instead, the cursor moves past it, and
 * onChangesLost names the range.
 */
export function publishLeadChanges<C extends SequencedChange>(options: LeadChangePublisherOptions<C>): LeadChangePublisher {
  const maxBatch = options.maxBatch ?? 500;
  const onChangesLost =
    options.onChangesLost ??
    ((lost: LostChanges) => console.warn(`sluice: lead changes ${lost.fromSeq}..${lost.toSeq} were no longer in the change feed when they were to be published to ${options.topic}; a changes_lost marker went to each of its partitions`));
  const feed = options.changes(options.cursor.read());
  let stopping = false;
  const run = async () => {
    let next = feed.next();
    while (!stopping) {
      const first = await next;
      if (first.done) return;
      const batch = [first.value];
      next = feed.next();
      // take what is ready now; a change that is not waits for the next batch
      while (batch.length < maxBatch) {
        const ready = await Promise.race([next, new Promise<typeof IDLE>((resolve) => setImmediate(resolve, IDLE))]);
        if (ready === IDLE || ready.done) break;
        batch.push(ready.value);
        next = feed.next();
      }
      await options.producer.send(options.topic, await messagesOf(batch, options.producer, options.topic));
      const lastSeq = batch.at(-1)!.seq;
      options.cursor.commit(lastSeq);
      for (const change of batch) if (isLost(change)) onChangesLost(change);
      options.onPublished?.(lastSeq);
    }
  };
  const done = run().catch((err: unknown) => {
    options.onError?.(err);
    throw err;
  });
  // the rejection is reported through onError; done still rejects for callers who await it
  done.catch(() => undefined);
  return {
    done,
    stop: async () => {
      stopping = true;
      await feed.return();
      await done.catch(() => undefined);
    },
  };
}
