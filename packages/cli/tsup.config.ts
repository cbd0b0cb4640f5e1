import { defineConfig } from 'tsup';
import { baseConfig } from '../../tsup.base';

// One build for the library entry and the `ape` binary; esbuild keeps bin.ts's `#!` line. Splitting
// puts the code both entries share in one chunk. The `@ape/*` packages (the attack battery, the
// demo, verification, the gateway) are external, so each command's `import()` of them stays lazy.
export default defineConfig({
  ...baseConfig({ index: 'src/index.ts', bin: 'src/bin.ts' }),
  splitting: true,
});
