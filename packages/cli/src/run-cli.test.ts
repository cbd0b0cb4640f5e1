import { describe, expect, it } from 'vitest';
import { run } from './__fixtures__/test-io.js';
import { EXIT_CODES } from './exit-codes.js';
import { runCli } from './run-cli.js';

function expectOneErrorLine(stderr: string): void {
  expect(stderr.endsWith('\n')).toBe(true);
  expect(stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(stderr).toMatch(/^ape: /);
  expect(stderr).not.toContain('    at ');
}

describe('runCli', () => {
  it('prints help on stdout and exits 0 with --help', async () => {
    const result = await run(['--help']);
    expect(result.code).toBe(EXIT_CODES.OK);
    expect(result.stdout).toContain('Usage: ape');
    expect(result.stdout).toContain('validate');
  });

  it('prints the version and exits 0 with --version', async () => {
    const result = await run(['--version']);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('exits 0 for "ape help <command>"', async () => {
    const result = await run(['help', 'simulate']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('--provenance');
  });

  it('exits 2 with one line for an unknown command', async () => {
    const result = await run(['frobnicate']);
    expect(result.code).toBe(EXIT_CODES.CANNOT_RUN);
    expectOneErrorLine(result.stderr);
    expect(result.stderr).toContain("unknown command 'frobnicate'");
  });

  it('puts the suggestion for a mistyped command on the same line', async () => {
    const result = await run(['validat', 'x.yaml']);
    expect(result.code).toBe(2);
    expectOneErrorLine(result.stderr);
    expect(result.stderr).toContain('Did you mean validate?');
  });

  it('exits 2 with one line for an unknown flag', async () => {
    const result = await run(['explain', 'p.yaml', '--bogus']);
    expect(result.code).toBe(2);
    expectOneErrorLine(result.stderr);
    expect(result.stderr).toContain("unknown option '--bogus'");
  });

  it('exits 2 with one line for a missing argument or an extra one', async () => {
    const missing = await run(['explain']);
    expect(missing.code).toBe(2);
    expectOneErrorLine(missing.stderr);
    const extra = await run(['explain', 'a.yaml', 'b.yaml']);
    expect(extra.code).toBe(2);
    expectOneErrorLine(extra.stderr);
  });

  it('exits 2 and shows the usage on stderr when no command is given', async () => {
    const result = await run([]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('Usage: ape');
  });

  it('accepts --no-color before or after the command', async () => {
    expect((await run(['--no-color', 'help'])).code).toBe(0);
    const after = await run(['explain', 'missing.yaml', '--no-color']);
    expect(after.stderr).not.toContain('unknown option');
  });

  it('turns an unexpected error into one line and exit 2, without the stack', async () => {
    const failing = {
      write: () => {
        throw new Error('disk on fire');
      },
    };
    let stderr = '';
    const code = await runCli(['help'], {
      stdout: failing,
      stderr: { write: (text: string) => (stderr += text) },
    });
    expect(code).toBe(2);
    expectOneErrorLine(stderr);
    expect(stderr).toContain('internal error: disk on fire');
    expect(stderr).toContain('APE_DEBUG=1');
  });

  it('prints the stack of an unexpected error only with APE_DEBUG=1', async () => {
    const failing = {
      write: () => {
        throw new Error('disk on fire');
      },
    };
    let stderr = '';
    const code = await runCli(['help'], {
      stdout: failing,
      stderr: { write: (text: string) => (stderr += text) },
      env: { APE_DEBUG: '1' },
    });
    expect(code).toBe(2);
    expect(stderr).toContain('    at ');
  });
});
