import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { startRedisServer, type TestRedisServer } from '@ape/redis/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { createTempDirectory, run } from '../__fixtures__/test-io.js';
import { EXIT_CODES } from '../exit-codes.js';
import { runCli } from '../run-cli.js';

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

/**
 * Runs `ape console` in process until it prints its URL (and secret), then signs in; `stop` calls the
 * SIGINT listener the command added (not `process.emit`, which would reach the test runner's own).
 */
async function serve(args: readonly string[]): Promise<{
  url: string;
  stdout: () => string;
  stop: () => Promise<number>;
}> {
  const before = new Set(process.listeners('SIGINT'));
  let stdout = '';
  let stderr = '';
  let printed: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => {
    printed = resolve;
  });
  const exited = runCli(['console', ...args], {
    stdout: {
      write: (text: string) => {
        stdout += text;
        if (/APE console at /.test(stdout)) printed();
      },
    },
    stderr: {
      write: (text: string) => {
        stderr += text;
        printed();
      },
    },
    env: {},
    cwd: temp.path,
  });
  await ready;
  if (stderr !== '') throw new Error(`ape console failed: ${stderr}`);
  const url = /APE console at (\S+)/.exec(stdout)?.[1] ?? '';
  return {
    url,
    stdout: () => stdout,
    stop: async () => {
      for (const listener of process.listeners('SIGINT')) {
        if (!before.has(listener)) (listener as () => void)();
      }
      return exited;
    },
  };
}

async function login(url: string, name: string, secret: string): Promise<number> {
  const response = await fetch(`${url}login`, {
    method: 'POST',
    body: new URLSearchParams({ name, secret }),
    headers: { origin: url.replace(/\/$/, '') },
    redirect: 'manual',
  });
  return response.status;
}

describe('ape console (serving)', () => {
  let redis: TestRedisServer;

  it('serves the fleet queue and the audit log, accepts the generated secret once, and exits 0 when stopped', async () => {
    redis = await startRedisServer();
    try {
      writeFileSync(join(temp.path, 'served.jsonl'), '');
      const started = await serve([
        '--redis',
        redis.url,
        '--prefix',
        'console-cli:',
        '--audit',
        'served.jsonl',
        '--user',
        'carol',
        '--tenant',
        'acme',
      ]);
      expect(started.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      const secret = /sign in as carol with the secret (\S+) \(shown once/.exec(started.stdout())?.[1] ?? '';
      expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(await login(started.url, 'carol', 'not-the-secret-0000')).toBe(401);
      expect(await login(started.url, 'carol', secret)).toBe(303);
      expect(await started.stop()).toBe(EXIT_CODES.OK);
      // Stopped: the port no longer answers.
      await expect(fetch(started.url)).rejects.toThrow();
    } finally {
      await redis.stop();
    }
  });

  it('signs in the users of --secret-file and prints no generated secret', async () => {
    const hashed = await run(['console', '--hash-secret'], {
      env: { APE_CONSOLE_SECRET: 'dave-secret-0123456789' },
    });
    writeFileSync(join(temp.path, 'dave.txt'), `dave * ${hashed.stdout.trim()}\n`);
    const started = await serve(['--audit', 'served.jsonl', '--secret-file', 'dave.txt']);
    expect(started.stdout()).not.toContain('with the secret');
    expect(await login(started.url, 'dave', 'dave-secret-0123456789')).toBe(303);
    expect(await started.stop()).toBe(EXIT_CODES.OK);
  });

  it('exits 2 with one line when the address is taken', async () => {
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const address = taken.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    try {
      const result = await run(['console', '--audit', 'a.jsonl', '--listen', `127.0.0.1:${address.port}`], {
        cwd: temp.path,
      });
      expect(result.code).toBe(EXIT_CODES.CANNOT_RUN);
      expect(result.stderr).toMatch(
        new RegExp(`^ape: cannot listen on 127\\.0\\.0\\.1:${address.port}: [^\\n]+\\n$`),
      );
      expect(result.stdout).toBe('');
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()));
    }
  });

  it('exits 2 with one line for a --redis that is not a redis:// URL', async () => {
    const result = await run(['console', '--redis', 'http://127.0.0.1:6379'], { cwd: temp.path });
    expect(result.code).toBe(EXIT_CODES.CANNOT_RUN);
    expect(result.stderr).toMatch(/^ape: [^\n]*must start with redis:\/\/ or rediss:\/\/[^\n]*\n$/);
  });
});
