import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { connectKafka, sluiceTopics, topicNames, touchpointMessage } from '@sluice/kafka';
import type { KafkaClient } from '@sluice/kafka';
import type { SluiceEvent } from '@sluice/schemas';
import { dropSchema, resolveKafka, resolvePostgres, uniqueSchemaName } from '@sluice/testkit';
import { demoEvents, httpBatches } from './ingest.js';
import { printFigures } from './report.js';

/*
 * `pnpm bench kafka`: events/s from HTTP through Kafka and the kafka-bridge
 * into the PostgreSQL store (API and bridge each in its own process, as
 * deployed), beside raw kafkajs producing and consuming the same messages on
 * the same broker in the same run.
 */

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');

/** Starts a TypeScript entry point; resolves with its first stdout line matching `ready`. */
function startProcess(script: string, args: readonly string[], env: NodeJS.ProcessEnv, ready: RegExp): Promise<{ child: ChildProcess; line: string }> {
  // node itself (not the tsx wrapper), so the pid is the one doing the work
  // --profile DIR: V8 CPU profiles of the API and bridge processes, written there when they exit
  const profile = profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profileDir}`];
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', script, ...args], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const line = out.split('\n').find((l) => ready.test(l));
      if (line !== undefined) resolve({ child, line });
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
}

let profileDir: string | undefined;

const stop = (child: ChildProcess) => new Promise<void>((resolve) => (child.once('exit', () => resolve()), child.kill('SIGTERM')));

/** CPU seconds (user + system) a process has used so far; undefined where /proc is not there to ask. */
function cpuSeconds(pid: number | undefined): number | undefined {
  try {
    // fields 14 and 15 (utime, stime) after the parenthesised command name, in clock ticks (100 per second on Linux)
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

async function metricValue(metricsUrl: string, name: string): Promise<number> {
  const text = await (await fetch(metricsUrl)).text();
  const match = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return match ? Number(match[1]) : 0;
}

/** Progress on one line until `done` resolves. */
async function withProgress<T>(label: string, current: () => Promise<number>, total: number, done: Promise<T>): Promise<T> {
  let finished = false;
  const shown = (async () => {
    while (!finished) {
      process.stderr.write(`\r${label}: ${(await current()).toLocaleString('en-US')} / ${total.toLocaleString('en-US')}   `);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  })();
  try {
    return await done;
  } finally {
    finished = true;
    await shown;
    process.stderr.write('\n');
  }
}

/** Raw kafkajs: the same messages produced (same batches, same concurrency, idempotent, acks=all) and consumed by a group. */
async function rawProduceConsume(kafka: KafkaClient, topic: string, events: readonly SluiceEvent[], batchSize: number, concurrency: number, partitions: number): Promise<number> {
  await kafka.ensureTopics([{ topic, partitions, replicationFactor: 1 }]);
  const batches: SluiceEvent[][] = [];
  for (let i = 0; i < events.length; i += batchSize) batches.push(events.slice(i, i + batchSize));
  let consumed = 0;
  let allConsumed: () => void = () => undefined;
  const consumedAll = new Promise<void>((resolve) => (allConsumed = resolve));
  const consumer = await kafka.consume({
    groupId: `bench-raw-${randomUUID()}`,
    topic,
    concurrentPartitions: 4,
    handle: async (batch) => {
      consumed += batch.messages.length;
      await batch.commitThrough(batch.messages.at(-1)!.offset);
      if (consumed >= events.length) allConsumed();
    },
  });
  const producer = await kafka.producer();
  try {
    const started = performance.now();
    let next = 0;
    const produced = Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < batches.length) await producer.send(topic, batches[next++]!.map(touchpointMessage));
      }),
    );
    await withProgress('raw kafkajs consumed', async () => consumed, events.length, Promise.all([produced, consumedAll]));
    return events.length / ((performance.now() - started) / 1000);
  } finally {
    await producer.disconnect();
    await consumer.stop();
  }
}

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { profile: { type: 'string' }, events: { type: 'string', default: '200000' }, batch: { type: 'string', default: '1000' }, concurrency: { type: 'string', default: '4' }, partitions: { type: 'string', default: '12' } },
  });
  const count = Number(values.events);
  const batchSize = Number(values.batch);
  const concurrency = Number(values.concurrency);
  const partitions = Number(values.partitions);
  profileDir = values.profile;

  const kafkaService = await resolveKafka({ exclusive: !process.env.KAFKA_BROKERS });
  if ('skip' in kafkaService) throw new Error(`no Kafka for the bench: ${kafkaService.skip}`);
  const postgres = await resolvePostgres();
  if ('skip' in postgres) throw new Error(`no PostgreSQL for the bench: ${postgres.skip}`);
  console.log(`Kafka at ${kafkaService.brokers.join(',')} (${kafkaService.source}), PostgreSQL at ${postgres.url} (${postgres.source})`);
  console.log(`generating ${count.toLocaleString('en-US')} demo events ...`);
  const events = demoEvents(count, 7);

  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-kafka-'));
  const schema = uniqueSchemaName('bench_kafka');
  const prefix = `bench-${randomUUID()}`;
  const kafkaConfig = { brokers: kafkaService.brokers, topicPrefix: prefix, partitions, bridge: { metricsPort: 0, groupId: `bench-${prefix}` } };
  const configFile = join(dir, 'sluice.json');
  writeFileSync(configFile, JSON.stringify({ version: 'bench', server: { dataDir: dir, eventStore: { adapter: 'postgres', url: postgres.url, schema }, kafka: kafkaConfig } }));
  const kafka = connectKafka({ brokers: kafkaService.brokers, clientId: 'bench' });
  const processes: ChildProcess[] = [];
  try {
    await kafka.ensureTopics(sluiceTopics({ ...kafkaConfig, replicationFactor: 1 }));
    const raw = await rawProduceConsume(kafka, `${prefix}.raw`, events, batchSize, concurrency, partitions);

    const api = await startProcess(join(here, 'kafka-api-server.ts'), [kafkaService.brokers.join(','), topicNames(prefix).touchpoints, postgres.url, schema], {}, /^\d+$/);
    processes.push(api.child);
    const bridge = await startProcess(join(root, 'services', 'kafka-bridge', 'src', 'main.ts'), [], { SLUICE_CONFIG: configFile }, /^kafka-bridge: consuming/);
    processes.push(bridge.child);
    const metricsUrl = /(http:\/\/\S+\/metrics)/.exec(bridge.line)![1]!;
    const appended = () => metricValue(metricsUrl, 'sluice_bridge_appended_events_total');

    const cpuBefore = { api: cpuSeconds(api.child.pid), bridge: cpuSeconds(bridge.child.pid), bench: process.cpuUsage() };
    const started = performance.now();
    const http = httpBatches(Number(api.line), events, batchSize, concurrency, 202);
    const acknowledgedPerSecond = await withProgress('HTTP -> Kafka -> bridge -> PostgreSQL, appended', appended, count, http);
    await withProgress('HTTP -> Kafka -> bridge -> PostgreSQL, appended', appended, count, (async () => {
      while ((await appended()) < count) await new Promise((resolve) => setTimeout(resolve, 100));
    })());
    const wall = (performance.now() - started) / 1000;
    const endToEnd = count / wall;
    const used = (pid: number | undefined, before: number | undefined) => {
      const after = cpuSeconds(pid);
      return after === undefined || before === undefined ? undefined : after - before;
    };
    const apiCpu = used(api.child.pid, cpuBefore.api);
    const bridgeCpu = used(bridge.child.pid, cpuBefore.bridge);
    const benchCpu = process.cpuUsage(cpuBefore.bench);
    // where the time goes: each process's CPU per 1,000 events (the broker and PostgreSQL share the same two cores)
    const perThousand = (seconds: number | undefined) => (seconds === undefined ? [] : [seconds / (count / 1000)]);

    printFigures(`kafka: ${count.toLocaleString('en-US')} events, batches of ${batchSize}, ${concurrency} concurrent requests, ${partitions} partitions, one bridge, PostgreSQL store`, [
      { name: 'end to end: HTTP -> Kafka -> bridge -> PostgreSQL (events/s)', value: endToEnd, baseline: raw, baselineName: 'raw kafkajs produce+consume' },
      { name: 'HTTP acknowledged by Kafka (events/s)', value: acknowledgedPerSecond, baseline: raw, baselineName: 'raw kafkajs produce+consume' },
      ...perThousand(apiCpu).map((value) => ({ name: 'API process CPU s per 1,000 events', value })),
      ...perThousand(bridgeCpu).map((value) => ({ name: 'bridge process CPU s per 1,000 events', value })),
      ...perThousand((benchCpu.user + benchCpu.system) / 1e6).map((value) => ({ name: 'load generator CPU s per 1,000 events', value })),
      { name: 'wall s', value: wall },
    ]);
  } finally {
    for (const child of processes) await stop(child);
    await dropSchema(postgres.url, schema);
    if ('stop' in postgres) await postgres.stop();
    await kafkaService.stop?.();
    rmSync(dir, { recursive: true, force: true });
  }
}
