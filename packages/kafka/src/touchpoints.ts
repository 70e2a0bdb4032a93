import { DEFAULT_PRODUCE_DEADLINE_MS } from '@sluice/schemas';
import type { SluiceEvent } from '@sluice/schemas';
import { ProduceDeadlineError } from './client.js';
import type { KafkaProducer, OutgoingMessage } from './client.js';

/** One lead's events share a key, so they stay in order on one partition; an anonymous visitor's share theirs. */
export function touchpointMessage(event: SluiceEvent): OutgoingMessage {
  return { key: event.leadId ?? event.anonymousId ?? null, value: JSON.stringify(event) };
}

/**
 * Produces validated events to the touchpoints topic: 'acknowledged' once
 * Kafka has them all, 'deadline-passed' when it did not answer within
 * `deadlineMs` (the API then answers 503 and the client resends).
 */
export function touchpointPublisher(producer: KafkaProducer, topic: string, deadlineMs = DEFAULT_PRODUCE_DEADLINE_MS) {
  return {
    topic,
    deadlineMs,
    publish: async (events: readonly SluiceEvent[]): Promise<'acknowledged' | 'deadline-passed'> => {
      try {
        await producer.send(topic, events.map(touchpointMessage), { deadlineMs });
        return 'acknowledged';
      } catch (err) {
        if (err instanceof ProduceDeadlineError) return 'deadline-passed';
        throw err;
      }
    },
    reachable: () => producer.reachable(),
  };
}
