import { defineConfig } from 'tsup';
import { baseConfig } from '../../tsup.base';

// `dist/` is emptied by the build script: the two configs below run side by side.
export default defineConfig([
  // `terminal-text` is also its own entry: the CLI escapes every message with it and must not load
  // the rest of core (ajv) to print `ape --help` or an error line.
  // The fakes of `testing` and the adapters' shared part (`adapter`) import no test runner: ESM and
  // CommonJS like the main entry.
  {
    ...baseConfig({
      index: 'src/index.ts',
      'terminal-text': 'src/terminal-text.ts',
      'testing/index': 'src/testing/index.ts',
      'adapter/index': 'src/adapter/index.ts',
    }),
    clean: false,
    // The CommonJS build needs `import.meta.url` for the lazy load of ajv (src/ajv-class.ts).
    shims: true,
    // The entries share chunks (tsup splits the CommonJS build too), so a process that loads both
    // `@ape/core` and `@ape/core/adapter` has one copy of the runtime, not two.
    splitting: true,
  },
  // The contract suites import vitest, which cannot be loaded with require(): ESM only.
  {
    ...baseConfig({ 'contracts/index': 'src/contracts/index.ts' }),
    format: ['esm'],
    clean: false,
    external: ['vitest'],
  },
]);
