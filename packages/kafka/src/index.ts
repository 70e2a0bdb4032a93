export { ProduceDeadlineError, connectKafka } from './client.js';
export type { BatchConsumer, BatchConsumerOptions, ConsumedBatch, ConsumedMessage, KafkaClient, KafkaConnectOptions, KafkaProducer, OutgoingMessage, SendOptions, TopicSpec } from './client.js';
export { DEAD_LETTER_HEADERS, sluiceTopics, topicNames } from './topics.js';
export type { SluiceTopics } from './topics.js';
export { touchpointMessage, touchpointPublisher } from './touchpoints.js';
export { FileCursor } from './cursor.js';
export { publishLeadChanges } from './lead-changes.js';
export type { LeadChange, LeadChangeFeed, LeadChangePublisherOptions, LostChanges, SequencedChange } from './lead-changes.js';
// the kafka-bridge's consumer: sluice.touchpoints into the event store (the bridge role of @sluice/app runs it as a process)
export { startBridge } from './bridge/bridge.js';
export type { Bridge, BridgeOptions } from './bridge/bridge.js';
export { createBridgeMetrics } from './bridge/metrics.js';
export type { BridgeMetrics } from './bridge/metrics.js';
export { decodeTouchpoint } from './bridge/steps.js';
export type { DecodeResult } from './bridge/steps.js';
