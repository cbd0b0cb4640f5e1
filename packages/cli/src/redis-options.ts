import type { Command } from 'commander';
import { CommandFailure } from './command-failure.js';

/** @internal The options of every command that talks to Redis. */
export interface RedisCommandOptions {
  readonly redis: string;
  readonly prefix?: string;
  readonly timeout?: string;
}

/** @internal Adds `--redis <url>` (required), `--prefix <prefix>` and `--timeout <ms>`. */
export function withRedisOptions(command: Command): Command {
  return command
    .requiredOption(
      '--redis <url>',
      'the Redis of the fleet: redis://[user:password@]host:port, or rediss:// for TLS',
    )
    .option('--prefix <prefix>', 'the key prefix the fleet uses (default "ape:")')
    .option('--timeout <ms>', 'how long to wait for Redis per command, in milliseconds', '2000');
}

/** The `@ape/redis` module, loaded when a Redis command runs rather than when `ape` starts. */
export type RedisModule = typeof import('@ape/redis');

/**
 * @internal Opens a connection from the options, runs `body`, and always closes the connection.
 * @throws CommandFailure for a malformed `--timeout`.
 */
export async function withRedis<T>(
  options: RedisCommandOptions,
  body: (
    module: RedisModule,
    connection: import('@ape/redis').RedisConnection,
    prefix: { prefix?: string },
  ) => Promise<T>,
): Promise<T> {
  const timeoutMs = Number(options.timeout ?? '2000');
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 60_000) {
    throw new CommandFailure('--timeout must be a whole number of milliseconds between 1 and 60000');
  }
  const module = await import('@ape/redis');
  const connection = module.createRedisConnection({ url: options.redis, timeoutMs, name: 'ape-cli' });
  try {
    return await body(module, connection, options.prefix === undefined ? {} : { prefix: options.prefix });
  } finally {
    await connection.close();
  }
}
