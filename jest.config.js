// `npm test` runs every project's tests in one Jest run: one fresh template database is
// created and migrated once (test/setup/global-setup.ts); each test file clones its own.
module.exports = {
  projects: [
    '<rootDir>/libs/contracts',
    '<rootDir>/libs/db',
    '<rootDir>/libs/platform',
    '<rootDir>/libs/schedule',
    '<rootDir>/libs/domain',
    '<rootDir>/libs/llm',
    '<rootDir>/libs/api-schemas',
    '<rootDir>/libs/line-diff',
    '<rootDir>/apps/api',
    '<rootDir>/apps/console',
    '<rootDir>/apps/scheduler',
    '<rootDir>/apps/composer',
    '<rootDir>/apps/mailer',
    '<rootDir>/apps/inbound',
    '<rootDir>/apps/ops',
    '<rootDir>/test',
  ],
  globalSetup: '<rootDir>/test/setup/global-setup.ts',
  globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
  maxWorkers: 2,
  // How long Jest waits for a worker to exit once told to. A probe (README, Development: "Workers
  // that fail to exit") logged both workers' own 'exit' 1–2 ms after Jest's end message in runs
  // that still printed "a worker process has failed to exit gracefully": the 500 ms default
  // expired in the busy parent before it saw the exits. A leaked handle keeps a worker alive for
  // good, so it is still reported after 5 s.
  workerGracefulExitTimeout: 5_000,
  // testTimeout is a global option: project configs cannot set it when run together.
  testTimeout: 60_000,
};
