import { readFileSync } from 'node:fs';
import type { ApprovalQueue } from '@ape/core';
import type { Command } from 'commander';
import { CommandFailure } from '../command-failure.js';
import type { CommandContext } from '../context.js';
import { readInputFile } from '../json-input.js';

interface ConsoleCommandOptions {
  readonly listen: string;
  readonly audit?: string;
  readonly checkpoint?: string;
  readonly key?: string;
  readonly redis?: string;
  readonly prefix?: string;
  readonly secretFile?: string;
  readonly user: string;
  readonly tenant: string[];
  readonly allowHost: string[];
  readonly hashSecret?: boolean;
}

/** Commander's collector for a repeated option. */
function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** The console module, loaded when the command runs so `ape` itself starts fast. */
type ConsoleModule = typeof import('@ape/console');

/** Turns a configuration error of the console package into a command failure (exit 2). */
function configured<T>(body: () => T): T {
  try {
    return body();
  } catch (error) {
    if (error instanceof CommandFailure) throw error;
    throw new CommandFailure(error instanceof Error ? error.message : String(error));
  }
}

function readSecretForHashing(context: CommandContext): string {
  const fromEnvironment = context.env['APE_CONSOLE_SECRET'];
  if (fromEnvironment !== undefined) return fromEnvironment;
  try {
    return readFileSync(0, 'utf8').replace(/\r?\n$/, '');
  } catch (error) {
    throw new CommandFailure(
      `cannot read the secret from stdin: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

/** Resolves when the process is asked to stop (Ctrl-C or a service manager's SIGTERM). */
function untilStopped(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

async function runConsole(context: CommandContext, options: ConsoleCommandOptions): Promise<void> {
  const module: ConsoleModule = await import('@ape/console');
  if (options.hashSecret === true) {
    const secret = readSecretForHashing(context);
    context.print(configured(() => module.hashConsoleSecret(secret)));
    return;
  }
  const address = configured(() => module.parseConsoleAddress(options.listen));
  if ((address.host === '0.0.0.0' || address.host === '::') && options.allowHost.length === 0) {
    throw new CommandFailure(
      `--listen ${options.listen} (every interface) needs --allow-host <host:port>: the name browsers use to reach the console`,
    );
  }
  if ((options.checkpoint === undefined) !== (options.key === undefined)) {
    throw new CommandFailure('--checkpoint and --key go together: a checkpoint is only worth its signature');
  }
  if (options.checkpoint !== undefined && options.audit === undefined) {
    throw new CommandFailure('--checkpoint needs --audit: it proves the log given there was not cut');
  }
  if (options.redis === undefined && options.audit === undefined) {
    throw new CommandFailure(
      'nothing to show: give --redis <url> (answer the fleet approval queue) and/or --audit <log>',
    );
  }
  let generatedSecret: string | undefined;
  const users: readonly import('@ape/console').ConsoleUser[] = configured(() => {
    if (options.secretFile !== undefined) {
      const file = context.resolvePath(options.secretFile);
      return module.parseConsoleUsers(readInputFile(file, options.secretFile), options.secretFile);
    }
    generatedSecret = module.generateConsoleSecret();
    return [
      {
        name: options.user,
        secretHash: module.hashConsoleSecret(generatedSecret),
        tenants: options.tenant.length === 0 ? module.ALL_TENANTS : options.tenant,
      },
    ];
  });
  const audit =
    options.audit === undefined
      ? undefined
      : {
          file: context.resolvePath(options.audit),
          ...(options.checkpoint === undefined || options.key === undefined
            ? {}
            : {
                checkpoint: {
                  file: context.resolvePath(options.checkpoint),
                  key: readInputFile(context.resolvePath(options.key), options.key).trim(),
                },
              }),
        };
  let queue: ApprovalQueue | undefined;
  let closeRedis: () => Promise<void> = async () => undefined;
  if (options.redis !== undefined) {
    const redis = await import('@ape/redis');
    const connection = configured(() =>
      redis.createRedisConnection({ url: options.redis ?? '', name: 'ape-console' }),
    );
    queue = new redis.RedisApprovalQueue({
      connection,
      ...(options.prefix === undefined ? {} : { prefix: options.prefix }),
    });
    closeRedis = () => connection.close();
  }
  try {
    const consoleApp = configured(() =>
      module.createConsole({
        users,
        ...(queue === undefined ? {} : { queue }),
        ...(audit === undefined ? {} : { audit }),
        ...(options.allowHost.length === 0 ? {} : { allowedHosts: options.allowHost }),
      }),
    );
    const server = await consoleApp.listen(address).catch((error: unknown) => {
      throw new CommandFailure(
        `cannot listen on ${options.listen}: ${error instanceof Error ? error.message : String(error)}`,
      );
    });
    context.print(`APE console at ${server.url}`);
    if (generatedSecret !== undefined) {
      context.print(
        `sign in as ${options.user} with the secret ${generatedSecret} (shown once; only its hash is kept)`,
      );
    }
    await untilStopped();
    await server.close();
  } finally {
    await closeRedis();
  }
}

/**
 * @internal `ape console`: serve the approvals and audit web page (see docs/console.md). Runs until
 * SIGINT or SIGTERM.
 */
export function registerConsoleCommand(program: Command, context: CommandContext): void {
  program
    .command('console')
    .description('serve the web console: approve escalations (--redis) and read the audit log (--audit)')
    .option(
      '--listen <addr>',
      'where to listen: host:port, :port or port (binds 127.0.0.1 unless a host is given)',
      '127.0.0.1:0',
    )
    .option('--audit <log>', 'the JSON Lines audit log the sessions and audit views read and verify')
    .option('--checkpoint <file>', 'a signed checkpoint the log must match (needs --key and --audit)')
    .option('--key <file>', 'the verifier (public) key file of the checkpoint')
    .option('--redis <url>', 'the fleet Redis whose approval queue the console answers')
    .option('--prefix <prefix>', 'the key prefix of the fleet on --redis (default "ape:")')
    .option(
      '--secret-file <file>',
      'users, one per line: <name> <tenants|*> <secret hash> (default: one generated user)',
    )
    .option('--user <name>', 'the name of the generated user (without --secret-file)', 'admin')
    .option(
      '--tenant <id>',
      'limit the generated user to this tenant (repeat for more; default every tenant)',
      collect,
      [],
    )
    .option(
      '--allow-host <host:port>',
      'another name browsers use to reach the console (repeat for more)',
      collect,
      [],
    )
    .option(
      '--hash-secret',
      'print the hash of a secret read from stdin (or APE_CONSOLE_SECRET) for a secret file, and exit',
    )
    .action((options: ConsoleCommandOptions) => runConsole(context, options));
}
