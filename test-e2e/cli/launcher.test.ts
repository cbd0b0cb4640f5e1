import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ape, bin, expectNoStackTrace, programBin, root } from './run-ape.js';

const manifest = JSON.parse(readFileSync(join(root, 'packages', 'cli', 'package.json'), 'utf8')) as {
  version: string;
  bin: { ape: string };
};

/** Runs the ES module program directly, as `node packages/cli/dist/bin.js ...args`. */
function program(args: readonly string[]) {
  return spawnSync(process.execPath, [programBin, ...args], { cwd: root, encoding: 'utf8' });
}

describe('the installed ape command (dist/ape.cjs, a CommonJS launcher)', () => {
  it('is what package.json names as the ape binary', () => {
    expect(manifest.bin.ape).toBe('./dist/ape.cjs');
    expect(bin.endsWith(join('dist', 'ape.cjs'))).toBe(true);
    expect(readFileSync(bin, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  it('prints the package version for --version and -V, as the program does', () => {
    for (const flag of ['--version', '-V']) {
      const launched = ape([flag]);
      expect(launched.code).toBe(0);
      expect(launched.stdout).toBe(`${manifest.version}\n`);
      expect(launched.stderr).toBe('');
      const direct = program([flag]);
      expect(direct.stdout).toBe(launched.stdout);
    }
  });

  it('runs every other command as the ES module program does: same output, same exit code', () => {
    const cases: readonly (readonly string[])[] = [
      ['simulate', 'policies/example_policy.yaml', 'read_file', '--json'],
      ['simulate', 'policies/example_policy.yaml', 'delete_file', '--json'],
      ['validate', 'no-such-policy.yaml'],
      ['--version', '--json'],
    ];
    for (const args of cases) {
      const launched = ape(args);
      const direct = program(args);
      expectNoStackTrace(launched);
      expect({ args, code: launched.code, stdout: launched.stdout, stderr: launched.stderr }).toEqual({
        args,
        code: direct.status,
        stdout: direct.stdout,
        stderr: direct.stderr,
      });
    }
  });

  it('ends quietly when the reader of --version closes the pipe first', () => {
    const result = spawnSync('sh', ['-c', `"${process.execPath}" "${bin}" --version | head -c 0`], {
      encoding: 'utf8',
    });
    expect(result.status).toBe(0);
    expect(result.stderr).toBe('');
  });
});
