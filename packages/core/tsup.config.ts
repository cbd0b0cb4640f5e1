import { defineConfig } from 'tsup';
import { baseConfig } from '../../tsup.base';

// `dist/` is emptied by the build script: the two configs below run side by side.
export default defineConfig([
  { ...baseConfig({ index: 'src/index.ts' }), clean: false },
  // The testing helpers and contract suites import vitest, which cannot be loaded with require():
  // they are published as ESM only.
  {
    ...baseConfig({ 'testing/index': 'src/testing/index.ts' }),
    format: ['esm'],
    clean: false,
    external: ['vitest'],
  },
]);
