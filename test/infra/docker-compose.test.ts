import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ENV_VARIABLES, loadConfig } from '@sluice/config';

/*
 * infra/docker-compose.yml cannot be run here (no Docker engine), so it is
 * held to what the code reads: every Sluice service is built from the
 * Dockerfile and runs a real `sluice` command, its environment names only
 * variables the config loader (or the ClickHouse client) reads and loads
 * through the real loader, the ports it publishes are the ones that config
 * listens on, and every host it names is a service of the file.
 */

const infra = fileURLToPath(new URL('../../infra/', import.meta.url));

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Record<string, string | number>;
  ports?: string[];
  expose?: string[];
  depends_on?: Record<string, unknown>;
}

const compose = parse(readFileSync(`${infra}docker-compose.yml`, 'utf8'), { merge: true }) as { services: Record<string, Service> };
const services = compose.services;
const sluiceServices = Object.entries(services).filter(([, s]) => s.build !== undefined);

/** `${NAME:-default}` as compose substitutes it with NAME unset. */
const withDefaults = (env: Record<string, string | number>) =>
  Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v).replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1')]));

/** The container side of each published or exposed port. */
const containerPorts = (s: Service) => [...(s.ports ?? []).map((p) => Number(p.split(':').at(-1))), ...(s.expose ?? []).map(Number)];

describe('infra/docker-compose.yml', () => {
  it('has the distributed stack: Kafka, PostgreSQL, EventStoreDB, ClickHouse server and the three Sluice processes', () => {
    expect(services.kafka?.image).toMatch(/^apache\/kafka:/);
    expect(services.postgres?.image).toMatch(/^postgres:/);
    expect(services.eventstore?.image).toMatch(/^eventstore\/eventstore:/);
    expect(services.clickhouse?.image).toMatch(/^clickhouse\/clickhouse-server:/);
    expect(sluiceServices.map(([, s]) => s.command![0]).sort()).toEqual(['bridge', 'project', 'project', 'serve']);
    for (const [name, s] of sluiceServices) {
      expect(existsSync(`${infra}${s.build!.context}/${s.build!.dockerfile}`), name).toBe(true);
      for (const dependency of Object.keys(s.depends_on ?? {})) expect(services[dependency], `${name} depends on ${dependency}`).toBeDefined();
    }
  });

  it('names only variables the code reads, which load through the real config loader with the ports the compose file publishes', () => {
    const known = new Set<string>([...ENV_VARIABLES, 'CLICKHOUSE_URL']);
    for (const [name, s] of sluiceServices) {
      const env = withDefaults(s.environment ?? {});
      for (const variable of Object.keys(env)) expect(known, `${name}: ${variable}`).toContain(variable);
      const { server } = loadConfig({ env });
      expect(server.host, name).toBe('0.0.0.0');
      expect(server.eventStore.adapter, name).toBe('postgres');
      const listens = { serve: server.port, bridge: server.kafka?.bridge.metricsPort, project: server.projector.port }[s.command![0]!];
      expect(containerPorts(s), name).toContain(listens);
      // every host a service connects to is a service of the file
      const store = server.eventStore.adapter === 'postgres' ? [new URL(server.eventStore.url).hostname] : [];
      const hosts = [...server.kafka!.brokers.map((b) => b.split(':')[0]!), ...store, new URL(env.CLICKHOUSE_URL!).hostname];
      for (const host of hosts) expect(services[host], `${name} connects to ${host}`).toBeDefined();
    }
  });

  it('advertises the broker under the address the services are given', () => {
    const kafka = withDefaults(services.kafka!.environment!);
    const brokers = new Set(sluiceServices.map(([, s]) => withDefaults(s.environment!).SLUICE_KAFKA_BROKERS));
    expect([...brokers]).toEqual([kafka.KAFKA_ADVERTISED_LISTENERS!.replace(/^PLAINTEXT:\/\//, '')]);
  });

  it('runs each projector partition of one layout once', () => {
    const partitions = sluiceServices.filter(([, s]) => s.command![0] === 'project').map(([, s]) => s.command![s.command!.indexOf('--partitions') + 1]);
    expect(partitions.sort()).toEqual(['0/2', '1/2']);
  });
});
