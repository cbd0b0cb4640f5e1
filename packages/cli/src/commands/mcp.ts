import { writeFileSync } from 'node:fs';
import type { ApprovalQueue, EscalationHandler, RevocationFeed, UsageStore } from '@ape/core';
import type { McpServerCommand } from '@ape/mcp';
import type { Command } from 'commander';
import { CommandFailure } from '../command-failure.js';
import { type CommonOptions, withCommonOptions } from '../common-options.js';
import type { CommandContext } from '../context.js';
import { apeCommand } from '../invocation.js';

interface ServerOptions {
  readonly config?: string;
  readonly server?: string;
}

interface ProxyOptions extends ServerOptions {
  readonly policy: string;
  readonly tenant?: string;
  readonly audit?: string;
  readonly allowMethod: string[];
  readonly refuseMethod: string[];
  readonly afterDeniedEscalation: string;
  readonly redis?: string;
  readonly prefix?: string;
  readonly console?: string;
  readonly lineage?: string;
}

/** Commander's collector for a repeated option. */
function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

interface ScanOptions extends ServerOptions, CommonOptions {
  readonly output?: string;
}

/** The sibling module `ape mcp` uses, loaded when a subcommand runs rather than when `ape` starts. */
type McpModule = typeof import('@ape/mcp');

/** The server to start: `--config <file> --server <name>`, or the command after `--`. */
function serverCommand(
  context: CommandContext,
  mcp: McpModule,
  words: readonly string[],
  options: ServerOptions,
): McpServerCommand {
  if (options.config !== undefined || options.server !== undefined) {
    if (options.config === undefined || options.server === undefined) {
      throw new CommandFailure('--config and --server go together');
    }
    if (words.length > 0)
      throw new CommandFailure('give either --config/--server or a command after --, not both');
    return mcp.readMcpServerConfig(context.resolvePath(options.config), options.server);
  }
  const [command, ...args] = words;
  if (command === undefined) {
    throw new CommandFailure(
      'no server to start: give its command after -- (or --config <mcp.json> --server <name>)',
    );
  }
  return { command, args, cwd: context.cwd };
}

/** What the proxy shares with its fleet on Redis. */
interface Fleet {
  readonly escalation: EscalationHandler;
  readonly queue: ApprovalQueue;
  readonly usage: UsageStore;
  readonly revocations: RevocationFeed;
  close(): Promise<void>;
}

/**
 * The proxy's shared state on one Redis connection: budgets and the previous action (usage),
 * revocations (`ape revoke` stops this process), and an escalation handler that publishes to the
 * fleet's approval queue and tells the operator (on stderr: stdout is the MCP stream) how to answer.
 */
async function fleetOn(
  context: CommandContext,
  url: string,
  prefix: string | undefined,
  tenant: string,
): Promise<Fleet> {
  const [redis, escalation] = await Promise.all([import('@ape/redis'), import('@ape/escalation')]);
  const connection = redis.createRedisConnection({ url, name: 'ape-mcp-proxy' });
  const keys = prefix === undefined ? {} : { prefix };
  const queue = new redis.RedisApprovalQueue({ connection, ...keys });
  const revocations = new redis.RedisRevocationFeed({ connection, ...keys, tenants: [tenant] });
  try {
    // The first call is checked against a fresh view of the revocations, not refused as stale.
    await revocations.ready();
  } catch (error) {
    await revocations.close().catch(() => undefined);
    await connection.close().catch(() => undefined);
    throw new CommandFailure(
      `cannot read the revocations on --redis ${connection.address}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const prefixOption = prefix === undefined ? '' : ` --prefix ${prefix}`;
  return {
    escalation: new escalation.ApprovalQueueEscalation({
      queue,
      onPublished: (id, request) =>
        context.printError(
          `approval needed for ${request.action} (step ${request.stepIndex}): ape approve ${id} --redis ${connection.address}${prefixOption} --approver <you>`,
        ),
    }),
    queue,
    usage: new redis.RedisUsageStore({ connection, ...keys }),
    revocations,
    async close() {
      await revocations.close();
      await connection.close();
    },
  };
}

/**
 * With `--console`: serves the web console beside the proxy, answering `queue` (the fleet's, or an
 * in-process one) under a generated login printed on stderr (stdout is the MCP stream).
 */
async function consoleBeside(
  context: CommandContext,
  address: string,
  options: ProxyOptions,
  fleet: { readonly escalation: EscalationHandler; readonly queue: ApprovalQueue } | undefined,
): Promise<{ readonly escalation: EscalationHandler; close(): Promise<void> }> {
  const [consoleModule, core, escalation] = await Promise.all([
    import('@ape/console'),
    import('@ape/core'),
    import('@ape/escalation'),
  ]);
  let listen: ReturnType<typeof consoleModule.parseConsoleAddress>;
  const secret = consoleModule.generateConsoleSecret();
  let app: ReturnType<typeof consoleModule.createConsole>;
  const queue = fleet?.queue ?? core.createInMemoryApprovalQueue();
  try {
    listen = consoleModule.parseConsoleAddress(address);
    app = consoleModule.createConsole({
      users: [
        {
          name: 'admin',
          secretHash: consoleModule.hashConsoleSecret(secret),
          tenants: [options.tenant ?? 'default'],
        },
      ],
      queue,
      ...(options.audit === undefined ? {} : { audit: { file: context.resolvePath(options.audit) } }),
    });
  } catch (error) {
    throw new CommandFailure(`--console: ${error instanceof Error ? error.message : String(error)}`);
  }
  const server = await app.listen(listen).catch((error: unknown) => {
    throw new CommandFailure(
      `--console: cannot listen on ${address}: ${error instanceof Error ? error.message : String(error)}`,
    );
  });
  context.printError(`console at ${server.url}: sign in as admin with the secret ${secret} (shown once)`);
  return {
    escalation:
      fleet?.escalation ??
      new escalation.ApprovalQueueEscalation({
        queue,
        onPublished: (_id, request) =>
          context.printError(
            `approval needed for ${request.action} (step ${request.stepIndex}): answer at ${server.url}`,
          ),
      }),
    close: () => server.close(),
  };
}

/**
 * @internal `ape mcp proxy` (a policy-enforcing MCP gateway over stdio) and `ape mcp scan` (a draft
 * policy from a server's tools). See docs/mcp.md.
 */
export function registerMcpCommand(program: Command, context: CommandContext): void {
  const mcp = program.command('mcp').description('put APE in front of an MCP server: proxy, scan');

  mcp
    .command('proxy')
    .description('serve MCP on stdio and enforce a policy on every tools/call of the server started after --')
    .requiredOption('--policy <file>', 'the policy (YAML, or JSON with a .json extension)')
    .option('--tenant <id>', 'the tenant every call belongs to', 'default')
    .option('--audit <log>', 'append a hash-chained JSON Lines audit log to this file')
    .option(
      '--allow-method <method>',
      'also forward this client request or notification to the server (exact name; repeat for more)',
      collect,
      [],
    )
    .option(
      '--refuse-method <method>',
      'do not forward this method, although it is on the default list (repeat for more)',
      collect,
      [],
    )
    .option(
      '--after-denied-escalation <mode>',
      'once a denied escalation ended the APE session: refuse every later call, or continue in a new session of the same lineage (counts kept)',
      'refuse',
    )
    .option('--config <mcp.json>', 'read the server from an { "mcpServers": ... } file')
    .option('--server <name>', 'the server to start from --config')
    .option(
      '--redis <url>',
      'a fleet Redis: budgets and the previous action are counted there, ape revoke stops this proxy, and escalations the client cannot elicit wait there for ape approve / ape deny',
    )
    .option(
      '--lineage <id>',
      'the lineage of this connection (a user, an agent): proxies given the same id (and the same --redis) share its budgets and previous action (default: a random id per connection)',
    )
    .option('--prefix <prefix>', 'the key prefix of the fleet on --redis (default "ape:")')
    .option(
      '--console <addr>',
      'serve the web console on host:port (127.0.0.1 unless a host is given): escalations the client cannot elicit wait there',
    )
    .argument('[command...]', 'the server command and its arguments, after --')
    .action(async (words: string[], options: ProxyOptions) => {
      const module = await import('@ape/mcp');
      const mode = options.afterDeniedEscalation;
      if (mode !== 'refuse' && mode !== 'continue') {
        throw new CommandFailure(`--after-denied-escalation must be refuse or continue, got "${mode}"`);
      }
      const server = serverCommand(context, module, words, options);
      if (options.lineage !== undefined && options.lineage.length === 0) {
        throw new CommandFailure('--lineage must not be empty');
      }
      const tenant = options.tenant ?? 'default';
      const fleet =
        options.redis === undefined
          ? undefined
          : await fleetOn(context, options.redis, options.prefix, tenant);
      const web =
        options.console === undefined
          ? undefined
          : await consoleBeside(context, options.console, options, fleet).catch(async (error: unknown) => {
              await fleet?.close();
              throw error;
            });
      const approvals = web ?? fleet;
      try {
        await module.runMcpProxy({
          afterDeniedEscalation: mode,
          policy: context.resolvePath(options.policy),
          server,
          ...(options.tenant === undefined ? {} : { tenant: options.tenant }),
          ...(options.audit === undefined ? {} : { auditFile: context.resolvePath(options.audit) }),
          allowMethods: [...module.DEFAULT_FORWARDED_METHODS, ...options.allowMethod],
          refuseMethods: options.refuseMethod,
          ...(options.lineage === undefined ? {} : { lineage: options.lineage }),
          ...(fleet === undefined ? {} : { usage: fleet.usage, revocations: fleet.revocations }),
          ...(approvals === undefined ? {} : { escalation: approvals.escalation }),
        });
      } finally {
        await web?.close();
        await fleet?.close();
      }
      // The client closed its side or the server exited: nothing is left to read.
      process.stdin.destroy();
    });

  withCommonOptions(
    mcp
      .command('scan')
      .description(
        'draft a starter policy from the tools of the server started after -- (a draft for a human)',
      )
      .option('--output <file>', 'write the policy to this file instead of stdout')
      .option('--config <mcp.json>', 'read the server from an { "mcpServers": ... } file')
      .option('--server <name>', 'the server to start from --config')
      .argument('[command...]', 'the server command and its arguments, after --'),
  ).action(async (words: string[], options: ScanOptions) => {
    const module = await import('@ape/mcp');
    const server = serverCommand(context, module, words, options);
    const scan = await module.scanMcpServerCommand(server);
    const draft = module.draftPolicy(scan);
    if (options.output !== undefined) {
      const file = context.resolvePath(options.output);
      try {
        writeFileSync(file, draft.text, 'utf8');
      } catch (error) {
        // Loaded here: `@ape/core` (and its schema validator) is not needed to start the CLI.
        const { messageOf } = await import('@ape/core');
        throw new CommandFailure(`cannot write ${file}: ${messageOf(error)}`);
      }
    }
    if (options.json === true) {
      context.printJson({
        server: scan.serverInfo ?? null,
        tools: draft.tools,
        ...(options.output === undefined ? { policy: draft.text } : { file: options.output }),
      });
      return;
    }
    if (options.output === undefined) {
      context.io.stdout.write(draft.text);
      return;
    }
    const style = context.style(options);
    for (const tool of draft.tools) context.print(`${tool.effect.padEnd(8)} ${tool.name}  (${tool.why})`);
    context.print(
      `${style.green('wrote')} ${options.output} (a draft: review it)`,
      `next: ${apeCommand(context)} validate ${options.output}`,
    );
  });
}
