import type { Follower, FollowerStatus } from './follower.js';

/** One gauge over a process's followers: a value per follower, labelled follower="<name>". */
export interface FollowerGauge {
  readonly name: string;
  readonly help: string;
  readonly values: ReadonlyArray<{ readonly follower: string; readonly value: number }>;
}

const GAUGES: ReadonlyArray<{ name: string; help: string; value: (s: FollowerStatus) => number }> = [
  {
    name: 'sluice_follower_position',
    help: "Source position whose effect the follower has made durable (a log position; the lead-changes publisher's is a change-feed sequence number)",
    value: (s) => s.position,
  },
  { name: 'sluice_follower_lag_events', help: "Positions between the follower's durable position and its source's head, as of its last look", value: (s) => Math.max(0, s.head - s.position) },
  { name: 'sluice_follower_parked_total', help: 'Items the follower parked since this process started (sluice parked lists every one kept)', value: (s) => s.parkedSinceStart },
  { name: 'sluice_follower_retrying', help: '1 while the follower is retrying a transient failure (disk full, a server away), else 0', value: (s) => (s.state === 'retrying' ? 1 : 0) },
];

/**
 * The gauges every process serves on /metrics for the followers it runs, read
 * when scraped. Samples, not metric objects: the API registers them with its
 * Prometheus client, the projector process writes them as text
 * (`prometheusText`), and this package needs no metrics client.
 */
export function followerGauges(followers: readonly Follower[]): FollowerGauge[] {
  const statuses = followers.map((f) => f.status());
  return GAUGES.map(({ name, help, value }) => ({ name, help, values: statuses.map((s) => ({ follower: s.name, value: value(s) })) }));
}

/** The Prometheus text exposition of gauges. */
export function prometheusText(gauges: readonly FollowerGauge[]): string {
  const label = (name: string) => name.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
  return gauges
    .map((g) => `# HELP ${g.name} ${g.help}\n# TYPE ${g.name} gauge\n${g.values.map((v) => `${g.name}{follower="${label(v.follower)}"} ${v.value}\n`).join('')}`)
    .join('');
}
