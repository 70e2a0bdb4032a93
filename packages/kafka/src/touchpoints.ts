import type { SluiceEvent } from '@sluice/schemas';
import type { KafkaProducer, OutgoingMessage } from './client.js';

/** One lead's events share a key, so they stay in order on one partition; an anonymous visitor's share theirs. */
export function touchpointMessage(event: SluiceEvent): OutgoingMessage {
  return { key: event.leadId ?? event.anonymousId ?? null, value: JSON.stringify(event) };
}

/** Produces validated events to the touchpoints topic; resolves once Kafka acknowledged them all. */
export function touchpointPublisher(producer: KafkaProducer, topic: string) {
  return {
    topic,
    publish: (events: readonly SluiceEvent[]) => producer.send(topic, events.map(touchpointMessage)),
  };
}
