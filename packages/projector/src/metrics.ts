import type { Projector } from './projector.js';

export interface MetricSample {
  readonly name: string;
  readonly help: string;
  readonly value: number;
}

/**
 * Gauges for /metrics, read when scraped: the API registers one gauge per
 * sample (prom-client `collect`), so this package needs no metrics client.
 */
export async function projectionMetrics(projector: Projector): Promise<MetricSample[]> {
  const lag = await projector.lag();
  return [
    { name: 'sluice_projection_position', help: 'Global log position of the last event whose effect on the read models is committed', value: projector.position },
    { name: 'sluice_projection_lag_events', help: 'Log positions between the projection checkpoint and the head of the event store', value: lag.events },
    { name: 'sluice_projection_lag_seconds', help: 'Age of the oldest event not yet projected (0 when caught up)', value: lag.seconds },
  ];
}
