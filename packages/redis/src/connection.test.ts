import { describe, expect, it } from 'vitest';
import { useRedisServer } from './__fixtures__/server.js';
import { createRedisConnection, LuaScript } from './connection.js';
import { startRedisServer } from './testing/redis-server.js';

const { server } = useRedisServer();

describe('createRedisConnection', () => {
  it('refuses a malformed url or time bound with CONFIG_INVALID naming the option', () => {
    expect(() => createRedisConnection({ url: 'not a url' })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', details: { field: 'url' } }),
    );
    expect(() => createRedisConnection({ url: 'http://127.0.0.1:6379' })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', details: { field: 'url' } }),
    );
    expect(() => createRedisConnection({ url: 'redis://127.0.0.1:6379', timeoutMs: 0 })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', details: { field: 'timeoutMs' } }),
    );
    expect(() => createRedisConnection({ url: undefined as never })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', details: { field: 'url' } }),
    );
  });

  it('never shows the password of the url in an error', async () => {
    const connection = createRedisConnection({ url: 'redis://user:hunter2@127.0.0.1:1', timeoutMs: 100 });
    const error = await connection.command('test', 'ping', ['PING']).catch((caught: unknown) => caught);
    await connection.close();
    expect(error).toMatchObject({ code: 'STORE_UNAVAILABLE', details: { store: 'test', operation: 'ping' } });
    expect(JSON.stringify(error)).not.toContain('hunter2');
    expect(String((error as Error).message)).not.toContain('hunter2');
  });

  it('fails a command with STORE_UNAVAILABLE when Redis answers an error', async () => {
    const connection = createRedisConnection({ url: server().url, timeoutMs: 1_000 });
    try {
      await expect(connection.command('test', 'bad', ['NOT_A_COMMAND'])).rejects.toMatchObject({
        code: 'STORE_UNAVAILABLE',
      });
    } finally {
      await connection.close();
    }
  });

  it('loads a script that the server does not know yet and runs it by digest afterwards', async () => {
    const connection = createRedisConnection({ url: server().url, timeoutMs: 1_000 });
    try {
      const script = new LuaScript(`return ARGV[1] .. KEYS[1]`);
      await connection.command('test', 'flush', ['SCRIPT', 'FLUSH']);
      expect(await connection.script('test', 'run', script, ['k'], ['v'])).toBe('vk');
      expect(await connection.command('test', 'exists', ['SCRIPT', 'EXISTS', script.sha])).toEqual([1]);
    } finally {
      await connection.close();
    }
  });

  it('fails every command with STORE_UNAVAILABLE after close', async () => {
    const connection = createRedisConnection({ url: server().url });
    await connection.close();
    await expect(connection.command('test', 'ping', ['PING'])).rejects.toMatchObject({
      code: 'STORE_UNAVAILABLE',
    });
  });
});

describe('startRedisServer', () => {
  it('fails (never skips) when the redis-server binary is missing', async () => {
    await expect(startRedisServer({ binary: '/nonexistent/redis-server' })).rejects.toThrow(
      /install it \(Debian: apt-get install redis-server\)/,
    );
  });
});
