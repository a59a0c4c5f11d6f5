// Shared Jest settings for every project. SWC compiles TypeScript with decorator metadata
// (NestJS needs it); the path map mirrors tsconfig.base.json.
const path = require('node:path');

const root = __dirname;
const swc = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
    target: 'es2022',
    keepClassNames: true,
  },
  module: { type: 'commonjs' },
  sourceMaps: 'inline',
};

/** @returns {import('jest').Config} */
function project(dir, displayName, extra = {}) {
  return {
    displayName,
    rootDir: dir,
    testEnvironment: 'node',
    transform: { '^.+\\.(t|j)s$': ['@swc/jest', swc] },
    moduleNameMapper: {
      '^@mz/contracts$': path.join(root, 'libs/contracts/src/index.ts'),
      '^@mz/db$': path.join(root, 'libs/db/src/index.ts'),
      '^@mz/platform$': path.join(root, 'libs/platform/src/index.ts'),
      '^@mz/schedule$': path.join(root, 'libs/schedule/src/index.ts'),
      '^@mz/domain$': path.join(root, 'libs/domain/src/index.ts'),
      '^@mz/llm$': path.join(root, 'libs/llm/src/index.ts'),
      '^@mz/api-schemas$': path.join(root, 'libs/api-schemas/src/index.ts'),
      '^@mz/line-diff$': path.join(root, 'libs/line-diff/src/index.ts'),
    },
    testMatch: ['<rootDir>/**/*.spec.ts', '<rootDir>/**/*.int-spec.ts', '<rootDir>/**/*.e2e-spec.ts'],
    testPathIgnorePatterns: ['/node_modules/', '/dist/'],
    globalSetup: path.join(root, 'test/setup/global-setup.ts'),
    globalTeardown: path.join(root, 'test/setup/global-teardown.ts'),
    testTimeout: 30_000,
    ...extra,
  };
}

module.exports = { project, swc };
