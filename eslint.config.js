// @ts-check
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.img-resizer/**', 'bin/**', 'eslint.config.js', 'test/helpers/record-imports.mjs'] },
  eslint.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  ...tseslint.configs.stylisticTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Console output belongs in src/ui only.
      'no-console': 'error',
      'no-restricted-syntax': ['error', {
        selector: "CallExpression[callee.object.object.name='process'][callee.object.property.name=/^(stdout|stderr)$/][callee.property.name='write']",
        message: 'Only src/ui (and main.ts, for commander) writes to the terminal: return a result and render it there.',
      }],
    },
  },
  {
    files: ['src/ui/**', 'src/main.ts', 'test/**', 'bench/**', 'scripts/**', 'lambda-src/**'],
    rules: { 'no-console': 'off', 'no-restricted-syntax': 'off' },
  },
  // The layers (README, "Code layout"): imports only run downwards.
  {
    files: ['lambda-src/core/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['@aws-sdk/*', '@smithy/*'], message: 'The function core is pure: AWS calls go through lambda-src/aws-ports.ts.' },
        { group: ['**/src/**', '../../src/*'], message: 'The function core must not depend on the CLI.' },
      ] }],
    },
  },
  {
    files: ['src/operations/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['../commands/*', '**/commands/*'], message: 'Operations are called by commands, never the other way round.' },
      ] }],
    },
  },
  {
    files: ['src/provision/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['../commands/*', '**/commands/*'], message: 'Provisioning steps are called by operations, never the other way round.' },
        { group: ['../ui/output.js'], allowTypeImports: true, message: 'Steps return results; src/ui renders them.' },
      ] }],
    },
  },
  {
    files: ['test/**'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
);
