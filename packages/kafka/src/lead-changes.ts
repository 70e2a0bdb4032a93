import type { KafkaProducer } from './client.js';
import type { FileCursor } from './cursor.js';

/** What the publisher needs of a derived change: the feed's sequence number and whose change it is. */
export interface SequencedChange {
  readonly seq: number;
  readonly leadId: string;
}

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
}

export interface LeadChangePublisher {
  /** Stops after the batch in flight (if any) is published and committed. */
  stop(): Promise<void>;
  /** Resolves when publishing ends: after stop(), or rejects when a send or commit failed. */
  readonly done: Promise<void>;
}

const IDLE = Symbol('idle');

/**
 * Publishes derived changes to the lead-changes topic (key = lead id), at least
 * once: the cursor moves only after Kafka acknowledged everything up to it, so
 * a crash re-sends at most the last batch (consumers dedupe on the `seq`
 * field). The batch is whatever the feed has ready, up to maxBatch.
 */
export function publishLeadChanges<C extends SequencedChange>(options: LeadChangePublisherOptions<C>): LeadChangePublisher {
  const maxBatch = options.maxBatch ?? 500;
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
      await options.producer.send(
        options.topic,
        batch.map((change) => ({ key: change.leadId, value: JSON.stringify(change) })),
      );
      const lastSeq = batch.at(-1)!.seq;
      options.cursor.commit(lastSeq);
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
