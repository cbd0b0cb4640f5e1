import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A `redis-server` started for a test, on a free loopback port, with no persistence. */
export interface TestRedisServer {
  readonly port: number;
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string;
  /** Stops the server (SIGTERM, then SIGKILL) and removes its directory. */
  stop(): Promise<void>;
  /** Stops the server but keeps the port, so {@link TestRedisServer.start} can bring it back. */
  kill(): Promise<void>;
  /** Starts the server again on the same port (after `kill`): an empty Redis, like a restart without persistence. */
  start(): Promise<void>;
  /** Freezes the server (SIGSTOP): connections stay open and nothing answers. */
  pause(): void;
  /** Thaws a paused server (SIGCONT). */
  resume(): void;
}

/** Options of {@link startRedisServer}. */
export interface StartRedisServerOptions {
  /** The server binary; default `redis-server` on `PATH`. */
  readonly binary?: string;
  /** Extra `redis-server` arguments (e.g. `['--requirepass', 'secret']`). */
  readonly args?: readonly string[];
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (typeof address === 'object' && address !== null) resolve(address.port);
        else reject(new Error('could not read the port of a probe server'));
      });
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.write('PING\r\n');
    });
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG'));
    });
    socket.once('error', () => resolve(false));
    socket.setTimeout(500, () => {
      socket.destroy();
      resolve(false);
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * Starts a throwaway `redis-server` for tests: a free loopback port, `--save ''`, `--appendonly no`,
 * a temporary directory. Never a shared instance.
 * @throws Error when the binary is missing (install Debian's `redis-server`) or the server does not
 *   answer PING within 10 s. A test that needs Redis fails; it is never skipped.
 */
export async function startRedisServer(options: StartRedisServerOptions = {}): Promise<TestRedisServer> {
  const binary = options.binary ?? 'redis-server';
  const port = await freePort();
  const directory = mkdtempSync(join(tmpdir(), 'ape-redis-'));
  let child: ChildProcess | undefined;

  async function launch(): Promise<void> {
    const process = spawn(
      binary,
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        directory,
        ...(options.args ?? []),
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child = process;
    const failure = new Promise<never>((_, reject) => {
      process.once('error', (error) =>
        reject(
          new Error(
            `could not start ${binary} (${error.message}): install it (Debian: apt-get install redis-server); the Redis tests need a real server`,
          ),
        ),
      );
      process.once('exit', (code) =>
        reject(new Error(`${binary} exited with code ${code} before it answered`)),
      );
    });
    failure.catch(() => {});
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const ready = await Promise.race([accepts(port), failure]);
      if (ready) return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    process.kill('SIGKILL');
    throw new Error(`${binary} did not answer PING on port ${port} within 10 s`);
  }

  async function halt(): Promise<void> {
    const current = child;
    if (current === undefined) return;
    child = undefined;
    current.kill('SIGCONT');
    current.kill('SIGTERM');
    const timer = setTimeout(() => current.kill('SIGKILL'), 3_000);
    await exited(current);
    clearTimeout(timer);
  }

  await launch();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      await halt();
      rmSync(directory, { recursive: true, force: true });
    },
    kill: halt,
    start: launch,
    pause() {
      child?.kill('SIGSTOP');
    },
    resume() {
      child?.kill('SIGCONT');
    },
  };
}
