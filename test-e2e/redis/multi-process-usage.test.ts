import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createRedisConnection, RedisUsageStore } from '@ape/redis';
import { startRedisServer, type TestRedisServer } from '@ape/redis/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const worker = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'acquire-worker.mjs');

let server: TestRedisServer;
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  await server.stop();
});

/** Reads the next line a child prints. */
function nextLine(child: ChildProcessWithoutNullStreams): Promise<string> {
  const lines = createInterface({ input: child.stdout });
  return new Promise((resolve, reject) => {
    lines.once('line', (line) => {
      lines.close();
      resolve(line);
    });
    child.once('exit', (code) => reject(new Error(`worker exited with ${code}`)));
  });
}

describe('a tenant budget shared by a fleet', () => {
  it('grants exactly N of 1,000 concurrent acquires made by 4 processes', async () => {
    const prefix = 'fleet:';
    const max = 137;
    const workers = Array.from({ length: 4 }, () =>
      spawn(process.execPath, [worker, server.url, prefix, '250', String(max), '86400000'], {
        stdio: 'pipe',
      }),
    );
    try {
      await Promise.all(workers.map(async (child) => expect(await nextLine(child)).toBe('ready')));
      const answers = workers.map((child) => nextLine(child));
      for (const child of workers) child.stdin.write('go\n');
      const granted = (await Promise.all(answers)).map(
        (line) => (JSON.parse(line) as { granted: number }).granted,
      );
      expect(granted.reduce((sum, count) => sum + count, 0)).toBe(max);
      const connection = createRedisConnection({ url: server.url, timeoutMs: 2_000 });
      try {
        const store = new RedisUsageStore({ connection, prefix });
        expect(
          await store.usage(
            [
              { key: 'acme\u0000tenant\u0000acme\u0000mail-per-day', max, windowMs: 86_400_000 },
              { key: 'acme\u0000tenant\u0000acme\u0000mail-ever', max: 1_000_000 },
            ],
            Date.now(),
          ),
        ).toEqual([max, max]);
      } finally {
        await connection.close();
      }
    } finally {
      for (const child of workers) child.kill();
    }
  });
});
