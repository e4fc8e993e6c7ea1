// Flat config: typescript-eslint's recommended rules on the whole tree; formatting is Prettier's.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.toolgate/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // A closure may read a variable that is assigned once after it (a stream, a handler).
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  // Tests read JSON bodies of many shapes; typing each one would only restate the assertion.
  { files: ['test/**/*.ts', 'bench/**/*.ts', 'conformance/**/*.ts'], rules: { '@typescript-eslint/no-explicit-any': 'off' } },
);
