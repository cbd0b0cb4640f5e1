import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
import type { CommandContext } from './context.js';

/**
 * @internal How to run `ape` again where this run happened, for `next:` hints: `pnpm ape` when the
 * command was started through the repository's root scripts (`pnpm demo`, `pnpm ape`), `node <path
 * to ape.cjs or bin.js>` when a checkout's binary was run directly, and `npx @ape/cli` (the scoped name: a bare
 * `npx ape` would fetch an unrelated package) when it runs from an installed package.
 */
export function apeCommand(context: CommandContext): string {
  const script = context.env['npm_lifecycle_event'];
  if (script === 'demo' || script === 'ape') return 'pnpm ape';
  const bin = process.argv[1];
  if (
    bin !== undefined &&
    /(?:bin\.[cm]?js|ape\.cjs)$/.test(bin) &&
    !bin.split(sep).includes('node_modules')
  ) {
    const shown = relative(context.cwd, bin);
    return `node ${shown.includes(' ') ? JSON.stringify(shown) : shown}`;
  }
  return 'npx @ape/cli';
}

const SCHEMA_FILE = join('node_modules', '@ape', 'policy', 'schema', 'policy-v1.json');

/**
 * @internal Where a policy written to `directory` should point editors for the policy schema, so the
 * reference resolves offline: the `@ape/policy` installed in `directory` or an ancestor (as a
 * relative path, `./node_modules/@ape/policy/schema/policy-v1.json`), else the copy the CLI itself
 * uses (an absolute path), else `fallback` (the published URL).
 */
export function policySchemaReference(directory: string, fallback: string): string {
  for (let current = directory; ; current = dirname(current)) {
    const candidate = join(current, SCHEMA_FILE);
    if (existsSync(candidate)) {
      const path = relative(directory, candidate).split(sep).join('/');
      return path.startsWith('.') ? path : `./${path}`;
    }
    if (dirname(current) === current) break;
  }
  const bin = process.argv[1];
  if (bin !== undefined) {
    try {
      return createRequire(bin).resolve('@ape/policy/schema/policy-v1.json');
    } catch {
      // Not resolvable from the running binary: use the published URL.
    }
  }
  return fallback;
}
