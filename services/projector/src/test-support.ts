import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { demoRules } from '../../../packages/projector/src/test-support.js';
import type { ProjectorHealth } from '@sluice/app';

/** Test support (imported by *.test.ts only): the projector process as a child, started the way operators start it. */

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const main = fileURLToPath(new URL('./main.ts', import.meta.url));

export interface Running {
  child: ChildProcess;
  health(): Promise<ProjectorHealth>;
  /** its /metrics, as Prometheus text */
  metrics(): Promise<string>;
  output(): string;
}

/** Starts `main.ts`; `ready` resolves with its /healthz once it serves (a standby first waits for its lease). */
export function spawnProjectorProcess(configFile: string, args: readonly string[] = []): Running & { ready: Promise<Running> } {
  const child = spawn(process.execPath, ['--import', 'tsx', main, ...args], { cwd: repoRoot, env: { ...process.env, SLUICE_CONFIG: configFile, CLICKHOUSE_URL: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let url = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const running: Running = {
    child,
    health: async () => (await (await fetch(url)).json()) as ProjectorHealth,
    metrics: async () => (await fetch(url.replace(/\/healthz$/, '/metrics'))).text(),
    output: () => output,
  };
  const ready = new Promise<Running>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      const found = /health on (http:\/\/\S+\/healthz)/.exec(output);
      if (found && url === '') {
        url = found[1]!;
        resolve(running);
      }
    });
    child.once('exit', (code, signal) => reject(new Error(`the projector exited (${code ?? signal}) before serving:\n${output}`)));
  });
  // a standby killed before it serves rejects `ready` with nobody waiting on it
  ready.catch(() => undefined);
  return { ...running, ready };
}

export const startProjectorProcess = (configFile: string, args: readonly string[] = []): Promise<Running> => spawnProjectorProcess(configFile, args).ready;

/** A config file for one instance: the demo rules, the PostgreSQL store, any free port. */
export function writeProjectorConfig(file: string, server: { dataDir: string; url: string; schema: string; leaseSeconds?: number }): void {
  const rules = demoRules('svc-rules-1');
  const projector = { port: 0, ...(server.leaseSeconds === undefined ? {} : { leaseSeconds: server.leaseSeconds }) };
  writeFileSync(
    file,
    JSON.stringify({
      version: rules.version,
      timeZone: rules.timeZone,
      businessUnits: rules.businessUnits,
      server: { dataDir: server.dataDir, eventStore: { adapter: 'postgres', url: server.url, schema: server.schema }, projector },
    }),
  );
}

export function stopProcess(child: ChildProcess, signal: NodeJS.Signals): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.kill(signal);
  });
}

/** Everything in the log projected, and both ClickHouse sinks at the projector's checkpoint. */
export const settled = (h: ProjectorHealth) => h.projector === h.head && (h.touchpoints === undefined || h.touchpoints === h.head) && h.stageTables === h.projector;
