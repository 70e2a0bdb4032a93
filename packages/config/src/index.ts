export { ConfigError, DEFAULT_CONFIG, DEFAULT_VERSION, type LoadConfigOptions, loadConfig, parseConfig, parseRuleConfig } from './load.js';
export { ENV_VARIABLES, type Env, parseApiKeys } from './env.js';
export type { ConfigIssue } from './issues.js';
export { ruleFingerprint } from './fingerprint.js';
