import { parseFunnelDefinition } from '@sluice/analytics';
import { FUNNEL_OPTION_DEFAULTS } from '@sluice/analytics/reference';
import { ENVELOPE_KEYS as DOMAIN_ENVELOPE_KEYS } from '@sluice/domain';
import { ACTORLESS_TYPES, EVENT_TYPES } from '@sluice/schemas';
import { describe, expect, it } from 'vitest';
import {
  COUNTING_CHOICES,
  COUNTING_DEFAULTS,
  ENVELOPE_KEYS,
  STEP_TYPES,
  attributionChoices,
  defaultState,
  fieldsMeet,
  funnelBody,
  funnelHash,
  groupLabel,
  newStep,
  stateFromQuery,
  stateQuery,
  unitNoun,
} from './funnel-state.js';
import type { FunnelState } from './funnel-state.js';

const range = { from: '2026-01', to: '2026-03' };

/** What the shell hands the view: the hash split on `/`, each part decoded (main.ts route()). */
const routedParam = (hash: string) => hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent)[1]!;

/** Every field away from its default, and values that mean something in a URL. */
const everything: FunnelState = {
  steps: [
    { type: 'visit', label: 'Landing', whereKey: 'channel', whereValue: 'paid_search', optional: false },
    newStep('form_submit'),
    { type: 'demo_requested', label: '', whereKey: 'properties.x.segment', whereValue: 'a&b=c/d%e+f ü#', optional: false },
  ],
  range: { from: '2025-11', to: '2026-02' },
  order: 'strict',
  windowValue: 12,
  windowUnit: 'hours',
  exclusions: [{ type: 'unsubscribe', afterStep: 1, beforeStep: 2 }],
  breakdown: ['channel', 'source'],
  compare: true,
  timeToConvert: true,
  holdConstant: 'properties.dealId',
  tieGraceSeconds: 60,
  options: { windowAnchor: 'per_step', ties: 'funnel_order', dateScope: 'all_steps', exclusionEffect: 'remove', entry: 'first', reentry: false, unit: 'accounts', attribution: 'last_touch' },
};

describe('the funnel body the page sends', () => {
  it('given the starting funnel, then three steps, the order, a 30-day window and the months as [first day, day after the last) in the zone; no option is sent', () => {
    expect(funnelBody(defaultState(range), 'UTC')).toEqual({
      steps: [{ type: 'visit' }, { type: 'form_submit' }, { type: 'demo_requested' }],
      order: 'ordered',
      window: { value: 30, unit: 'days' },
      dateRange: { from: '2026-01-01T00:00:00Z', to: '2026-04-01T00:00:00Z' },
    });
  });

  it('given every choice made, then each reaches the body: condition and label per step, exclusions, two breakdown keys as a list, compareTo, time to convert, a held key, every option', () => {
    expect(funnelBody(everything, 'UTC')).toEqual({
      steps: [
        { type: 'visit', where: [{ key: 'channel', op: 'eq', value: 'paid_search' }], label: 'Landing' },
        { type: 'form_submit' },
        { type: 'demo_requested', where: [{ key: 'properties.x.segment', op: 'eq', value: 'a&b=c/d%e+f ü#' }] },
      ],
      order: 'strict',
      window: { value: 12, unit: 'hours' },
      // November 2025 to February 2026 inclusive
      dateRange: { from: '2025-11-01T00:00:00Z', to: '2026-03-01T00:00:00Z' },
      exclusions: [{ type: 'unsubscribe', afterStep: 1, beforeStep: 2 }],
      breakdown: ['channel', 'source'],
      compareTo: 'previous_period',
      timeToConvert: true,
      holdConstant: ['properties.dealId'],
      tieGraceSeconds: 60,
      windowAnchor: 'per_step',
      ties: 'funnel_order',
      dateScope: 'all_steps',
      exclusionEffect: 'remove',
      entry: 'first',
      reentry: false,
      unit: 'accounts',
      attribution: 'last_touch',
    });
  });

  it('given one breakdown key, then it is sent as the key alone; given only some options changed, then only those', () => {
    const state = { ...defaultState(range), breakdown: ['campaign'], options: { ...COUNTING_DEFAULTS, unit: 'totals', attribution: 'step:1' } };
    const body = funnelBody(state, 'UTC');
    expect(body.breakdown).toBe('campaign');
    expect(Object.keys(body)).toEqual(['steps', 'order', 'window', 'dateRange', 'breakdown', 'unit', 'attribution']);
    expect([body.unit, body.attribution]).toEqual(['totals', 'step:1']);
  });

  it('given a condition value without a key, then the condition is sent and the API refuses it naming the key (nothing typed is dropped)', () => {
    const state = { ...defaultState(range), steps: [newStep('visit'), { ...newStep('form_submit'), whereValue: 'email' }] };
    expect((funnelBody(state, 'UTC').steps as unknown[])[1]).toEqual({ type: 'form_submit', where: [{ key: '', op: 'eq', value: 'email' }] });
    const parsed = parseFunnelDefinition(funnelBody(state, 'UTC'));
    expect(parsed.ok ? [] : parsed.issues.map((i) => i.field)).toEqual(['steps.1.where.0.key']);
  });

  it('given a step marked optional, then it is sent as optional, the API takes it, and the URL keeps it', () => {
    const state = { ...defaultState(range), steps: [newStep('visit'), { ...newStep('form_submit'), optional: true }, newStep('demo_requested')] };
    const body = funnelBody(state, 'UTC');
    expect(body.steps).toEqual([{ type: 'visit' }, { type: 'form_submit', optional: true }, { type: 'demo_requested' }]);
    const parsed = parseFunnelDefinition(body);
    expect(parsed.ok && parsed.definition.steps.map((s) => s.optional)).toEqual([false, true, false]);
    expect(stateQuery(state)).toBe('from=2026-01&to=2026-03&s0.type=visit&s1.type=form_submit&s1.optional=1&s2.type=demo_requested');
    expect(stateFromQuery(stateQuery(state), range)).toEqual(state);
  });

  it('given any choice the options panel offers, then the API accepts the body and reads the choice back', () => {
    for (const [option, choices] of Object.entries(COUNTING_CHOICES)) {
      for (const choice of option === 'attribution' ? attributionChoices(3) : choices) {
        const key = option as keyof typeof COUNTING_DEFAULTS;
        const options = { ...COUNTING_DEFAULTS, [key]: key === 'reentry' ? choice === 'true' : choice };
        const parsed = parseFunnelDefinition(funnelBody({ ...everything, order: 'ordered', options }, 'UTC'));
        expect(parsed.ok ? parsed.definition[key] : parsed.issues, `${option}=${choice}`).toEqual(options[key]);
      }
    }
  });
});

describe('the funnel in the URL', () => {
  it('given the starting funnel, then the hash names the months and the step types only', () => {
    expect(funnelHash(defaultState(range))).toBe('#/event-funnel/from=2026-01&to=2026-03&s0.type=visit&s1.type=form_submit&s2.type=demo_requested');
  });

  it('given every field set, with &, =, /, %, + and # in a value, then the state read back from the routed hash is the same state', () => {
    const hash = funnelHash(everything);
    expect(stateFromQuery(routedParam(hash), range)).toEqual(everything);
    // only what differs from the defaults is written: a changed unit is one parameter
    expect(stateQuery({ ...defaultState(range), options: { ...COUNTING_DEFAULTS, unit: 'accounts' } })).toBe('from=2026-01&to=2026-03&s0.type=visit&s1.type=form_submit&s2.type=demo_requested&unit=accounts');
  });

  it('given no query, then the starting funnel over the given months; given an unreadable number, then its default', () => {
    expect(stateFromQuery('', range)).toEqual(defaultState(range));
    const read = stateFromQuery('window=abc&x0.type=unsubscribe&x0.beforeStep=&s0.type=visit', range);
    expect(read.windowValue).toBe(30);
    expect(read.steps).toEqual([newStep('visit')]);
    expect(read.exclusions).toEqual([{ type: 'unsubscribe', afterStep: 0, beforeStep: 1 }]);
  });
});

describe('the lists the page keeps are the API’s', () => {
  it('given the event schemas, then the step types are every type but the actorless (spend) ones', () => {
    expect(STEP_TYPES).toEqual(EVENT_TYPES.filter((t) => !ACTORLESS_TYPES.has(t)));
  });

  it('given the domain, then the envelope keys and the counting defaults match, and each choice list starts with its default', () => {
    expect(ENVELOPE_KEYS).toEqual(DOMAIN_ENVELOPE_KEYS);
    // the grace is a number of seconds in the form (and the API), milliseconds in the domain
    const { tieGraceMs, ...menus } = FUNNEL_OPTION_DEFAULTS;
    expect(COUNTING_DEFAULTS).toEqual(menus);
    expect(defaultState(range).tieGraceSeconds * 1000).toBe(tieGraceMs);
    for (const [option, choices] of Object.entries(COUNTING_CHOICES)) expect(choices[0]).toBe(String(COUNTING_DEFAULTS[option as keyof typeof COUNTING_DEFAULTS]));
  });
});

describe('reading an answer', () => {
  it('given a problem field, then the controls it names, those inside it and the one holding it are marked; an empty field marks none', () => {
    expect(fieldsMeet('window.value', 'window')).toBe(true);
    expect(fieldsMeet('steps.1.where.0.key', 'steps.1.where.0.key')).toBe(true);
    expect(fieldsMeet('holdConstant', 'holdConstant.0')).toBe(true);
    expect(fieldsMeet('steps.1.type', 'steps.10.type')).toBe(false);
    expect(fieldsMeet('unit', '')).toBe(false);
  });

  it('given a unit, then the headings name what it counts: both account modes count accounts, totals attempts', () => {
    expect(COUNTING_CHOICES.unit.map(unitNoun)).toEqual(['leads', 'accounts', 'accounts', 'attempts']);
  });

  it('given several breakdown keys, then a group reads as its values; an empty value as (none)', () => {
    expect(groupLabel('["email",""]', ['channel', 'source'])).toBe('email · (none)');
    expect(groupLabel('', ['channel'])).toBe('(none)');
  });
});
