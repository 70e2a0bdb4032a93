import { describe, expect, it } from 'vitest';
import { BUILTIN_MODEL_NAMES, RuleConfigSchema, SluiceConfigSchema, builtinStageModel } from '../index.js';

const issuesOf = (input: unknown) => {
  const r = SluiceConfigSchema.safeParse(input);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('rule configuration schema', () => {
  it('given only a version, when parsed, then it is a complete config: classic model, literature scoring, UTC, model defaults for pool and SLA', () => {
    const c = SluiceConfigSchema.parse({ version: 'v1' });
    expect(c.timeZone).toBe('UTC');
    expect(c.stageModel.stages.map((s) => s.id)).toEqual(['visitor', 'lead', 'mql', 'sql', 'customer']);
    expect(c.stageModel.builtin).toBe('classic_b2b');
    expect(c.stageModel.stages[2]?.entry?.[0]).toEqual({
      id: 'mql.score',
      when: { kind: 'allOf', allOf: [{ kind: 'score', score: 'fit', atLeast: 60 }, { kind: 'score', score: 'engagement', atLeast: 40 }] },
    });
    expect(c.scoring.engagement.halfLifeDays).toBe(30);
    expect(c.pool.noFollowUp).toEqual({ id: 'pool.no_follow_up', days: 10, stages: ['mql', 'sql'] });
    expect(c.sla).toMatchObject({ startStage: 'mql', firstTouchWithinMinutes: 240, attempts: { atLeast: 6, withinDays: 7 } });
    expect(c.server).toEqual({ host: '127.0.0.1', port: 4780, dataDir: './.sluice', apiKeys: [], batch: { maxEvents: 10_000, bodyLimitBytes: 16 * 1024 * 1024 }, eventStore: { adapter: 'sqlite' }, readModels: { adapter: 'sqlite' }, projector: { port: 4782, leaseSeconds: 15 }, freshnessWaitMs: 2000 });
  });

  it('requires a version', () => {
    expect(issuesOf({})).toEqual(['version: Invalid input: expected string, received undefined']);
  });

  it.each(BUILTIN_MODEL_NAMES)('ships the built-in model %s, valid with its pool and SLA defaults', (name) => {
    const c = RuleConfigSchema.parse({ version: 'v1', stageModel: { builtin: name } });
    expect(c.stageModel).toEqual(builtinStageModel(name));
    expect(c.stageModel.stages.map((s) => s.id)).toContain(c.sla?.startStage);
    for (const r of c.pool.stalled) expect(c.stageModel.stages.map((s) => s.id)).toContain(r.stage);
  });

  it('keeps a built-in shape with a company-specific MQL definition and stage name', () => {
    const c = RuleConfigSchema.parse({
      version: 'v1',
      stageModel: {
        builtin: 'with_opportunity',
        names: { mql: 'Marketing qualified' },
        entry: { mql: [{ id: 'mql.interest', when: { anyOf: [{ event: 'demo_requested' }, { profile: { title: { contains: 'cto' } } }] } }] },
      },
    });
    const mql = c.stageModel.stages.find((s) => s.id === 'mql');
    expect(mql?.name).toBe('Marketing qualified');
    expect(mql?.entry?.map((r) => r.id)).toEqual(['mql.interest']);
    expect(c.stageModel.stages.map((s) => s.id)).toEqual(['visitor', 'lead', 'mql', 'sql', 'opportunity', 'customer']);
  });

  it('rejects overrides for stages the model does not have', () => {
    expect(issuesOf({ version: 'v1', stageModel: { builtin: 'classic_b2b', names: { opportunity: 'Deal' } } })).toEqual([
      'stageModel.names.opportunity: unknown stage "opportunity"; stages: visitor, lead, mql, sql, customer',
    ]);
  });

  it('accepts a custom model, which has no SLA unless configured and needs a start stage for one', () => {
    const stageModel = {
      id: 'plg',
      stages: [
        { id: 'signup', name: 'Sign-up' },
        { id: 'activated', name: 'Activated', entry: [{ id: 'activated.trial', when: { event: 'trial_started' } }] },
        { id: 'paying', name: 'Paying', entry: [{ id: 'paying.payment', when: { event: 'payment' } }] },
      ],
      customerStage: 'paying',
    };
    const c = RuleConfigSchema.parse({ version: 'v1', stageModel });
    expect(c.sla).toBeUndefined();
    expect(c.pool).toEqual({ noFollowUp: undefined, stalled: [], ownerCaps: undefined });
    expect(issuesOf({ version: 'v1', stageModel, sla: { firstTouchWithinMinutes: 5 } })).toEqual(['sla.startStage: required with a custom stage model (or set sla to null)']);
    expect(issuesOf({ version: 'v1', stageModel, sla: { startStage: 'activ' } })).toEqual(['sla.startStage: unknown stage "activ"; stages: signup, activated, paying']);
  });

  it('checks the defaults of a built-in against a model that lists its own stages', () => {
    const stageModel = { id: 'short', builtin: 'classic_b2b', stages: [{ id: 'lead', name: 'Lead' }, { id: 'won', name: 'Won' }], customerStage: 'won' };
    expect(issuesOf({ version: 'v1', stageModel })).toEqual([
      'pool.noFollowUp.stages.0: unknown stage "mql"; stages: lead, won (the classic_b2b default; set it for this model, or null)',
      'pool.noFollowUp.stages.1: unknown stage "sql"; stages: lead, won (the classic_b2b default; set it for this model, or null)',
      'pool.stalled.0.stage: unknown stage "sql"; stages: lead, won (the classic_b2b default; set it for this model, or null)',
      'sla.startStage: unknown stage "mql"; stages: lead, won (the classic_b2b default; set it for this model, or null)',
    ]);
  });

  it('rejects duplicate stage ids and an unknown customer stage', () => {
    const stages = [
      { id: 'a', name: 'A' },
      { id: 'a', name: 'B' },
    ];
    expect(issuesOf({ version: 'v1', stageModel: { id: 'x', stages, customerStage: 'won' } })).toEqual([
      'stageModel.stages.1.id: duplicate stage id "a"',
      'stageModel.customerStage: unknown stage "won"; stages: a',
    ]);
  });

  it('reports a condition with two distinguishing keys, or none, at its path', () => {
    const entry = (when: unknown) => ({ version: 'v1', stageModel: { builtin: 'classic_b2b', entry: { sql: [{ id: 'sql.x', when }] } } });
    expect(issuesOf(entry({ anyOf: [{ event: 'call', count: 2 }] }))).toEqual([
      'stageModel.entry.sql.0.when.anyOf.0: a condition has exactly one of anyOf, allOf, score, event, count, bant, profile; got event and count',
    ]);
    expect(issuesOf(entry({ scor: 'fit' }))).toEqual(['stageModel.entry.sql.0.when: a condition needs one of anyOf, allOf, score, event, count, bant, profile; got scor']);
    expect(issuesOf(entry({ score: 'fit', atleast: 3 }))).toEqual([
      'stageModel.entry.sql.0.when.atLeast: Invalid input: expected number, received undefined',
      'stageModel.entry.sql.0.when: Unrecognized key: "atleast"',
    ]);
  });

  it('checks event types and property paths against the event schemas', () => {
    const rules = [
      { id: 'eng.a', match: { event: 'page_view', where: { pageTyp: 'pricing' } }, points: 5 },
      { id: 'eng.b', match: { event: 'vist' }, points: 5 },
      { id: 'eng.c', match: { event: 'call', where: { 'bant.budget': true, 'x.utm': { exists: true } } }, points: 5 },
    ];
    const issues = issuesOf({ version: 'v1', scoring: { engagement: { rules } } });
    expect(issues).toHaveLength(2);
    expect(issues[0]).toBe('scoring.engagement.rules.0.match.where.pageTyp: unknown property "pageTyp" for page_view; known: pageType, title, url, x');
    expect(issues[1]).toMatch(/^scoring\.engagement\.rules\.1\.match\.event\.0: Invalid option: expected one of .*"visit"/);
  });

  it('rejects a filter with an unknown operator and accepts a bare value as eq', () => {
    const fit = (profile: unknown) => ({ version: 'v1', scoring: { fit: { rules: [{ id: 'fit.x', profile, points: 5 }] } } });
    expect(issuesOf(fit({ industry: { equals: 'banking' } }))).toEqual(['scoring.fit.rules.0.profile.industry: Unrecognized key: "equals"']);
    expect(RuleConfigSchema.parse(fit({ industry: 'banking' })).scoring.fit.rules[0]?.profile).toEqual({ industry: { eq: 'banking' } });
  });

  it('rejects a rule id used twice, since transitions and scores name their rule', () => {
    const rules = [
      { id: 'eng.visit', match: { event: 'visit' }, points: 1 },
      { id: 'eng.visit', match: { event: 'page_view' }, points: 1 },
    ];
    expect(issuesOf({ version: 'v1', scoring: { engagement: { rules } } })).toEqual(['scoring.engagement.rules.1.id: rule id "eng.visit" is already used by scoring.engagement.rules']);
  });

  it('switches pool rules and the SLA off with null', () => {
    const c = RuleConfigSchema.parse({ version: 'v1', pool: { noFollowUp: null, stalled: [], ownerCaps: null }, sla: null });
    expect(c.pool).toEqual({ noFollowUp: undefined, stalled: [], ownerCaps: undefined });
    expect(c.sla).toBeUndefined();
  });

  it('checks the time zone, grades and business units', () => {
    expect(issuesOf({ version: 'v1', timeZone: 'Europe/Berln' })).toEqual(['timeZone: must be an IANA time zone such as UTC or Europe/Berlin']);
    expect(issuesOf({ version: 'v1', grades: { hot: 20, warm: 30 } })).toEqual(['grades.hot: hot must be above warm']);
    const units = [
      { id: 'amer', name: 'Americas', aliases: ['AMER', 'NA'] },
      { id: 'apac', name: 'Asia Pacific', aliases: ['Amer'] },
    ];
    expect(issuesOf({ version: 'v1', businessUnits: { default: 'emea', units } })).toEqual([
      'businessUnits.units.1.aliases.0: "Amer" already names unit "amer"',
      'businessUnits.default: unknown unit "emea"; units: amer, apac',
    ]);
  });

  it.each(BUILTIN_MODEL_NAMES)('parses its own output again to the same config (%s), so a stored config can be re-read', (name) => {
    const parsed = SluiceConfigSchema.parse({ version: 'v1', stageModel: { builtin: name } });
    expect(SluiceConfigSchema.parse(JSON.parse(JSON.stringify(parsed)))).toEqual(parsed);
  });

  it('checks API keys without echoing secrets', () => {
    const key = { name: 'ci', scopes: ['ingest'], secret: 'a-long-enough-secret' };
    const r = SluiceConfigSchema.safeParse({ version: 'v1', server: { apiKeys: [key, { ...key, scopes: ['root'] }, { ...key, name: 'other' }] } });
    expect(r.success).toBe(false);
    const issues = r.success ? [] : r.error.issues;
    expect(issues.map((i) => i.path.join('.'))).toEqual(['server.apiKeys.1.scopes.0']);
    const dup = SluiceConfigSchema.safeParse({ version: 'v1', server: { apiKeys: [key, { ...key, name: 'other' }] } });
    expect(dup.success ? [] : dup.error.issues.map((i) => [i.path.join('.'), i.message, i.input])).toEqual([['server.apiKeys.1.secret', 'same secret as an earlier key', undefined]]);
  });
});
