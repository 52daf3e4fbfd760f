// ESLint 9 flat config with typescript-eslint. The boundaries of docs/design.md are enforced here:
// no `vscode` in the pure core (and in the job process, which runs in plain Node), and no Node built-ins
// in the webview (it runs in a browser sandbox).
import js from '@eslint/js';
import globals from 'globals';
import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';

const noVscode = {
  name: 'vscode',
  message: 'The core, the CLI and the job process run without VS Code: keep `vscode` in src/vscode/ and src/extension.ts.',
};

const nodeBuiltins = builtinModules.filter((m) => !m.startsWith('_'));
const noNode = {
  paths: nodeBuiltins.map((name) => ({
    name,
    message: 'The webview runs in a browser sandbox: no Node built-ins. Ask the extension through the protocol instead.',
  })),
  patterns: [
    {
      group: ['node:*'],
      message: 'The webview runs in a browser sandbox: no Node built-ins. Ask the extension through the protocol instead.',
    },
  ],
};

// The protocol is the ground floor: everything may import it, and it imports nothing of ours but itself.
const groundFloor = {
  group: ['../*', '../**'],
  message: 'src/protocol/ is the ground floor: plain data types that every room imports. Move the type here instead of importing it.',
};

// The webview talks to the rest only through the protocol (types and the shared display formatting).
const webviewRooms = {
  group: ['**/src/onnx/**', '**/src/quantize/**', '**/src/runtime/**', '**/src/vscode/**', '**/src/jobs/**', '**/src/cli*', '**/src/extension*'],
  message: 'The webview imports nothing of the core or the extension: only src/protocol/ (types, shared formatting).',
};

export default tseslint.config(
  {
    ignores: ['dist/**', 'media/dist/**', 'out/**', '**/node_modules/**', 'test/harness/node_modules/**', '.vscode-test/**', 'test-results/**', '.package/**', 'vsix/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2022, sourceType: 'module' },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'no-console': 'off',
    },
  },
  // Node code (everything outside the webview) and plain JS scripts.
  {
    files: ['src/**', 'test/**', 'bench/**', 'scripts/**', '*.mjs', '*.js', '*.cjs'],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    files: ['**/*.cjs', 'test/**/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: { ...globals.node, ...globals.mocha } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['test/**'],
    languageOptions: { globals: { ...globals.node, ...globals.mocha } },
  },
  // Playwright-driven tests pass callbacks that run in the page (page.evaluate): browser globals too.
  {
    files: ['test/integration/ui*.mjs', 'test/integration/installed.mjs', 'test/e2e/**', 'test/harness/**'],
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
  },
  // Boundaries: the pure core, the CLI and the job process never import vscode.
  {
    files: ['src/onnx/**', 'src/quantize/**', 'src/runtime/**', 'src/cli.ts', 'src/jobs/**'],
    rules: { 'no-restricted-imports': ['error', { paths: [noVscode] }] },
  },
  // The protocol is imported by both the extension and the webview: neither vscode nor Node.
  {
    files: ['src/protocol/**'],
    rules: { 'no-restricted-imports': ['error', { paths: [noVscode, ...noNode.paths], patterns: [...noNode.patterns, groundFloor] }] },
  },
  // The webview: browser globals, no Node built-ins, no vscode module.
  {
    files: ['webview/**'],
    languageOptions: { globals: { ...globals.browser } },
    rules: { 'no-restricted-imports': ['error', { paths: [noVscode, ...noNode.paths], patterns: [...noNode.patterns, webviewRooms] }] },
  },
);
