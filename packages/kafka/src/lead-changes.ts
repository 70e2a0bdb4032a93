import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { ItemFailed, startFollower } from '@sluice/follower';
import type { Follower, FollowerOptions } from '@sluice/follower';
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

/** The change feed as the publisher reads it: in batches after a sequence number (the projector's `changeFeedSource`). */
export interface LeadChangeFeed<C extends SequencedChange> {
  /** the last sequence number given out */
  head(): number | Promise<number>;
  /** up to `max` changes after `afterSeq`, in order, a changes_lost marker where some are gone */
  read(afterSeq: number, max: number): readonly C[] | Promise<readonly C[]>;
  /** calls `wake` when changes may have been added; without it the publisher polls */
  listen?(wake: () => void): () => void;
}

export interface LeadChangePublisherOptions<C extends SequencedChange> extends Pick<FollowerOptions<C>, 'onParked' | 'onProgress' | 'onRetry' | 'retry' | 'pollIntervalMs'> {
  feed: LeadChangeFeed<C>;
  producer: KafkaProducer;
  /** the lead-changes topic */
  topic: string;
  /** the last sequence number Kafka acknowledged; a change that cannot be published at all is kept beside it, in `<path>.parked` */
  cursor: Pick<FileCursor, 'read' | 'commit' | 'path'>;
  /** most changes per send (default 500) */
  maxBatch?: number;
  /** how long a send waits for Kafka's acknowledgement before it is retried (default 30 s): a broker away shows as retrying, not as a send that hangs */
  sendDeadlineMs?: number;
  /** after each batch is acknowledged and its cursor committed */
  onPublished?: (lastSeq: number) => void;
  /** once a changes_lost marker is on the topic (default: a warning on stderr naming the range) */
  onChangesLost?: (lost: LostChanges) => void;
}

const FOLLOWER_NAME = 'lead_changes';
const DEFAULT_MAX_BATCH = 500;
const DEFAULT_SEND_DEADLINE_MS = 30_000;

const isLost = (change: SequencedChange): change is LostChanges => 'fromSeq' in change;

/**
 * A batch's messages: a change keyed by its lead; a changes_lost marker once
 * on every partition, keyless, so each consumer (whichever partitions it
 * holds) sees it in order before the changes after the gap.
 */
async function messagesOf(batch: readonly SequencedChange[], values: readonly string[], producer: KafkaProducer, topic: string): Promise<OutgoingMessage[]> {
  const partitions = batch.some(isLost) ? await producer.partitionCount(topic) : 0;
  return batch.flatMap((change, i): OutgoingMessage[] => {
    const value = values[i]!;
    return isLost(change) ? Array.from({ length: partitions }, (_, partition) => ({ key: null, value, partition })) : [{ key: change.leadId, value }];
  });
}

/** Appends a line and makes it durable before the cursor passes what it records. */
function appendDurably(path: string, line: string): void {
  const fd = openSync(path, 'a');
  try {
    writeSync(fd, line);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Publishes derived changes to the lead-changes topic (key = lead id), at
 * least once, as a follower of the change feed (@sluice/follower): the cursor
 * moves only after Kafka acknowledged everything up to it, so a crash re-sends
 * at most the last batch (consumers dedupe on the `seq` field). A broker away
 * is waited out: a send that is not acknowledged within `sendDeadlineMs` is
 * retried with backoff from the cursor until it is, without a restart (a
 * retry may put a batch on the topic twice; dedupe covers it). Changes the
 * feed trimmed before they were published (the publisher was down or slower
 * than the feed's retention) cannot be sent: the feed's changes_lost marker
 * goes to every partition instead, the cursor moves past it, and
 * onChangesLost names the range. Only a change that cannot be serialized is
 * parked: a JSON line in `<cursor>.parked` and the cursor past it.
 */
export function publishLeadChanges<C extends SequencedChange>(options: LeadChangePublisherOptions<C>): Follower {
  const { feed, producer, topic, cursor, maxBatch, sendDeadlineMs, onPublished, onChangesLost: onLost, ...engine } = options;
  const onChangesLost =
    onLost ??
    ((lost: LostChanges) => console.warn(`sluice: lead changes ${lost.fromSeq}..${lost.toSeq} were no longer in the change feed when they were to be published to ${topic}; a changes_lost marker went to each of its partitions`));
  const deadlineMs = sendDeadlineMs ?? DEFAULT_SEND_DEADLINE_MS;

  const publish = async (batch: readonly C[], values: readonly string[]): Promise<number> => {
    await producer.send(topic, await messagesOf(batch, values, producer, topic), { deadlineMs });
    const lastSeq = batch.at(-1)!.seq;
    cursor.commit(lastSeq);
    for (const change of batch) if (isLost(change)) onChangesLost(change);
    onPublished?.(lastSeq);
    return lastSeq;
  };

  const listen = feed.listen?.bind(feed);
  return startFollower<C>({
    ...engine,
    name: FOLLOWER_NAME,
    batchSize: maxBatch ?? DEFAULT_MAX_BATCH,
    source: {
      head: async () => feed.head(),
      read: async (afterSeq, max) => feed.read(afterSeq, max),
      positionOf: (change) => change.seq,
      ...(listen ? { listen } : {}),
    },
    target: {
      // a failure that is no change's fault (the broker away, the cursor's disk) is retried; the one a change causes is named by ItemFailed
      unattributed: 'reported',
      checkpoint: async () => cursor.read(),
      apply: async (batch) => {
        const values: string[] = [];
        for (const change of batch) {
          try {
            values.push(JSON.stringify(change));
          } catch (err) {
            // the changes before it go out first, so it alone is parked
            if (values.length > 0) await publish(batch.slice(0, values.length), values);
            throw new ItemFailed(values.length, err);
          }
        }
        return publish(batch, values);
      },
      park: async (change, reason) => {
        appendDurably(`${cursor.path}.parked`, `${JSON.stringify({ seq: change.seq, ...('leadId' in change ? { leadId: change.leadId } : {}), reason, parkedAt: new Date().toISOString() })}\n`);
        cursor.commit(change.seq);
        return change.seq;
      },
    },
  });
}
