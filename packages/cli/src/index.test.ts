import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createTempDirectory } from './__fixtures__/test-io.js';
import { EXIT_CODES, runCli, STARTER_POLICY, STARTER_POLICY_FILE } from './index.js';

describe('@ape/cli entry point', () => {
  it('exports the exit codes of the contract, frozen', () => {
    expect(EXIT_CODES).toEqual({ OK: 0, FINDING: 1, CANNOT_RUN: 2 });
    expect(Object.isFrozen(EXIT_CODES)).toBe(true);
  });

  it('exports runCli, which writes the starter policy under its exported file name', async () => {
    const temp = createTempDirectory();
    try {
      let stderr = '';
      const code = await runCli(['init'], {
        stdout: { write: () => true },
        stderr: {
          write: (text: string) => {
            stderr += text;
          },
        },
        cwd: temp.path,
      });
      expect(stderr).toBe('');
      expect(code).toBe(EXIT_CODES.OK);
      expect(existsSync(join(temp.path, STARTER_POLICY_FILE))).toBe(true);
      expect(STARTER_POLICY).toMatch(/^version: 1$/m);
    } finally {
      temp.remove();
    }
  });
});
