import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_CONFIG, DEFAULT_VERSION, loadConfig, parseConfig, parseRuleConfig, ruleFingerprint } from './index.js';

const EXAMPLE = fileURLToPath(new URL('../fixtures/example.config.json', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'sluice-config-'));
let n = 0;
const fileWith = (content: unknown) => {
  const path = join(dir, `config-${++n}.json`);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return path;
};
/** The issues a load reports, as `path: message` lines. */
const issuesOf = (load: () => unknown): string[] => {
  try {
    load();
  } catch (err) {
    if (err instanceof ConfigError) return err.issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message));
    throw err;
  }
  throw new Error('expected a ConfigError');
};

describe('loadConfig', () => {
  it('given no file and no environment, when loaded, then it is the built-in default: classic model, UTC, 127.0.0.1:4780', () => {
    const config = loadConfig({ env: {} });
    expect(config).toEqual(DEFAULT_CONFIG);
    expect(config.version).toBe(DEFAULT_VERSION);
    expect(config.timeZone).toBe('UTC');
    expect(config.stageModel.id).toBe('classic_b2b');
    expect(config.server).toMatchObject({ host: '127.0.0.1', port: 4780, dataDir: './.sluice', apiKeys: [] });
  });

  it('given the example file, when loaded, then every section is what the file says', () => {
    const config = loadConfig({ file: EXAMPLE, env: {} });
    expect(config.version).toBe('acme-2026-03');
    expect(config.timeZone).toBe('Europe/Berlin');
    expect(config.stageModel.stages.map((s) => `${s.id}:${s.name}`)).toEqual([
      'visitor:Visitor',
      'lead:Lead',
      'mql:Marketing qualified',
      'sql:Sales accepted',
      'opportunity:Opportunity',
      'customer:Customer',
    ]);
    expect(config.scoring.engagement.halfLifeDays).toBe(21);
    expect(config.businessUnits.default).toBe('emea');
    expect(config.pool.stalled).toEqual([{ id: 'pool.stalled_opportunity', stage: 'opportunity', days: 35 }]);
  });

  it('given a config with a typo, when loaded, then it is rejected naming the path of the key and what was meant', () => {
    const file = fileWith({ version: 'v1', scoring: { engagment: { halfLifeDays: 14 } } });
    expect(issuesOf(() => loadConfig({ file, env: {} }))).toEqual(['scoring.engagment: unknown key (did you mean "engagement"?)']);
    const nested = fileWith({ version: 'v1', grades: { hott: 70 } });
    expect(issuesOf(() => loadConfig({ file: nested, env: {} }))).toEqual(['grades.hott: unknown key (did you mean "hot"?)']);
  });

  it('given several mistakes, when loaded, then each is listed with its path, including inside conditions and lists', () => {
    const rules = [
      { id: 'eng.a', match: { event: 'visit' }, points: 1 },
      { id: 'eng.b', match: { event: 'vist' }, points: 1 },
      { id: 'eng.c', match: { event: 'page_view', where: { pageTyp: 'pricing' } }, points: 'ten' },
    ];
    const entry = { sql: [{ id: 'sql.x', when: { anyOf: [{ event: 'call' }, { scor: 'fit' }] } }] };
    const file = fileWith({ version: 'v1', scoring: { engagement: { rules } }, stageModel: { builtin: 'classic_b2b', entry }, server: { port: 'http' } });
    const issues = issuesOf(() => loadConfig({ file, env: {} }));
    expect(issues).toContain('scoring.engagement.rules[2].points: expected number, received string');
    expect(issues).toContain('scoring.engagement.rules[2].match.where.pageTyp: unknown property "pageTyp" for page_view; known: pageType, title, url, x');
    expect(issues.find((i) => i.startsWith('scoring.engagement.rules[1].match.event:'))).toMatch(/"vist" is not allowed \(did you mean "visit"\?\); expected one of ad_click, call, /);
    expect(issues).toContain('stageModel.entry.sql[0].when.anyOf[1]: a condition needs one of anyOf, allOf, score, event, count, bant, profile; got scor');
    expect(issues).toContain('server.port: expected number, received string');
    expect(issues).toHaveLength(5);
  });

  it('reports a missing version as required, and the file in the message', () => {
    const file = fileWith({ timeZone: 'UTC' });
    expect(() => loadConfig({ file, env: {} })).toThrow(`invalid configuration (${file}):\n  - version: required`);
  });

  it('reports unreadable files and bad JSON with the position', () => {
    expect(issuesOf(() => loadConfig({ file: join(dir, 'missing.json'), env: {} }))).toEqual(['cannot read the file (ENOENT)']);
    const broken = fileWith('{\n  "version": "v1",\n  "timeZone": "UTC",,\n}');
    const [issue] = issuesOf(() => loadConfig({ file: broken, env: {} }));
    expect(issue).toMatch(/^not valid JSON: .*position 41.*line 3 column/);
    expect(issuesOf(() => parseConfig([1, 2]))).toEqual(['the configuration must be a JSON object']);
  });

  it('given environment overrides, when loaded, then they win over the file', () => {
    const file = fileWith({ version: 'v1', timeZone: 'UTC', server: { port: 5000, apiKeys: [{ name: 'file', scopes: ['read'], secret: 'file-secret-0123456789' }] } });
    const config = loadConfig({
      file,
      env: {
        SLUICE_TIME_ZONE: 'America/New_York',
        SLUICE_PORT: '8080',
        SLUICE_HOST: '0.0.0.0',
        SLUICE_DATA_DIR: '/var/lib/sluice',
        SLUICE_API_KEYS: 'collector:ingest:s3cret-s3cret-s3cret,analyst:read+admin:with:colons:in-the-secret',
      },
    });
    expect(config.timeZone).toBe('America/New_York');
    expect(config.server).toMatchObject({ host: '0.0.0.0', port: 8080, dataDir: '/var/lib/sluice' });
    expect(config.server.apiKeys).toEqual([
      { name: 'collector', scopes: ['ingest'], secret: 's3cret-s3cret-s3cret' },
      { name: 'analyst', scopes: ['read', 'admin'], secret: 'with:colons:in-the-secret' },
    ]);
  });

  it('given the distributed variables, when loaded, then Kafka ingestion and the PostgreSQL store are on with the file\'s other Kafka keys kept', () => {
    const file = fileWith({ version: 'v1', server: { kafka: { brokers: ['file:9092'], partitions: 24 } } });
    const config = loadConfig({ file, env: { SLUICE_KAFKA_BROKERS: 'k1:9092, k2:9092', SLUICE_POSTGRES_URL: 'postgres://sluice@db:5432/sluice' } });
    expect(config.server.kafka).toEqual({
      brokers: ['k1:9092', 'k2:9092'],
      clientId: 'sluice',
      topicPrefix: 'sluice',
      partitions: 24,
      replicationFactor: 1,
      produceDeadlineMs: 10000,
      bridge: { groupId: 'sluice-kafka-bridge', metricsPort: 4781, maxBatchEvents: 5000, maxInFlightEvents: 20000, sessionTimeoutMs: 30000 },
    });
    expect(config.server.eventStore).toEqual({ adapter: 'postgres', url: 'postgres://sluice@db:5432/sluice', schema: 'sluice' });
    const embedded = loadConfig({ env: {} }).server;
    expect([embedded.eventStore, embedded.kafka]).toEqual([{ adapter: 'sqlite' }, undefined]);
    expect(issuesOf(() => loadConfig({ env: { SLUICE_KAFKA_BROKERS: 'no-port', SLUICE_POSTGRES_URL: 'mysql://x' } }))).toEqual([
      'server.eventStore.url (from SLUICE_POSTGRES_URL): must be a postgres:// connection URL',
      'server.kafka.brokers[0] (from SLUICE_KAFKA_BROKERS): must be host:port',
    ]);
  });

  it('given server.readModels in the file or SLUICE_READ_MODELS_URL, when loaded, then PostgreSQL read models take the URL with the file\'s schema kept, SQLite is the default, and a bad URL or schema names its source', () => {
    expect(loadConfig({ env: {} }).server.readModels).toEqual({ adapter: 'sqlite' });
    const url = 'postgres://sluice@db:5432/sluice';
    expect(loadConfig({ env: { SLUICE_READ_MODELS_URL: url } }).server.readModels).toEqual({ adapter: 'postgres', url, schema: 'sluice_read' });
    const file = fileWith({ version: 'v1', server: { readModels: { adapter: 'postgres', url: 'postgres://file@db/sluice', schema: 'replica_models' } } });
    expect(loadConfig({ file, env: {} }).server.readModels).toEqual({ adapter: 'postgres', url: 'postgres://file@db/sluice', schema: 'replica_models' });
    expect(loadConfig({ file, env: { SLUICE_READ_MODELS_URL: url } }).server.readModels).toEqual({ adapter: 'postgres', url, schema: 'replica_models' });
    // the event store stays where it was: the read models have their own URL
    expect(loadConfig({ env: { SLUICE_READ_MODELS_URL: url } }).server.eventStore).toEqual({ adapter: 'sqlite' });
    expect(issuesOf(() => loadConfig({ env: { SLUICE_READ_MODELS_URL: 'mysql://x' } }))).toEqual(['server.readModels.url (from SLUICE_READ_MODELS_URL): must be a postgres:// connection URL']);
    const badSchema = fileWith({ version: 'v1', server: { readModels: { adapter: 'postgres', url, schema: 'Read-Models' } } });
    expect(issuesOf(() => loadConfig({ file: badSchema, env: {} }))).toEqual(['server.readModels.schema: must be a lowercase PostgreSQL identifier']);
  });

  it('given SLUICE_KAFKA_PRODUCE_DEADLINE_MS, when loaded, then it sets the produce deadline, and a bad or out-of-range value names the variable', () => {
    const brokers = { SLUICE_KAFKA_BROKERS: 'k1:9092' };
    expect(loadConfig({ env: { ...brokers, SLUICE_KAFKA_PRODUCE_DEADLINE_MS: '2500' } }).server.kafka?.produceDeadlineMs).toBe(2500);
    expect(issuesOf(() => loadConfig({ env: { ...brokers, SLUICE_KAFKA_PRODUCE_DEADLINE_MS: '10s' } }))).toEqual([
      'server.kafka.produceDeadlineMs (from SLUICE_KAFKA_PRODUCE_DEADLINE_MS): expected an integer, got "10s"',
    ]);
    // the schema's bounds: at least 100 ms, at most 120000 (two minutes)
    expect(issuesOf(() => loadConfig({ env: { ...brokers, SLUICE_KAFKA_PRODUCE_DEADLINE_MS: '50' } }))).toEqual([
      'server.kafka.produceDeadlineMs (from SLUICE_KAFKA_PRODUCE_DEADLINE_MS): Too small: expected number to be >=100',
    ]);
    // alone it asks for the Kafka section it belongs to, rather than being ignored
    expect(issuesOf(() => loadConfig({ env: { SLUICE_KAFKA_PRODUCE_DEADLINE_MS: '2500' } }))).toEqual(['server.kafka.brokers: required']);
  });

  it('given server.freshnessWaitMs in the file or SLUICE_FRESHNESS_WAIT_MS, when loaded, then the environment wins, the default is 2000 and a value past 60000 names its source', () => {
    expect(loadConfig({ env: {} }).server.freshnessWaitMs).toBe(2000);
    const file = fileWith({ version: 'v1', server: { freshnessWaitMs: 500 } });
    expect(loadConfig({ file, env: {} }).server.freshnessWaitMs).toBe(500);
    expect(loadConfig({ file, env: { SLUICE_FRESHNESS_WAIT_MS: '0' } }).server.freshnessWaitMs).toBe(0);
    expect(issuesOf(() => loadConfig({ env: { SLUICE_FRESHNESS_WAIT_MS: '90000' } }))).toEqual([
      'server.freshnessWaitMs (from SLUICE_FRESHNESS_WAIT_MS): Too big: expected number to be <=60000',
    ]);
  });

  it('uses SLUICE_CONFIG when no file is given', () => {
    expect(loadConfig({ env: { SLUICE_CONFIG: EXAMPLE } }).version).toBe('acme-2026-03');
  });

  it('given bad environment values, when loaded, then each issue names its variable and no secret is shown', () => {
    const issues = issuesOf(() =>
      loadConfig({ env: { SLUICE_PORT: 'eighty', SLUICE_TIME_ZONE: 'Mars/Olympus', SLUICE_API_KEYS: 'ok:read:0123456789abcdef,broken-entry-top-secret,bad:root:top-secret-value-1' } }),
    );
    expect(issues).toEqual([
      'server.port (from SLUICE_PORT): expected an integer, got "eighty"',
      'server.apiKeys[1] (from SLUICE_API_KEYS): expected name:scope1+scope2:secret',
      'server.apiKeys[2] (from SLUICE_API_KEYS): unknown scope "root"; scopes: ingest, read, admin',
      'timeZone (from SLUICE_TIME_ZONE): must be an IANA time zone such as UTC or Europe/Berlin',
    ]);
    expect(issues.join('\n')).not.toContain('top-secret');
    expect(issuesOf(() => loadConfig({ env: { SLUICE_PORT: '70000', SLUICE_API_KEYS: 'short:read:abc' } }))).toEqual([
      'server.port (from SLUICE_PORT): Too big: expected number to be <=65535',
      'server.apiKeys[0].secret (from SLUICE_API_KEYS): must be at least 16 characters',
    ]);
  });

  it('returns a frozen config, so rules compiled from it cannot drift', () => {
    const config = loadConfig({ env: {} });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.scoring.engagement.rules[0])).toBe(true);
  });
});

describe('parseRuleConfig and ruleFingerprint', () => {
  it('parses a rules-only candidate and rejects a server section in it', () => {
    expect(parseRuleConfig({ version: 'candidate-1', grades: { hot: 70 } }).grades.hot).toBe(70);
    expect(issuesOf(() => parseRuleConfig({ version: 'c', server: {} }, 'candidate.json'))).toEqual(['server: unknown key; known keys: version, timeZone, stageModel, scoring, grades, quadrants, pool, sla, lifecycle, businessUnits, currencies, opportunities']);
  });

  it('gives equal rules the same fingerprint whatever the key order, server or capture, and different rules a different one', () => {
    const a = parseConfig({ version: 'v1', grades: { hot: 70, warm: 30 }, timeZone: 'UTC' });
    const b = parseConfig({ timeZone: 'UTC', grades: { warm: 30, hot: 70 }, version: 'v1', server: { port: 9999 }, capture: { tracker: { consentRequired: true } } });
    expect(ruleFingerprint(b)).toBe(ruleFingerprint(a));
    expect(ruleFingerprint(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(ruleFingerprint(parseConfig({ version: 'v1', grades: { hot: 71, warm: 30 } }))).not.toBe(ruleFingerprint(a));
  });

  it('leaves report settings (currency rates, the monthly MQL commitment, the opportunity stage model) out of the fingerprint: changing them needs no rebuild', () => {
    const units = { default: 'emea', units: [{ id: 'emea', name: 'EMEA' }, { id: 'amer', name: 'Americas' }] };
    const plain = parseConfig({ version: 'v1', businessUnits: units });
    const reporting = parseConfig({
      version: 'v1',
      businessUnits: units,
      currencies: { report: 'EUR', rates: { USD: 0.92 } },
      sla: { mqlsPerMonth: { emea: 40, amer: 25 } },
      opportunities: { stages: [{ id: 'intro', probability: 0.3, category: 'pipeline' }] },
    });
    expect(reporting.opportunities.stages.map((s) => s.id)).toEqual(['intro']);
    expect(reporting.currencies).toEqual({ report: 'EUR', rates: { USD: 0.92 } });
    expect(reporting.sla?.mqlsPerMonth).toEqual({ emea: 40, amer: 25 });
    expect(ruleFingerprint(reporting)).toBe(ruleFingerprint(plain));
  });

  it('names a commitment for an unknown business unit and a rate that is not a positive number', () => {
    expect(issuesOf(() => parseConfig({ version: 'v1', sla: { mqlsPerMonth: { emae: 3 } } }))).toEqual(['sla.mqlsPerMonth.emae: unknown business unit "emae"; units: default']);
    expect(issuesOf(() => parseConfig({ version: 'v1', currencies: { report: 'EUR', rates: { USD: 0 } } }))).toEqual(['currencies.rates.USD: Too small: expected number to be >0']);
  });
});
