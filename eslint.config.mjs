import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

export default [
  { ignores: ['**/node_modules/**', '**/dist/**', 'bench-results/**', 'test-artifacts/**', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    rules: {
      // Apps may import libs, libs never import apps, contracts depends on nothing but zod.
      '@nx/enforce-module-boundaries': [
        'error',
        {
          allow: [],
          depConstraints: [
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib', 'type:testing'] },
            { sourceTag: 'type:test', onlyDependOnLibsWithTags: ['type:lib', 'type:app', 'type:testing'] },
            { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:testing'] },
            { sourceTag: 'scope:contracts', onlyDependOnLibsWithTags: ['scope:testing'], allowedExternalImports: ['zod'] },
            { sourceTag: 'scope:schedule', onlyDependOnLibsWithTags: ['scope:contracts', 'scope:testing'] },
            { sourceTag: 'scope:db', onlyDependOnLibsWithTags: ['scope:contracts', 'scope:schedule', 'scope:testing'] },
            { sourceTag: 'scope:platform', onlyDependOnLibsWithTags: ['scope:contracts', 'scope:db', 'scope:testing'] },
            { sourceTag: 'scope:llm', onlyDependOnLibsWithTags: ['scope:contracts', 'scope:platform', 'scope:testing'] },
            { sourceTag: 'scope:line-diff', onlyDependOnLibsWithTags: [] },
            { sourceTag: 'scope:api-schemas', onlyDependOnLibsWithTags: ['scope:contracts', 'scope:schedule', 'scope:testing'] },
            { sourceTag: 'scope:domain', onlyDependOnLibsWithTags: ['scope:contracts', 'scope:db', 'scope:platform', 'scope:schedule', 'scope:testing'] },
          ],
        },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  {
    files: ['**/*.spec.ts', '**/*.int-spec.ts', '**/*.e2e-spec.ts', 'test/**/*.ts'],
    // Specs import the shared test helpers (test/support, test/fakes: projects that depend on none
    // of ours, so no cycle) by relative path; production code boundaries are checked above.
    rules: {
      '@nx/enforce-module-boundaries': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
];
