import { defineConfig } from 'tsup';
import { baseConfig } from '../../tsup.base';

// A private runner, not a library: one ESM script, no declarations. The suites are read from
// ../suites at run time, relative to the built script.
export default defineConfig({
  ...baseConfig({ run: 'src/run.ts' }),
  format: ['esm'],
  dts: false,
});
