// Lint: typescript-eslint's recommended rules plus the project's house rules.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const NO_MARKUP = 'build elements with dom.ts (text nodes and setAttribute), never markup';

export default tseslint.config(
  {
    ignores: [
      '.dependency-cruiser.cjs',
      'node_modules/',
      'dist/',
      'coverage/',
      'bench/results/',
      'test-artifacts/',
      'engine/src/core/api/generated/',
      'engine/src/dashboard/generated/',
      '**/testdata/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        performance: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-syntax': [
        'error',
        // Tests wait with eventually(), never a focused or skipped test.
        {
          selector:
            'CallExpression[callee.object.name=/^(it|describe|context)$/][callee.property.name=/^(only|skip)$/]',
          message: 'no focused or skipped tests',
        },
      ],
    },
  },
  {
    // tools/ (dev tooling, not shipped) is outside `files`, so it may read env like cli/.
    files: ['engine/src/**/*.ts', 'sidecar/src/**/*.ts'],
    ignores: ['**/*.test.ts', 'engine/src/main.ts', 'engine/src/cli/**', 'engine/src/dashboard/browser/**'],
    rules: {
      // Config is built once at the edge and passed in: no env reads deep in the stages.
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'read env in cli/ and pass config in' },
      ],
    },
  },
  {
    // The dashboard's page script runs in the browser: browser globals, no Node ones. (tsc
    // checks names against the DOM lib with engine/src/dashboard/browser/tsconfig.json.)
    files: ['engine/src/dashboard/browser/**/*.ts'],
    languageOptions: {
      globals: {
        process: 'off',
        Buffer: 'off',
        window: 'readonly',
        document: 'readonly',
        fetch: 'readonly',
        URLSearchParams: 'readonly',
        HTMLElement: 'readonly',
        HTMLButtonElement: 'readonly',
        HTMLInputElement: 'readonly',
        Element: 'readonly',
        Node: 'readonly',
      },
    },
    rules: {
      // Escaping by construction (docs/adr/0500-dashboard.md): values reach the DOM as text
      // nodes or attributes, and no string is ever run as code.
      'no-restricted-properties': [
        'error',
        ...['innerHTML', 'outerHTML', 'insertAdjacentHTML'].map((property) => ({ property, message: NO_MARKUP })),
        ...['write', 'writeln'].map((property) => ({ object: 'document', property, message: NO_MARKUP })),
      ],
      // Also in .dependency-cruiser.cjs; here too because the cruise leaves node_modules out.
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(?!\\./|\\.\\./view-model\\.js$)',
              message: 'the page script imports only its own folder and the JSON types of ../view-model.js',
            },
            {
              regex: '^\\.\\./view-model\\.js$',
              allowTypeImports: true,
              message: 'types only: the page script runs in the browser',
            },
          ],
        },
      ],
      'no-eval': 'error',
      'no-implied-eval': 'error',
      'no-new-func': 'error',
    },
  },
);
