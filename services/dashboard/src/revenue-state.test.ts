import { INFLOWS, PIPELINE_GROUPS, PipelineQuerySchema, WATERFALL_GROUPS, WATERFALL_TERMS, WaterfallQuerySchema } from '@sluice/revenue';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import {
  PIPELINE_GROUP_CHOICES,
  WATERFALL_GROUP_CHOICES,
  WATERFALL_TERM_LABELS,
  hashOf,
  pipelineAddress,
  pipelineQuery,
  pipelineStateOf,
  thisQuarter,
  waterfallAddress,
  waterfallBars,
  waterfallQuery,
  waterfallStateOf,
} from './revenue-state.js';

const zone = 'Europe/Berlin';
const now = DateTime.fromISO('2026-05-20T10:15:30.250Z');

/** What the shell hands the view: the hash split on `/`, each part decoded (main.ts route()). */
const routed = (hash: string) => hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent).slice(1)[0] ?? '';

describe('the copies of @sluice/revenue lists the page keeps', () => {
  it('given the groupings and terms, then they are the API schema lists, in order', () => {
    expect(PIPELINE_GROUP_CHOICES.map(([v]) => v)).toEqual(['', ...PIPELINE_GROUPS]);
    expect(WATERFALL_GROUP_CHOICES.map(([v]) => v)).toEqual(['', ...WATERFALL_GROUPS]);
    expect(WATERFALL_TERM_LABELS.map(([t]) => t)).toEqual([...WATERFALL_TERMS]);
    expect(WATERFALL_TERM_LABELS.filter(([, , inflow]) => inflow).map(([t]) => t)).toEqual([...INFLOWS]);
  });
});

describe('the pipeline state', () => {
  it('given now, then the query names the page clock in the business zone and is what the API schema takes', () => {
    const query = pipelineQuery({ asOf: '', groupBy: 'category' }, zone, now);
    expect(Object.fromEntries(new URLSearchParams(query))).toEqual({ asOf: '2026-05-20T12:15:30.250+02:00', groupBy: 'category' });
    expect(PipelineQuerySchema.safeParse(Object.fromEntries(new URLSearchParams(query))).success).toBe(true);
  });

  it('given a local as-of and no grouping, then the query is that wall time in the zone, without groupBy', () => {
    expect(pipelineQuery({ asOf: '2026-01-31T23:30', groupBy: '' }, zone, now)).toBe(new URLSearchParams({ asOf: '2026-01-31T23:30:00+01:00' }).toString());
  });

  it('given a state through the address, then it comes back; an empty address is now by stage; an unknown grouping is none', () => {
    for (const state of [
      { asOf: '2026-03-01T08:00', groupBy: 'owner' },
      { asOf: '', groupBy: '' },
      { asOf: '', groupBy: 'businessUnit' },
    ])
      expect(pipelineStateOf(routed(hashOf('pipeline', pipelineAddress(state))))).toEqual(state);
    expect(pipelineStateOf('')).toEqual({ asOf: '', groupBy: 'stage' });
    expect(pipelineStateOf('asOf=yesterday&by=region')).toEqual({ asOf: '', groupBy: '' });
  });
});

describe('the waterfall state', () => {
  it('given no address, then the period is this quarter in the business zone, both days included', () => {
    expect(thisQuarter(zone, now)).toEqual({ from: '2026-04-01', to: '2026-06-30' });
    // 23:30 UTC on 31 March is already April in Berlin
    expect(thisQuarter(zone, DateTime.fromISO('2026-03-31T23:30:00Z'))).toEqual({ from: '2026-04-01', to: '2026-06-30' });
    expect(waterfallStateOf('', zone, now)).toEqual({ from: '2026-04-01', to: '2026-06-30', groupBy: '' });
  });

  it('given a period, then the query is [local midnight of from, local midnight after to) and the API schema takes it', () => {
    const query = waterfallQuery({ from: '2026-01-01', to: '2026-03-31', groupBy: 'segment' }, zone);
    const params = Object.fromEntries(new URLSearchParams(query));
    expect(params).toEqual({ from: '2026-01-01T00:00:00+01:00', to: '2026-04-01T00:00:00+02:00', groupBy: 'segment' });
    expect(WaterfallQuerySchema.safeParse(params).success).toBe(true);
  });

  it('given a state through the address, then it comes back; a reversed or unreadable period is this quarter', () => {
    const state = { from: '2025-10-01', to: '2025-12-31', groupBy: 'owner' };
    expect(waterfallStateOf(routed(hashOf('waterfall', waterfallAddress(state))), zone, now)).toEqual(state);
    expect(waterfallStateOf('from=2026-02-01&to=2026-01-01&by=owner', zone, now)).toEqual({ from: '2026-04-01', to: '2026-06-30', groupBy: 'owner' });
    expect(waterfallStateOf('from=2026-02-30&to=2026-03-01', zone, now)).toEqual({ from: '2026-04-01', to: '2026-06-30', groupBy: '' });
  });
});

describe('the waterfall bars', () => {
  it('given terms that balance, then each term hangs from the running total and the last one lands on end', () => {
    const terms = { created: 50, pulledIn: 10, amountUp: 5, amountDown: 15, pushedOut: 20, lost: 30, won: 40 };
    const end = 100 + 50 + 10 + 5 - 15 - 20 - 30 - 40;
    const bars = waterfallBars(100, terms, end);
    expect(bars.map((b) => [b.label, b.base, b.value])).toEqual([
      ['start', 0, 100],
      ['created', 100, 50],
      ['pulled in', 150, 10],
      ['amount up', 160, 5],
      ['amount down', 150, 15],
      ['pushed out', 130, 20],
      ['lost', 100, 30],
      ['won', 60, 40],
      ['end', 0, end],
    ]);
    const won = bars.at(-2)!;
    expect(won.base).toBe(end);
  });
});
