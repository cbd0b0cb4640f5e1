import { readFileSync } from 'node:fs';
import { defineConfig } from 'tsup';
import { baseConfig } from '../../tsup.base';
import { BUNDLE_FILES } from './src/bundled-start';
import {
  type BundleMetafile,
  importMetaUrlPlugin,
  writeBundleArtifacts,
} from './src/build/policy-commands-build';

/** A CommonJS file the `ape` command runs: no declarations, `.cjs`, kept by the other builds' clean. */
const COMMONJS_PROGRAM = {
  format: ['cjs'],
  outExtension: () => ({ js: '.cjs' }),
  dts: false,
  sourcemap: true,
  clean: false,
  target: 'node20',
  platform: 'node',
} as const;

const LAUNCHER_FILES = ['ape.cjs', 'ape.cjs.map'];
const BUNDLE_OUTPUTS = [
  BUNDLE_FILES.bundle,
  `${BUNDLE_FILES.bundle}.map`,
  BUNDLE_FILES.manifest,
  BUNDLE_FILES.cache,
  'metafile-cjs.json',
];

export default defineConfig([
  // One build for the library entry and the ES module program; esbuild keeps bin.ts's `#!` line.
  // Splitting puts the code both entries share in one chunk. The `@ape/*` packages (the attack
  // battery, the demo, verification, the gateway) are external, so each command's `import()` of
  // them stays lazy. The clean keeps what the other two builds write.
  {
    ...baseConfig({ index: 'src/index.ts', bin: 'src/bin.ts' }),
    splitting: true,
    clean: [...LAUNCHER_FILES, ...BUNDLE_OUTPUTS].map((file) => `!${file}`),
  },
  // The installed command (package.json `bin`): a small CommonJS launcher. `./bin.js` stays an
  // import of the ES module program above, not a bundled copy.
  {
    ...COMMONJS_PROGRAM,
    entry: { ape: 'src/launcher.ts' },
    external: ['./bin.js'],
  },
  // The policy commands as one CommonJS file with everything they use built in (bundled-start.ts),
  // then its manifest and its V8 code cache.
  {
    ...COMMONJS_PROGRAM,
    entry: { 'policy-commands': 'src/policy-commands.ts' },
    noExternal: [/.*/],
    metafile: true,
    esbuildPlugins: [importMetaUrlPlugin()],
    async onSuccess() {
      const metafile = JSON.parse(readFileSync('dist/metafile-cjs.json', 'utf8')) as BundleMetafile;
      await writeBundleArtifacts('dist', metafile, '.');
    },
  },
]);
