#!/usr/bin/env node
// `pnpm ape <command>` in a clone: runs the built `ape` command (packages/cli/dist/ape.cjs, the
// installed binary) with the arguments given, building the CLI and its dependencies first when the binary is missing. The
// build's output goes to stderr, so `pnpm ape ... --json` prints only the command's JSON.
// (`npx ape` would not do: in a clone it resolves to an unrelated registry package named `ape`.)
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const bin = join(root, 'packages', 'cli', 'dist', 'ape.cjs');

if (!existsSync(bin)) {
  process.stderr.write('ape: building the CLI first (pnpm run build)...\n');
  const build = spawnSync(
    'pnpm',
    ['exec', 'turbo', 'run', 'build', '--filter=@ape/cli...', '--output-logs=errors-only'],
    {
      cwd: root,
      stdio: ['ignore', 2, 2],
      shell: process.platform === 'win32',
    },
  );
  if (build.status !== 0 || !existsSync(bin)) {
    process.stderr.write('ape: the build failed; run pnpm install && pnpm run build and try again\n');
    process.exit(2);
  }
}
// pnpm runs scripts from the repository root; INIT_CWD is where the user typed the command.
const cwd = process.env.INIT_CWD ?? process.cwd();
const result = spawnSync(process.execPath, [bin, ...process.argv.slice(2)], { cwd, stdio: 'inherit' });
process.exit(result.status ?? 2);
