import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createTempDirectory, run } from '../__fixtures__/test-io.js';

// The paths of `ape console` that end before it listens; the running console is tested as a
// subprocess in test-e2e/console/cli.test.ts.

const temp = createTempDirectory();
afterAll(() => temp.remove());

describe('ape console', () => {
  it('prints the scrypt hash of APE_CONSOLE_SECRET with --hash-secret', async () => {
    const result = await run(['console', '--hash-secret'], {
      env: { APE_CONSOLE_SECRET: 'a-secret-of-16-chars' },
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]{43}\n$/);
  });

  it('refuses a secret shorter than 16 characters (exit 2)', async () => {
    const result = await run(['console', '--hash-secret'], { env: { APE_CONSOLE_SECRET: 'short' } });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('at least 16 characters');
  });

  it.each([
    [['console'], 'nothing to show'],
    [['console', '--audit', 'a.jsonl', '--listen', 'http://x'], 'must be host:port'],
    [['console', '--audit', 'a.jsonl', '--key', 'k.pub'], '--checkpoint and --key go together'],
    [
      ['console', '--redis', 'redis://127.0.0.1:1', '--checkpoint', 'c', '--key', 'k'],
      '--checkpoint needs --audit',
    ],
    [
      ['console', '--audit', 'a.jsonl', '--checkpoint', 'c', '--key', 'missing.pub'],
      'cannot read missing.pub',
    ],
    [['console', '--audit', 'a.jsonl', '--secret-file', 'missing.txt'], 'cannot read missing.txt'],
    [['console', '--audit', 'a.jsonl', '--tenant', 'not a tenant'], 'tenants must be'],
  ])('exits 2 for %j', async (args, message) => {
    const result = await run(args, { cwd: temp.path });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
  });

  it('names the line of a malformed secret file (exit 2)', async () => {
    writeFileSync(join(temp.path, 'users.txt'), '# approvers\nalice acme\n');
    const result = await run(['console', '--audit', 'a.jsonl', '--secret-file', 'users.txt'], {
      cwd: temp.path,
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('users.txt:2');
  });

  it('refuses a wildcard address without --allow-host (exit 2)', async () => {
    const result = await run(['console', '--audit', 'a.jsonl', '--listen', '0.0.0.0:0'], { cwd: temp.path });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--allow-host <host:port>');
  });
});
