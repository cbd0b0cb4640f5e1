import { afterEach, describe, expect, it, vi } from 'vitest';
import { asksForVersion, exitWith, processIo } from './process-start.js';

describe('process start', () => {
  const exitCode = process.exitCode;
  afterEach(() => {
    process.exitCode = exitCode;
    vi.restoreAllMocks();
  });

  it('asks for the version only for `--version` or `-V` alone', () => {
    expect(asksForVersion(['--version'])).toBe(true);
    expect(asksForVersion(['-V'])).toBe(true);
    expect(asksForVersion(['--version', '--json'])).toBe(false);
    expect(asksForVersion(['simulate', '-V'])).toBe(false);
    expect(asksForVersion([])).toBe(false);
  });

  it("gives runCli the process's own streams, environment and directory", () => {
    const io = processIo();
    expect(io.stdout).toBe(process.stdout);
    expect(io.stderr).toBe(process.stderr);
    expect(io.env).toBe(process.env);
    expect(io.cwd).toBe(process.cwd());
  });

  it('sets the exit code from a run, and a run that rejects is one internal-error line and exit 2', async () => {
    exitWith(Promise.resolve(1));
    await new Promise((resolve) => setImmediate(resolve));
    expect(process.exitCode).toBe(1);
    const written: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((text) => {
      written.push(String(text));
      return true;
    });
    exitWith(Promise.reject(new Error('the program did not load')));
    await new Promise((resolve) => setImmediate(resolve));
    expect(process.exitCode).toBe(2);
    expect(written).toEqual(['ape: internal error: the program did not load\n']);
    exitWith(Promise.reject('not an error'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(written[1]).toBe('ape: internal error: not an error\n');
  });
});
