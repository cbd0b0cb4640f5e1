import { defineConfig } from 'tsup';
import { baseConfig } from '../../tsup.base';

// One build for the library entry and the `ape` binary; esbuild keeps bin.ts's `#!` line.
export default defineConfig(baseConfig({ index: 'src/index.ts', bin: 'src/bin.ts' }));
