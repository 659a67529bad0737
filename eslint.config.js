// @ts-check
import eslint from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';

/**
 * `.catch(() => {})` drops an error on purpose; say why, in a comment on the
 * same line or the line above, so a reader can tell it from a forgotten one.
 * @type {import('eslint').Rule.RuleModule}
 */
const explainSwallowedErrors = {
  meta: { type: 'suggestion', schema: [] },
  create(context) {
    const source = context.sourceCode;
    const swallows = (fn) =>
      fn?.type === 'ArrowFunctionExpression' &&
      (fn.body.type === 'BlockStatement'
        ? fn.body.body.length === 0
        : (fn.body.type === 'Identifier' && fn.body.name === 'undefined') ||
          fn.body.type === 'Literal');
    return {
      CallExpression(node) {
        const callee = node.callee;
        if (callee.type !== 'MemberExpression' || callee.property.name !== 'catch') return;
        if (!swallows(node.arguments[0])) return;
        const line = node.loc.end.line;
        const explained = source
          .getAllComments()
          .some((c) => c.loc.start.line === line || c.loc.end.line === node.loc.start.line - 1);
        if (!explained) {
          context.report({ node, message: 'Say in a comment why this error may be dropped.' });
        }
      },
    };
  },
};

export default defineConfig(
  {
    ignores: [
      'dist/',
      'packages/client/dist/',
      // Written by scripts/proto-gen.mjs (proto-loader-gen-types); checked by CI.
      'src/proto/generated/',
      'node_modules/',
      'coverage/',
      'data/',
      'test/**/testdata/**',
      'bench/results/**',
    ],
  },
  eslint.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: 'module',
      globals: {
        // Node globals for scripts, tests and the runtime layers. src/raft is
        // additionally fenced off by src/raft/tsconfig.json and the block below.
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        setImmediate: 'readonly',
        queueMicrotask: 'readonly',
      },
    },
    plugins: { raftseq: { rules: { 'explain-swallowed-errors': explainSwallowedErrors } } },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      'raftseq/explain-swallowed-errors': 'error',
    },
  },
  {
    // Rules that need the type checker. A promise nobody awaits or handles
    // loses its rejection (an unhandled rejection kills the process, or an
    // error is silently dropped); a thrown or rejected non-Error has no stack
    // and reaches callers that test `instanceof Error`.
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/only-throw-error': 'error',
      // Passing on a caught `unknown` is allowed, as `throw e` is: it is
      // whatever the failing call threw, not a value made up here.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
    },
  },
  {
    // No import cycles in src: in a cycle, which module runs first depends on
    // who imported whom, so a value read at load time can be undefined, and
    // two layers that should stand alone cannot. `import type` is erased at
    // run time and does not count.
    files: ['src/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/extensions': ['.ts'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      // Sources import each other as './x.js' (Node ESM); the file is x.ts.
      'import-x/resolver-next': [createNodeResolver({ extensionAlias: { '.js': ['.ts', '.js'] } })],
    },
    rules: { 'import-x/no-cycle': 'error' },
  },
  {
    // The Raft core is a pure state machine: no clock, no randomness, no timers,
    // no I/O, no async. Belt and braces next to the tsconfig guard.
    files: ['src/raft/**/*.ts'],
    rules: {
      'no-restricted-globals': [
        'error',
        { name: 'Date', message: 'src/raft is pure: time is logical ticks.' },
        { name: 'setTimeout', message: 'src/raft is pure: use tick().' },
        { name: 'setInterval', message: 'src/raft is pure: use tick().' },
        { name: 'setImmediate', message: 'src/raft is pure: use tick().' },
        { name: 'queueMicrotask', message: 'src/raft is pure and synchronous.' },
        { name: 'process', message: 'src/raft is pure: no process access.' },
        { name: 'console', message: 'src/raft is pure: return events, do not log.' },
        { name: 'Promise', message: 'src/raft is synchronous: step/tick/ready/advance.' },
        { name: 'Buffer', message: 'src/raft is pure: use Uint8Array.' },
      ],
      'no-restricted-properties': [
        'error',
        {
          object: 'Math',
          property: 'random',
          message: 'src/raft is pure: use the injected seeded PRNG.',
        },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: 'FunctionDeclaration[async=true]', message: 'src/raft is synchronous.' },
        { selector: 'FunctionExpression[async=true]', message: 'src/raft is synchronous.' },
        { selector: 'ArrowFunctionExpression[async=true]', message: 'src/raft is synchronous.' },
        { selector: 'AwaitExpression', message: 'src/raft is synchronous.' },
      ],
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['node:*'], message: 'src/raft is pure: no Node modules.' }] },
      ],
    },
  },
);
