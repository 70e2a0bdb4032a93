export { ProduceDeadlineError, connectKafka } from './client.js';
export type { BatchConsumer, BatchConsumerOptions, ConsumedBatch, ConsumedMessage, KafkaClient, KafkaConnectOptions, KafkaProducer, OutgoingMessage, SendOptions, TopicSpec } from './client.js';
export { DEAD_LETTER_HEADERS, sluiceTopics, topicNames } from './topics.js';
export type { SluiceTopics } from './topics.js';
export { touchpointMessage, touchpointPublisher } from './touchpoints.js';
export { FileCursor } from './cursor.js';
export { publishLeadChanges } from './lead-changes.js';
export type { LeadChange, LeadChangeFeed, LeadChangePublisherOptions, LostChanges, SequencedChange } from './lead-changes.js';
