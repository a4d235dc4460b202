import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'scratch/**', 'coverage/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', URL: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Only src/cli/main.ts decides how the process ends.
      'no-restricted-properties': ['error', { object: 'process', property: 'exit', message: 'only src/cli/main.ts and bin/ exit' }],
    },
  },
  {
    files: ['src/cli/main.ts', 'bench/**', 'test/**'],
    rules: { 'no-restricted-properties': 'off' },
  },
  {
    files: ['src/domain/**', 'src/db/**', 'src/backup/**'],
    rules: {
      'no-console': 'error',
      'no-restricted-imports': ['error', { paths: ['chalk', 'ora', '@inquirer/prompts', 'cli-table3', 'commander'] }],
    },
  },
);
