#!/usr/bin/env node
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import { DateTime } from 'luxon';
import { OffsetDateTime } from '@sluice/schemas';
import { openConfiguredEventStore } from '@sluice/app/stores';
import { SqliteFileError } from '@sluice/event-store';
import type { EventStore } from '@sluice/event-store';
import type { DemoOptions } from './commands/demo.js';
// commands load lazily: `sluice events` should not pay for fastify's start-up
const commands = {
  demo: () => import('./commands/demo.js'),
  events: () => import('./commands/events.js'),
  import: () => import('./commands/import.js'),
  importReport: () => import('./commands/import-report.js'),
  importSpend: () => import('./commands/import-spend.js'),
  report: () => import('./commands/report.js'),
  plan: () => import('./commands/plan.js'),
  measuredRates: () => import('./commands/measured-rates.js'),
  queryFunnel: () => import('./commands/query-funnel.js'),
  queryStages: () => import('./commands/query-stages.js'),
  queryTime: () => import('./commands/query-time.js'),
  queryOpportunities: () => import('./commands/query-opportunities.js'),
  forecast: () => import('./commands/forecast.js'),
  replay: () => import('./commands/replay.js'),
  revenue: () => import('./commands/revenue.js'),
  serve: () => import('./commands/serve.js'),
  status: () => import('./commands/status.js'),
  capture: () => import('./commands/capture.js'),
  // the distributed mode's processes are roles of the application layer
  app: () => import('@sluice/app'),
};
import { CliError, formatCount, formatDuration, printJson, usageError } from './output.js';
import { commandHelp, commandsOf, didYouMean, subcommandsOf } from './help.js';
import { ensureDataDir, resolveSettings } from './settings.js';
import type { Settings } from './settings.js';

const HELP = `sluice: event-sourced funnel analytics

usage:
  sluice serve  [--demo] [--host H] [--port P]     start the API on the embedded store (--demo: write demo data first)
  sluice bridge                                   run the kafka-bridge (distributed mode: server.kafka / SLUICE_KAFKA_BROKERS):
                                                  sluice.touchpoints -> the configured event store, dead letters to sluice.touchpoints.dlq
  sluice project [--partitions i/N]               run the projector as its own process: read models, ClickHouse sinks, lead changes
                                                  to Kafka, /healthz and /metrics on server.projector.port; --partitions: only
                                                  the leads of partition i of N, under a lease in PostgreSQL
  sluice import <file.ndjson> [--batch-size N] [--dry-run] [--json]
                                                  stream an NDJSON file of events into the store
  sluice import <file.csv|file.ndjson[.gz]> --map MAP [--dry-run] [--skip-invalid] [--errors FILE] [--delimiter C] [--json]
                                                  any export through a map (a JSON/YAML file, or hubspot-contacts, hubspot-deals,
                                                  salesforce-leads, salesforce-opportunities); atomic unless --skip-invalid
  sluice import-spend <file.csv|file.ndjson> [--json]
                                                  an ad platform's cost export as spend events (CSV columns: source, amount,
                                                  currency, period_start, period_end; optional channel, campaign, business_unit,
                                                  occurred_at, id); every row is checked first and nothing is written if one is bad
  sluice report cost --from DATE --to DATE [--period day|week|month|quarter|year|all] [--by source|channel|campaign|businessUnit]
                [--attribution first_touch|last_touch] [--url URL] [--json]   or: --file report.json
                                                  spend and return: leads to customers, revenue, cost per stage, ROI, payback
  sluice report sla --from DATE --to DATE [--as-of DATE] [--breaches N] [--url URL] [--json]   or: --file report.json
                                                  the marketing <-> sales SLA: MQLs against the commitment, first touch and
                                                  attempts per owner and unit, breaching leads, speed and persistence vs conversion
  sluice pipeline [--as-of DATE] [--by stage|category|owner|businessUnit|segment] [--url URL] [--json]
                                                  open opportunities as of an instant (default now): count, amount,
                                                  weighted amount, days in stage, per currency
  sluice waterfall --from DATE --to DATE [--by owner|businessUnit|segment] [--url URL] [--json]
                                                  the period's pipeline (close dates in it) from start to end: created,
                                                  pulled in, amount up/down, pushed out, lost, won
  sluice forecast --period 2026-Q3|2026-07 [--backtest N] [--as-of DATE] [--seed N] [--runs N] [--url URL] [--json]
                                                  expected revenue of the period (won so far, open pipeline at learned
                                                  probabilities, not-yet-created deals) with P10/P50/P90, by category and
                                                  owner; --backtest N: the N periods before, forecast as of their starts,
                                                  against what was won, and the mean absolute percentage error
  sluice demo   [--events N] [--seed N] [--months N] [--start YYYY-MM-DD] [--end INSTANT] [--time-zone TZ] [--json]
                                                  write the seeded synthetic demo data set; its history ends at --end
                                                  (default: now) and spans --months calendar months up to it
  sluice events <leadId> [--json]                 a lead's touchpoints, anonymous history included
  sluice query funnel --steps visit,form_submit,demo_held --from 2026-01-01 --to 2026-04-01
                [--window 30d] [--order ordered|strict|unordered] [--breakdown channel[,campaign]] [--url http://127.0.0.1:4780] [--json]
                [--unit leads|accounts|accounts_pooled|totals] [--attribution first_touch|last_touch|step:N]
                [--window-anchor first_step|per_step] [--date-scope first_step|all_steps] [--time-to-convert]
                [--ties log_order|funnel_order] [--tie-grace SECONDS] [--entry best|first] [--reentry true|false]
                [--exclude TYPE:A-B ...] [--exclusion-effect drop_out|remove] [--hold KEY[,KEY]]
                [--compare-to previous_period|FROM..TO]
                (a step written type? is optional: visit,form_submit?,demo_held)
                or: sluice query funnel --file funnel.json   (every option: see "Funnel semantics" in the README)
                                                  count an event funnel (leads per step, conversion, drop-off)
  sluice query funnel-leads <the funnel's flags, or --file funnel.json> --step N [--status reached|dropped]
                [--breakdown-value VALUE] [--limit N] [--cursor NEXT_AFTER] [--url URL] [--json]
                                                  the leads the funnel counted at step N (numbered from 1 as its table
                                                  prints): reached it, or dropped there; a page at a time
  sluice query conversion --from 2026-01-01 --to 2026-07-01 [--period day|week|month|quarter|year|all]
                [--pairs step_to_step|from_first|lead:mql,mql:sql] [--segment channel] [--filter businessUnit=emea,...]
                [--window 30d] [--unit lead|account] [--as-of DATE] [--url URL] [--json]   or: --file query.json
                                                  stage conversion per cohort (and segment): entered, converted, rate, disqualified,
                                                  recycled, median and p90 time; by lead or by account
  sluice query close-rates --from 2026-01-01 --to 2027-01-01 [--population lead] [--customer customer]
                [--property properties.pageType] [--types a,b] [--as-of DATE] [--url URL] [--json]   or: --file query.json
                                                  close rate of each activity against the average, with MQL-rule and weight suggestions
  sluice query drivers --from DATE --to DATE [--stages lead,customer] [--window 90d] [--property properties.pageType]
                [--types a,b] [--profile industry,companySize] [--as-of DATE] [--url URL] [--json]   or: --file query.json
                                                  which touchpoints and profile facts raise or lower the odds of converting:
                                                  odds ratios, intervals, Fisher p and Benjamini-Hochberg q values
  sluice query time-to-convert (--stages mql,sql | --steps form_submit,demo_held) --from DATE --to DATE
                [--window 90d] [--buckets 1h,1d,7d|auto] [--segment KEY] [--filter key=v,...] [--breakdown KEY]
                [--period day|week|month|quarter|year] [--url URL] [--json]
                                                  how long conversions take: count, mean, median, p90 and a histogram;
                                                  with --period, per period of entering the first stage or step (the trend)
  sluice query win-rates --from DATE --to DATE [--by stage|owner|segment|source] [--url URL] [--json]
                                                  won / closed of the opportunities closed in the range, by stage reached,
                                                  owner, segment or the source of the account's first touch
  sluice query sales-cycle --from DATE --to DATE [--by stage|owner|segment|source] [--url URL] [--json]
                                                  days from creation to win (mean, median, p90); days in each stage and
                                                  where deals went next
  sluice query velocity --from DATE --to DATE [--url URL] [--json]
                                                  opportunities x average won amount x win rate / cycle days, per currency
  sluice query deal-sizes --from DATE --to DATE [--url URL] [--json]
                                                  won deals per currency: count, total, average, median, p90
  sluice query cohorts --from DATE --to DATE [--period month|quarter] [--offsets 12] [--purchase payment]
                [--retention renewal,upsell] [--segment purchaseChannel] [--unit leads|accounts] [--as-of DATE] [--url URL] [--json]
                                                  customers (or accounts) by first-purchase cohort, retained in each period since
                                                  (periods after --as-of, by default now, have not happened: shown as -)
                dates: YYYY-MM-DD (local midnight in the business time zone), YYYY-MM or YYYY-Qn (--from: its first day,
                --to and --as-of: up to its end) or an instant with an offset; without --url, queries run on the data
                directory's engine after catching it up with the log
  sluice rebuild [--json]                         rebuild every read model from the log under the current rules
  sluice status [--url URL] [--json]              each follower (projector, ClickHouse sinks): position, head, lag, state and
                                                  parked items, from the data directory as it is (nothing is caught up first);
                                                  --url: a running server's, from its /readyz
  sluice parked [--follower NAME] [--json]        the events the followers could not apply and parked, with the reason
  sluice rejected --url URL [--json]              what a running server's Segment endpoint and tracker answered but did not store
  sluice whatif --candidate rules.json [--from DATE --to DATE] [--json]
                                                  replay the log under candidate rules beside the live ones; nothing live changes
  sluice plan   --revenue N --period 2027-Q1|2027-03 [--deal-size N] [--currency EUR] [--unit U] [--count leads|accounts]
                [--rate from:to=0.25 ...] [--lag from:to=DAYS ...] [--lookback MONTHS] [--stages a,b,c] [--as-of ISO] [--seed N] [--json]
                rates and lags are measured from the read models (caught up with the log first), the deal size from the
                payments of the deals won;
                --rate/--lag/--deal-size override them; --count accounts counts buying groups (steps from the stage tables)
                or: sluice plan --input plan.json [--json]
                                                  plan backward from a revenue target

common options:
  --data-dir DIR   where the embedded store lives (default ./.sluice, env SLUICE_DATA_DIR)
  --config FILE    rule and server configuration (JSON; env SLUICE_CONFIG)
  --json           machine-readable output
`;

const common = {
  'data-dir': { type: 'string' },
  config: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies ParseArgsConfig['options'];

/** The usage a flag error is followed by: the command's own lines (set once the command is known), else the whole list. */
let usageOfCommand = HELP;

function parse<O extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: O) {
  try {
    return parseArgs({ args, options: { ...common, ...options }, allowPositionals: true, strict: true });
  } catch (err) {
    const { message, code } = err as Error & { code?: string };
    const unknown = code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? /'(-{1,2}[^'=]+)/.exec(message)?.[1] : undefined;
    const said = unknown === undefined ? message : `unknown option ${unknown}${didYouMean(unknown.replace(/^-+/, ''), Object.keys({ ...common, ...options }), '--')}`;
    throw usageError(`${said}\n\n${usageOfCommand}`);
  }
}

function integerFlag(name: string, value: string | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw usageError(`--${name} must be a whole number >= ${min}, got "${value}"`);
  return n;
}

async function openStore(settings: Settings): Promise<EventStore> {
  if (settings.config.server.eventStore.adapter === 'sqlite') ensureDataDir(settings.dataDir);
  return openConfiguredEventStore(settings.config.server.eventStore, settings.dataDir);
}

async function withStore<T>(settings: Settings, work: (store: EventStore) => Promise<T>): Promise<T> {
  const store = await openStore(settings);
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

/** The demo's rules for a fresh data directory without a configuration (see adoptDemoConfig); says so on stderr. */
async function adoptDemoRules(values: Record<string, string | boolean | undefined>, settings: Settings, tell = true): Promise<Settings> {
  const { adoptDemoConfig } = await commands.demo();
  const adopted = adoptDemoConfig(values as Parameters<typeof resolveSettings>[0], process.env, settings, (values['time-zone'] as string | undefined) ?? settings.timeZone);
  if (adopted.written !== undefined && tell) console.error(`demo rules (business units smb, enterprise, partners; illustrative exchange rates) written to ${adopted.written}`);
  return adopted.settings;
}

function demoOptionsFrom(values: Record<string, string | boolean | undefined>, settings: Settings): DemoOptions {
  const months = integerFlag('months', values.months as string | undefined, 12);
  const timeZone = (values['time-zone'] as string | undefined) ?? settings.timeZone;
  // the composition root is the one place that reads the clock: a demo's history ends when it is written, unless --end says otherwise
  const end = (values.end as string | undefined) ?? new Date().toISOString();
  if (!OffsetDateTime.safeParse(end).success) throw usageError(`--end must be an instant with an offset or Z, like 2026-12-07T12:00:00Z, got "${end}"`);
  const endsAt = DateTime.fromISO(end, { setZone: true });
  const start = (values.start as string | undefined) ?? firstDayOfWindow(endsAt, months, timeZone);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(start)) throw usageError(`--start must be a date like 2026-01-01, got "${start}"`);
  if (DateTime.fromISO(start, { zone: timeZone }) >= endsAt) throw usageError(`--start (${start}) must come before the demo's end (${end}${values.end === undefined ? ', now' : ''})`);
  return { seed: integerFlag('seed', values.seed as string | undefined, 42, 0), targetEvents: integerFlag('events', values.events as string | undefined, 200_000), start, months, end, timeZone };
}

/** By default the window is `months` calendar months, the last of them the (partial) month the demo ends in, in the business's zone. */
function firstDayOfWindow(end: DateTime, months: number, timeZone: string): string {
  return end.setZone(timeZone).startOf('month').minus({ months: months - 1 }).toISODate()!;
}

const demoFlags = {
  events: { type: 'string' },
  seed: { type: 'string' },
  months: { type: 'string' },
  start: { type: 'string' },
  end: { type: 'string' },
  'time-zone': { type: 'string' },
} as const;

async function run(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  const subcommand = rest[0]?.startsWith('-') === false ? rest[0] : undefined;
  const ownHelp = command === undefined ? undefined : commandHelp(HELP, command, subcommand);
  usageOfCommand = ownHelp ?? HELP;
  // `sluice <command> [<subcommand>] --help`: that command's usage and the common options, not the whole list
  if (ownHelp !== undefined && (rest.includes('--help') || rest.includes('-h'))) return void process.stdout.write(ownHelp);
  switch (command) {
    case 'serve': {
      const { values } = parse(rest, { ...demoFlags, demo: { type: 'boolean', default: false }, host: { type: 'string' }, port: { type: 'string' } });
      let settings = resolveSettings(values, process.env);
      const { reservePort, serve } = await commands.serve();
      // first: a port in use must not cost the wait for the demo, nor leave its events behind
      const port = await reservePort(settings.host, settings.port);
      try {
        if (values.demo) settings = await adoptDemoRules(values, settings);
        const store = await openStore(settings);
        const held = values.demo ? await store.headPosition() : 0;
        if (held > 0) {
          // a demo written now would end at another instant than the one already there: its events would conflict with them
          console.error(`demo data: ${settings.dataDir} already holds ${formatCount(held)} log positions, served as they are (a fresh --data-dir gets a new demo)`);
        } else if (values.demo) {
          const { writeDemo } = await commands.demo();
          const summary = await writeDemo(store, demoOptionsFrom(values, settings));
          console.error(`demo data: ${formatCount(summary.accepted)} events written, ${formatCount(summary.duplicates)} already there (${formatDuration(summary.elapsedMs)})`);
        }
        await serve(store, settings, port);
      } catch (err) {
        await port.release();
        throw err;
      }
      return;
    }
    case 'bridge': {
      const { values } = parse(rest, {});
      const settings = resolveSettings(values, process.env);
      const { BridgeConfigError, runBridgeProcess } = await commands.app();
      await runBridgeProcess(settings).catch((err: unknown) => {
        throw err instanceof BridgeConfigError ? new CliError(err.message) : err;
      });
      return;
    }
    case 'project': {
      const { values } = parse(rest, { partitions: { type: 'string' } });
      const settings = resolveSettings(values, process.env);
      const { PartitionSpecError, ProjectorConfigError, parsePartitionSlot, runProjectorProcess } = await commands.app();
      try {
        await runProjectorProcess(settings, { slot: values.partitions === undefined ? undefined : parsePartitionSlot(values.partitions) });
      } catch (err) {
        throw err instanceof ProjectorConfigError || err instanceof PartitionSpecError ? new CliError(err.message) : err;
      }
      return;
    }
    case 'import': {
      const { values, positionals } = parse(rest, {
        'batch-size': { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        map: { type: 'string' },
        'skip-invalid': { type: 'boolean', default: false },
        errors: { type: 'string' },
        delimiter: { type: 'string' },
      });
      const file = positionals[0];
      if (file === undefined) throw usageError('sluice import needs a file: sluice import events.ndjson, or sluice import export.csv --map hubspot-contacts');
      const settings = resolveSettings(values, process.env);
      const { importMappedFile, importNdjson } = await commands.import();
      if (values.map !== undefined) {
        const errors = values.errors === undefined ? undefined : resolve(values.errors);
        const mapped = await importMappedFile(() => openStore(settings), {
          file: resolve(file),
          map: values.map,
          dryRun: values['dry-run'],
          skipInvalid: values['skip-invalid'],
          delimiter: values.delimiter,
          errorsFile: errors,
          timeZone: settings.timeZone,
        });
        if (values.json) printJson(mapped);
        else (await commands.importReport()).printMapImportSummary(mapped, errors);
        if (mapped.rejectedRows > 0) process.exitCode = 1;
        return;
      }
      const summary = await withStore(settings, (store) =>
        importNdjson(store, { file: resolve(file), batchSize: integerFlag('batch-size', values['batch-size'], 5_000), dryRun: values['dry-run'], maxReportedIssues: 50 }),
      );
      if (values.json) printJson(summary);
      else (await commands.importReport()).printImportSummary(summary);
      if (summary.rejectedBatches.length > 0) process.exitCode = 1;
      return;
    }
    case 'import-spend': {
      const { values, positionals } = parse(rest, {});
      const file = positionals[0];
      if (file === undefined) throw usageError('sluice import-spend needs a file: sluice import-spend costs.csv');
      const settings = resolveSettings(values, process.env);
      const { importSpend, printSpendImport } = await commands.importSpend();
      printSpendImport(await withStore(settings, (store) => importSpend(store, resolve(file), settings.timeZone)), values.json);
      return;
    }
    case 'report': {
      const [what, ...reportArgs] = rest;
      const target = { url: { type: 'string' }, host: { type: 'string' }, port: { type: 'string' }, file: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' } } as const;
      if (what === 'cost') {
        const { values } = parse(reportArgs, { ...target, period: { type: 'string' }, by: { type: 'string' }, attribution: { type: 'string' } });
        const settings = resolveSettings(values, process.env);
        await (await commands.report()).reportCost(() => openStore(settings), settings, values, values.json);
        return;
      }
      if (what === 'sla') {
        const { values } = parse(reportArgs, { ...target, 'as-of': { type: 'string' }, breaches: { type: 'string' } });
        const settings = resolveSettings(values, process.env);
        await (await commands.report()).reportSla(() => openStore(settings), settings, values, values.json, Date.now());
        return;
      }
      throw usageError(`sluice report takes: cost, sla (got ${what === undefined ? 'nothing' : `"${what}"${didYouMean(what, subcommandsOf(HELP, 'report'))}`})\n\n${HELP}`);
    }
    case 'pipeline':
    case 'waterfall': {
      const { values } = parse(rest, { 'as-of': { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, by: { type: 'string' }, url: { type: 'string' } });
      const settings = resolveSettings(values, process.env);
      const revenue = await commands.revenue();
      if (command === 'pipeline') await revenue.pipelineCommand(() => openStore(settings), settings, values, values.json, Date.now());
      else await revenue.waterfallCommand(() => openStore(settings), settings, values, values.json);
      return;
    }
    case 'forecast': {
      const { values } = parse(rest, { period: { type: 'string' }, backtest: { type: 'string' }, seed: { type: 'string' }, runs: { type: 'string' }, 'as-of': { type: 'string' }, url: { type: 'string' } });
      const settings = resolveSettings(values, process.env);
      await (await commands.forecast()).forecastCommand(() => openStore(settings), settings, values, values.json, Date.now());
      return;
    }
    case 'demo': {
      const { values } = parse(rest, demoFlags);
      const settings = await adoptDemoRules(values, resolveSettings(values, process.env), !values.json);
      const { writeDemo } = await commands.demo();
      const summary = await withStore(settings, (store) => writeDemo(store, demoOptionsFrom(values, settings), !values.json));
      if (values.json) printJson(summary);
      else
        console.log(
          `demo data set (seed ${summary.options.seed}, ${summary.options.months} months from ${summary.options.start} up to ${summary.options.end}, ${summary.options.timeZone}): ` +
            `${formatCount(summary.events)} events, ${formatCount(summary.accepted)} written, ${formatCount(summary.duplicates)} already stored, ${formatDuration(summary.elapsedMs)}`,
        );
      return;
    }
    case 'events': {
      const { values, positionals } = parse(rest, {});
      const leadId = positionals[0];
      if (leadId === undefined) throw usageError('sluice events needs a lead id: sluice events lead-42');
      const settings = resolveSettings(values, process.env);
      const { showLeadEvents } = await commands.events();
      await withStore(settings, (store) => showLeadEvents(store, leadId, values.json));
      return;
    }
    case 'query': {
      const [what, ...queryArgs] = rest;
      const target = { url: { type: 'string' }, host: { type: 'string' }, port: { type: 'string' }, file: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' } } as const;
      switch (what) {
        case 'funnel':
        case 'funnel-leads': {
          const funnelFlags = {
            ...target,
            steps: { type: 'string' },
            window: { type: 'string' },
            order: { type: 'string' },
            breakdown: { type: 'string' },
            unit: { type: 'string' },
            attribution: { type: 'string' },
            'window-anchor': { type: 'string' },
            'date-scope': { type: 'string' },
            ties: { type: 'string' },
            'tie-grace': { type: 'string' },
            entry: { type: 'string' },
            reentry: { type: 'string' },
            'exclusion-effect': { type: 'string' },
            exclude: { type: 'string', multiple: true },
            hold: { type: 'string' },
            'compare-to': { type: 'string' },
            'time-to-convert': { type: 'boolean' },
          } as const;
          if (what === 'funnel') {
            const { values } = parse(queryArgs, funnelFlags);
            const settings = resolveSettings(values, process.env);
            const { queryFunnel } = await commands.queryFunnel();
            await queryFunnel(() => openStore(settings), settings, values, values.json);
            return;
          }
          const { values } = parse(queryArgs, { ...funnelFlags, step: { type: 'string' }, status: { type: 'string' }, 'breakdown-value': { type: 'string' }, limit: { type: 'string' }, cursor: { type: 'string' } });
          const settings = resolveSettings(values, process.env);
          const { queryFunnelLeads } = await commands.queryFunnel();
          await queryFunnelLeads(() => openStore(settings), settings, values, values.json);
          return;
        }
        case 'conversion': {
          const { values } = parse(queryArgs, {
            ...target,
            period: { type: 'string' },
            pairs: { type: 'string' },
            segment: { type: 'string' },
            filter: { type: 'string', multiple: true },
            window: { type: 'string' },
            unit: { type: 'string' },
            'as-of': { type: 'string' },
          });
          const settings = resolveSettings(values, process.env);
          const { queryConversion } = await commands.queryStages();
          await queryConversion(() => openStore(settings), settings, values, values.json);
          return;
        }
        case 'close-rates': {
          const { values } = parse(queryArgs, { ...target, population: { type: 'string' }, customer: { type: 'string' }, property: { type: 'string' }, types: { type: 'string' }, 'as-of': { type: 'string' } });
          const settings = resolveSettings(values, process.env);
          const { queryCloseRates } = await commands.queryStages();
          await queryCloseRates(() => openStore(settings), settings, values, values.json);
          return;
        }
        case 'drivers': {
          const { values } = parse(queryArgs, {
            ...target,
            stages: { type: 'string' },
            window: { type: 'string' },
            property: { type: 'string' },
            types: { type: 'string' },
            profile: { type: 'string' },
            'as-of': { type: 'string' },
          });
          const settings = resolveSettings(values, process.env);
          const { queryDrivers } = await commands.queryStages();
          await queryDrivers(() => openStore(settings), settings, values, values.json);
          return;
        }
        case 'time-to-convert': {
          const { values } = parse(queryArgs, {
            ...target,
            stages: { type: 'string' },
            steps: { type: 'string' },
            window: { type: 'string' },
            buckets: { type: 'string' },
            segment: { type: 'string' },
            filter: { type: 'string', multiple: true },
            breakdown: { type: 'string' },
            period: { type: 'string' },
            'as-of': { type: 'string' },
          });
          const settings = resolveSettings(values, process.env);
          const { queryTimeToConvert } = await commands.queryTime();
          await queryTimeToConvert(() => openStore(settings), settings, values, values.json);
          return;
        }
        case 'cohorts': {
          const { values } = parse(queryArgs, {
            ...target,
            period: { type: 'string' },
            offsets: { type: 'string' },
            purchase: { type: 'string' },
            retention: { type: 'string' },
            segment: { type: 'string' },
            unit: { type: 'string' },
            'as-of': { type: 'string' },
          });
          const settings = resolveSettings(values, process.env);
          const { queryCohorts } = await commands.queryTime();
          await queryCohorts(() => openStore(settings), settings, values, values.json);
          return;
        }
        case 'win-rates':
        case 'sales-cycle':
        case 'velocity':
        case 'deal-sizes': {
          const { values } = parse(queryArgs, { ...target, by: { type: 'string' } });
          const settings = resolveSettings(values, process.env);
          const opportunities = await commands.queryOpportunities();
          const run = { 'win-rates': opportunities.queryWinRates, 'sales-cycle': opportunities.querySalesCycle, velocity: opportunities.queryVelocity, 'deal-sizes': opportunities.queryDealSizes }[what];
          await run(() => openStore(settings), settings, values, values.json);
          return;
        }
        default:
          throw usageError(`sluice query takes: funnel, funnel-leads, conversion, close-rates, drivers, time-to-convert, cohorts, win-rates, sales-cycle, velocity, deal-sizes (got ${what === undefined ? 'nothing' : `"${what}"${didYouMean(what, subcommandsOf(HELP, 'query'))}`})\n\n${HELP}`);
      }
    }
    case 'rebuild': {
      const { values } = parse(rest, {});
      const settings = resolveSettings(values, process.env);
      const { rebuildReadModels } = await commands.replay();
      await withStore(settings, (store) => rebuildReadModels(store, settings, values.json));
      return;
    }
    case 'status': {
      const { values } = parse(rest, { url: { type: 'string' } });
      const settings = resolveSettings(values, process.env);
      await (await commands.status()).showStatus(() => openStore(settings), settings, values.url, values.json);
      return;
    }
    case 'rejected': {
      const { values } = parse(rest, { url: { type: 'string' } });
      await (await commands.capture()).showRejected(values.url, resolveSettings(values, process.env), values.json);
      return;
    }
    case 'parked': {
      const { values } = parse(rest, { follower: { type: 'string' } });
      const settings = resolveSettings(values, process.env);
      await (await commands.status()).showParked(settings, values.follower, values.json);
      return;
    }
    case 'whatif': {
      const { values } = parse(rest, { candidate: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' } });
      const settings = resolveSettings(values, process.env);
      const { runWhatIf } = await commands.replay();
      await withStore(settings, (store) => runWhatIf(store, settings, values, values.json));
      return;
    }
    case 'plan': {
      const { values } = parse(rest, {
        revenue: { type: 'string' },
        'deal-size': { type: 'string' },
        period: { type: 'string' },
        unit: { type: 'string' },
        rate: { type: 'string', multiple: true },
        lag: { type: 'string', multiple: true },
        stages: { type: 'string' },
        'as-of': { type: 'string' },
        seed: { type: 'string' },
        input: { type: 'string' },
        lookback: { type: 'string' },
        currency: { type: 'string' },
        count: { type: 'string' },
      });
      const settings = resolveSettings(values, process.env);
      const { planInputFromFlags, runPlan, measureDealSizesFromDataDir, measureAccountStepsFromDataDir } = await commands.plan();
      const { withMeasuredProjections } = await commands.measuredRates();
      // the composition root reads the clock; the planner takes "now" as input
      const input = await planInputFromFlags(
        values,
        { asOf: new Date().toISOString(), timeZone: settings.timeZone },
        (raw, months) => measureDealSizesFromDataDir(raw, months, () => openStore(settings), settings),
        (raw, months) => measureAccountStepsFromDataDir(raw, months, () => openStore(settings), settings),
        (read) => withMeasuredProjections(() => openStore(settings), settings, read),
      );
      runPlan((await import('@sluice/planner')).withRuleSlaTargets(input, settings.config.sla), values.json);
      return;
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      // `sluice help import` as `sluice import --help`
      process.stdout.write((command === 'help' && subcommand !== undefined ? commandHelp(HELP, subcommand, rest[1]) : undefined) ?? HELP);
      return;
    default:
      throw usageError(`unknown command "${command}"${didYouMean(command, commandsOf(HELP))}\n\n${HELP}`);
  }
}

run(process.argv.slice(2)).catch((err: unknown) => {
  // a data file this Sluice cannot use is the user's to fix too: its message names the file and what to do
  if (err instanceof CliError || err instanceof SqliteFileError) {
    console.error(`sluice: ${err.message}`);
    process.exitCode = err instanceof CliError ? err.exitCode : 1;
  } else {
    console.error('sluice: unexpected error:', err);
    process.exitCode = 1;
  }
});
