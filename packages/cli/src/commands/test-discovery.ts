import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CommandFailure } from '../command-failure.js';
import type { CommandContext } from '../context.js';

/** @internal What `ape test` discovers in a directory: `*.test.yaml`, `*.test.yml` and `*.test.json`. */
export const TEST_FILE = /\.test\.(ya?ml|json)$/i;

/** Directories never searched: dependencies and hidden directories (`.git`). */
function skipped(name: string): boolean {
  return name === 'node_modules' || name.startsWith('.');
}

/**
 * @internal The test files `ape test` runs, in order: a file given by path is taken as is; a
 * directory (and no path at all, which means the working directory) is searched, subdirectories
 * included, for test files, sorted by path. A path that does not exist exits 2.
 */
export function discoverTestFiles(context: CommandContext, given: readonly string[]): string[] {
  const roots = given.length === 0 ? ['.'] : given;
  const files: string[] = [];
  for (const root of roots) {
    const resolved = context.resolvePath(root);
    let isDirectory: boolean;
    try {
      isDirectory = statSync(resolved).isDirectory();
    } catch (error) {
      throw new CommandFailure(
        `cannot read ${root}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    if (!isDirectory) {
      files.push(root);
      continue;
    }
    const found: string[] = [];
    const pending = [root];
    while (pending.length > 0) {
      const directory = pending.pop()!;
      for (const entry of readdirSync(context.resolvePath(directory), { withFileTypes: true })) {
        const path = directory === '.' ? entry.name : join(directory, entry.name);
        if (entry.isDirectory()) {
          if (!skipped(entry.name)) pending.push(path);
        } else if (TEST_FILE.test(entry.name)) {
          found.push(path);
        }
      }
    }
    files.push(...found.sort());
  }
  if (files.length === 0) {
    throw new CommandFailure(
      `no test files (*.test.yaml) found in ${roots.join(', ')}; write one beside your policy (see docs/cli.md#ape-test)`,
    );
  }
  return files;
}
