import type { TopicSpec } from './client.js';

/** The topics of distributed Sluice (documented in the root README's "Distributed mode"). */
export interface SluiceTopics {
  /** accepted touchpoints, one event per message, keyed by lead id (else anonymous id) */
  readonly touchpoints: string;
  /** messages the bridge could not append, with their original bytes and the reason in headers */
  readonly touchpointsDeadLetter: string;
  /** the projector's derived changes (stage_changed, lead_hot), keyed by lead id */
  readonly leadChanges: string;
}

/** `sluice.touchpoints`, `sluice.touchpoints.dlq`, `sluice.lead-changes` under the default prefix; another prefix lets installations (or tests) share a cluster. */
export function topicNames(prefix = 'sluice'): SluiceTopics {
  return { touchpoints: `${prefix}.touchpoints`, touchpointsDeadLetter: `${prefix}.touchpoints.dlq`, leadChanges: `${prefix}.lead-changes` };
}

/** Headers of a dead-lettered message (its key and value are the original bytes). */
export const DEAD_LETTER_HEADERS = {
  reason: 'sluice-dlq-reason',
  step: 'sluice-dlq-step',
  topic: 'sluice-dlq-original-topic',
  partition: 'sluice-dlq-original-partition',
  offset: 'sluice-dlq-original-offset',
} as const;

/** Every Sluice topic, as created at start-up by whichever process comes first (creating is idempotent). */
export function sluiceTopics(config: { topicPrefix: string; partitions: number; replicationFactor: number }): TopicSpec[] {
  return Object.values(topicNames(config.topicPrefix)).map((topic) => ({ topic, partitions: config.partitions, replicationFactor: config.replicationFactor }));
}
