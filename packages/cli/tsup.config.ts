import { defineConfig } from 'tsup';
import { baseConfig } from '../../tsup.base';

// One build for the library entry and the `ape` binary; esbuild keeps bin.ts's `#!` line. Splitting
// keeps each command's dynamically imported modules (the attack battery) in their own chunks, loaded
// only when that command runs; the `@ape/*` packages are external, so their `import()` stays lazy.
export default defineConfig({
  ...baseConfig({ index: 'src/index.ts', bin: 'src/bin.ts' }),
  splitting: true,
});
