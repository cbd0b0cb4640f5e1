import { defineConfig } from 'tsup';
import { baseConfig } from '../../tsup.base';

const LAUNCHER_FILES = ['ape.cjs', 'ape.cjs.map'];

export default defineConfig([
  // One build for the library entry and the ES module program; esbuild keeps bin.ts's `#!` line.
  // Splitting puts the code both entries share in one chunk. The `@ape/*` packages (the attack
  // battery, the demo, verification, the gateway) are external, so each command's `import()` of
  // them stays lazy. The clean keeps the launcher the second build writes.
  {
    ...baseConfig({ index: 'src/index.ts', bin: 'src/bin.ts' }),
    splitting: true,
    clean: LAUNCHER_FILES.map((file) => `!${file}`),
  },
  // The installed command (package.json `bin`): a small CommonJS launcher. `./bin.js` stays an
  // import of the ES module program above, not a bundled copy.
  {
    entry: { ape: 'src/launcher.ts' },
    format: ['cjs'],
    outExtension: () => ({ js: '.cjs' }),
    dts: false,
    sourcemap: true,
    clean: false,
    target: 'node20',
    platform: 'node',
    external: ['./bin.js'],
  },
]);
