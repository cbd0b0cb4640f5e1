import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = dirname(fileURLToPath(import.meta.url));

/**
 * Unit tests run against the sources of sibling packages, so a change in @ape/core is seen by
 * @ape/policy's tests without a rebuild. The published shape is tested separately (test-e2e/).
 */
function sourceAliases(): Record<string, string> {
  const aliases: Record<string, string> = {};
  for (const name of readdirSync(join(root, 'packages'))) {
    aliases[`@ape/${name}/testing`] = join(root, 'packages', name, 'src', 'testing', 'index.ts');
    if (name === 'core') {
      aliases['@ape/core/terminal-text'] = join(root, 'packages', name, 'src', 'terminal-text.ts');
      aliases['@ape/core/contracts'] = join(root, 'packages', name, 'src', 'contracts', 'index.ts');
      aliases['@ape/core/adapter'] = join(root, 'packages', name, 'src', 'adapter', 'index.ts');
    }
    aliases[`@ape/${name}`] = join(root, 'packages', name, 'src', 'index.ts');
  }
  return aliases;
}

export function baseVitestConfig() {
  return defineConfig({
    resolve: { alias: sourceAliases() },
    test: {
      include: ['src/**/*.test.ts'],
      environment: 'node',
      testTimeout: 120_000,
      hookTimeout: 120_000,
    },
  });
}
