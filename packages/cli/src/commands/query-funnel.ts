import { readFileSync } from 'node:fs';
import { createAnalyticsClient, migrate, parseFunnelDefinition, runFunnel, syncTouchpoints } from '@sluice/analytics';
import type { FunnelDefinition, FunnelResult } from '@sluice/analytics';
import type { EventStore } from '@sluice/event-store';
import { CliError, formatPercent, formatTable, printJson, usageError } from '../output.js';
import type { Settings } from '../settings.js';

export interface FunnelFlags {
  file?: string | undefined;
  steps?: string | undefined;
  window?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
  order?: string | undefined;
  breakdown?: string | undefined;
  url?: string | undefined;
}

/** `30d`, `12h`, `45m`, `90s` */
function windowOf(text: string) {
  const m = /^(\d+)([dhms])$/.exec(text);
  if (!m) throw usageError(`--window takes a number and a unit, e.g. 30d, 12h, 45m; got "${text}"`);
  const unit = { d: 'days', h: 'hours', m: 'minutes', s: 'seconds' }[m[2] as 'd' | 'h' | 'm' | 's'];
  return { value: Number(m[1]), unit };
}

const dayStart = (date: string) => (/^\d{4}-\d{2}-\d{2}$/.test(date) ? `${date}T00:00:00Z` : date);

/** A definition from a JSON file, or from flags for the common case. */
export function funnelFromFlags(flags: FunnelFlags): FunnelDefinition {
  let raw: unknown;
  if (flags.file !== undefined) {
    try {
      raw = JSON.parse(readFileSync(flags.file, 'utf8'));
    } catch (err) {
      throw new CliError(`cannot read funnel definition ${flags.file}: ${(err as Error).message}`);
    }
  } else {
    if (flags.steps === undefined || flags.from === undefined || flags.to === undefined) {
      throw usageError('sluice query funnel needs --steps a,b,c --from DATE --to DATE (or --file funnel.json)');
    }
    raw = {
      steps: flags.steps.split(',').map((type) => ({ type: type.trim() })),
      window: windowOf(flags.window ?? '30d'),
      dateRange: { from: dayStart(flags.from), to: dayStart(flags.to) },
      ...(flags.order === undefined ? {} : { order: flags.order }),
      ...(flags.breakdown === undefined ? {} : { breakdown: flags.breakdown }),
    };
  }
  const parsed = parseFunnelDefinition(raw);
  if (!parsed.ok) throw new CliError(`the funnel definition is invalid:\n${parsed.issues.map((i) => `  ${i.field || '(definition)'}: ${i.message}`).join('\n')}`);
  return parsed.definition;
}


export function formatFunnel(result: FunnelResult): string {
  const table = (steps: FunnelResult['steps'] | NonNullable<FunnelResult['breakdown']>['groups'][number]['steps']) =>
    formatTable(
      ['step', 'event', 'leads', 'from previous', 'from first', 'dropped'],
      steps.map((s, i) => [i + 1, result.steps[i]!.label ?? result.steps[i]!.type, s.leads, formatPercent(s.conversionFromPrevious), formatPercent(s.conversionFromFirst), s.droppedFromPrevious]),
    );
  let out = table(result.steps);
  if (result.breakdown) {
    for (const g of result.breakdown.groups) out += `\n${result.breakdown.key} = ${g.value === '' ? '(none)' : g.value}\n${table(g.steps)}`;
    if (result.breakdown.truncated) out += '\n(more groups exist; the totals above count them)\n';
  }
  return out;
}

/**
 * Against a running server (--url) through its API, or on the embedded engine
 * of the data directory after bringing its ClickHouse copy up to the log's head.
 */
export async function queryFunnel(store: () => Promise<EventStore>, settings: Settings, flags: FunnelFlags, json: boolean): Promise<void> {
  const definition = funnelFromFlags(flags);
  let result: FunnelResult;
  if (flags.url !== undefined) {
    const key = settings.apiKeys[0]?.secret ?? process.env.SLUICE_API_KEY;
    const res = await fetch(new URL('/v1/funnels', flags.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
      body: JSON.stringify(definition),
    }).catch((err: unknown) => {
      throw new CliError(`cannot reach ${flags.url}: ${(err as Error).message}`);
    });
    const body = (await res.json()) as FunnelResult & { detail?: string };
    if (!res.ok) throw new CliError(`the server answered ${res.status}: ${body.detail ?? ''}`);
    result = body;
  } else {
    const events = await store();
    let client;
    try {
      client = createAnalyticsClient({ url: settings.clickhouseUrl, dataPath: settings.dataDir });
    } catch (err) {
      await events.close();
      throw new CliError(`${(err as Error).message}\n(if \`sluice serve\` is running on this data directory, query it with --url http://${settings.host}:${settings.port})`);
    }
    try {
      await migrate(client);
      await syncTouchpoints(events, client);
      result = await runFunnel(client, definition);
    } finally {
      await client.close();
      await events.close();
    }
  }
  if (json) printJson(result);
  else process.stdout.write(formatFunnel(result));
}
