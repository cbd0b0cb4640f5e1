import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createJsonlFileAuditSink } from '@ape/audit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ape, bin, root } from '../cli/run-ape.js';

// `ape console` as a user runs it: the built binary in a subprocess, signed in over HTTP, stopped
// with SIGTERM.

let work: string;
let log: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'ape-console-cli-'));
  log = join(work, 'audit.jsonl');
  const sink = await createJsonlFileAuditSink(log);
  await sink.append({
    type: 'session.created',
    tenant: 'acme',
    session: 'cli-session',
    time: Date.now(),
    data: {},
  });
  await sink.close();
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

interface Started {
  readonly child: ChildProcess;
  readonly url: string;
  readonly lines: readonly string[];
  readonly startupMs: number;
  exit(): Promise<number | null>;
}

/** Starts `ape console ...` and resolves once it printed its URL (and the secret, when generated). */
function startConsole(args: readonly string[], env: Record<string, string> = {}): Promise<Started> {
  const startedAt = performance.now();
  const child = spawn(process.execPath, [bin, 'console', ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let output = '';
  let errors = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    errors += chunk.toString('utf8');
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`ape console exited ${code}: ${errors}`)));
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const url = /APE console at (http:\/\/\S+)/.exec(output)?.[1];
      const wantsSecret = !args.includes('--secret-file');
      if (url !== undefined && (!wantsSecret || output.includes('with the secret'))) {
        resolve({
          child,
          url,
          lines: output.trim().split('\n'),
          startupMs: performance.now() - startedAt,
          exit: () => {
            child.kill('SIGTERM');
            return exited;
          },
        });
      }
    });
  });
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

describe('ape console', () => {
  it('prints its URL and a generated secret once, accepts that secret, and exits 0 on SIGTERM', async () => {
    const started = await startConsole(['--audit', log, '--listen', '127.0.0.1:0']);
    console.info(`[console e2e] ape console printed its URL ${started.startupMs.toFixed(0)} ms after spawn`);
    expect(started.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const secret = /with the secret (\S+)/.exec(started.lines.join('\n'))?.[1] ?? '';
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await login(started.url, 'admin', 'not-the-secret-0000')).toBe(401);
    expect(await login(started.url, 'admin', secret)).toBe(303);
    expect(await started.exit()).toBe(0);
  });

  it('hashes a secret for a secret file, and signs in the users of that file', async () => {
    const hashed = ape(['console', '--hash-secret'], {
      env: { APE_CONSOLE_SECRET: 'carol-secret-0123456789' },
    });
    expect(hashed.code).toBe(0);
    expect(hashed.stdout.trim()).toMatch(/^scrypt\$16384\$8\$1\$/);
    const users = join(work, 'users.txt');
    writeFileSync(users, `# approvers\ncarol acme ${hashed.stdout.trim()}\n`);
    const started = await startConsole(['--audit', log, '--secret-file', users]);
    expect(started.lines.join('\n')).not.toContain('with the secret');
    expect(await login(started.url, 'carol', 'carol-secret-0123456789')).toBe(303);
    expect(await login(started.url, 'admin', 'carol-secret-0123456789')).toBe(401);
    expect(await started.exit()).toBe(0);
  });

  it.each([
    [['console'], 'nothing to show'],
    [['console', '--audit', 'x.jsonl', '--listen', 'nowhere:'], 'must be host:port'],
    [['console', '--audit', 'x.jsonl', '--checkpoint', 'c.txt'], '--checkpoint and --key go together'],
    [
      ['console', '--redis', 'redis://127.0.0.1:1', '--checkpoint', 'c', '--key', 'k'],
      '--checkpoint needs --audit',
    ],
    [['console', '--audit', 'x.jsonl', '--secret-file', '/nonexistent/users.txt'], 'cannot read'],
    [['console', '--audit', 'x.jsonl', '--listen', '0.0.0.0:0'], '--allow-host <host:port>'],
  ])('exits 2 with one line for %j', (args, message) => {
    const result = ape(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
  });

  it('exits 2 when --hash-secret gets a secret shorter than 16 characters', () => {
    const result = ape(['console', '--hash-secret'], { env: { APE_CONSOLE_SECRET: 'short' } });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('at least 16 characters');
  });
});
