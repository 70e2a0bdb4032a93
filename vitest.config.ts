import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['schemas/**/*.test.ts', 'packages/*/src/**/*.test.ts', 'services/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['**/node_modules/**'],
    // chDB binds one data directory per process and better-sqlite3 is native:
    // forked workers keep each test file in its own process.
    pool: 'forks',
    // one Kafka broker per run (packages/testkit/src/services/kafka.ts) and one
    // ClickHouse server per run when there is one to be had (clickhouse.ts)
    globalSetup: ['packages/testkit/src/services/kafka-global-setup.ts', 'packages/testkit/src/services/clickhouse-global-setup.ts'],
    // CLI and end-to-end tests start processes that open chDB, a JVM broker and PostgreSQL: on a loaded two-core machine a minute is not enough
    testTimeout: 180_000,
    // the JSON report feeds the closing line of .ci/run (scripts/ci/summary.mjs)
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results/vitest.json' },
    hookTimeout: 120_000,
  },
});
