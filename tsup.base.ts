import type { Options } from 'tsup';

/** Shared build settings: ESM + CJS + declarations, one per entry, Node 20 target. */
export function baseConfig(entry: Record<string, string> = { index: 'src/index.ts' }): Options {
  return {
    entry,
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    platform: 'node',
    splitting: false,
    treeshake: true,
  };
}
