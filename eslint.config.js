// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Import patterns naming folders of src/ (relative imports from anywhere in src/ or jobs/). */
function layer(folders) {
  return folders.flatMap((f) => [`../${f}/*`, `../../${f}/*`, `../src/${f}/*`, `../../src/${f}/*`]);
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'bin/**', '.bench-tmp/**', 'eslint.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/only-throw-error': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Read configuration through src/config/config.ts (loadConfig) only.' },
      ],
    },
  },
  // Layers, and nothing points back up: cli → app → (runtime: the composition root; its
  // built-ins.ts is the only importer of jobs/) → queues / store / vendors / media / manifest /
  // quota / notify / schedules → checks / errors / config. The CLI renders what src/app returns.
  {
    files: ['src/cli/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: layer(['queues', 'store', 'vendors', 'media', 'manifest', 'quota', 'notify', 'schedules', 'redis', 'runtime']).concat(['**/jobs/**']), message: 'The CLI renders what the application layer returns: import it from src/app.' }] }],
    },
  },
  {
    files: ['src/app/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: layer(['cli']).concat(['**/jobs/**']), message: 'src/app is below the CLI; it reaches the checks through the registries of src/runtime.' }] }] },
  },
  {
    // The composition root: only built-ins.ts imports jobs/ (the check modules) and lists the vendors.
    files: ['src/runtime/**'],
    ignores: ['src/runtime/built-ins.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: layer(['cli', 'app']).concat(['**/jobs/**']), message: 'Only src/runtime/built-ins.ts imports jobs/; the runtime takes the registries it builds.' }] }] },
  },
  {
    files: ['src/runtime/built-ins.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: layer(['cli', 'app']), message: 'The composition root is below the application layer.' }] }] },
  },
  {
    files: ['src/{queues,store,vendors,media,manifest,quota,notify,schedules,redis,simulator,log}/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: layer(['cli', 'app', 'runtime']).concat(['**/jobs/**']), message: 'A lower layer may not import the CLI, the application layer, the composition root or jobs/.' }] }],
    },
  },
  {
    // The bottom layer. checks/ may name the media loader's types in the processor contract; nothing
    // else of the layers above, and errors/ and config/ not even that (nor checks/).
    files: ['src/checks/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: layer(['cli', 'app', 'runtime', 'queues', 'store', 'vendors', 'manifest', 'quota', 'notify', 'schedules', 'redis', 'simulator', 'log']).concat(['**/jobs/**']), message: 'checks/ is the bottom layer: it imports only errors/, config/ and media types.' },
            { group: layer(['media']), allowTypeImports: true, message: 'checks/ may use the media loader\'s types only.' },
          ],
        },
      ],
    },
  },
  {
    files: ['src/{errors,config}/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { patterns: [{ group: layer(['cli', 'app', 'runtime', 'queues', 'store', 'vendors', 'media', 'manifest', 'quota', 'notify', 'schedules', 'redis', 'simulator', 'log', 'checks']).concat(['**/jobs/**']), message: 'errors/ and config/ are the bottom layer: they import nothing of the layers above (config gets each vendor\'s spec as an argument).' }] },
      ],
    },
  },
  {
    files: ['jobs/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: layer(['cli', 'app', 'runtime']), message: 'A check module depends on the contracts below it, never on the wiring above.' }] }] },
  },
  {
    // The one place that reads the environment, and test/bench harnesses that set it for child processes.
    files: ['src/config/config.ts', 'test/**', 'bench/**', 'vitest.config.ts'],
    rules: { 'no-restricted-properties': 'off' },
  },
  {
    files: ['test/**'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      // Stubs of async interfaces are async functions that need not await.
      '@typescript-eslint/require-await': 'off',
    },
  },
);
