import { writeFileSync } from 'node:fs';
import type { EscalationHandler } from '@ape/core';
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

/**
 * An escalation handler that publishes to the fleet's approval queue on Redis and tells the operator
 * (on stderr: stdout is the MCP stream) how to answer.
 */
async function fleetEscalation(
  context: CommandContext,
  url: string,
  prefix: string | undefined,
): Promise<{ readonly escalation: EscalationHandler; close(): Promise<void> }> {
  const [redis, escalation] = await Promise.all([import('@ape/redis'), import('@ape/escalation')]);
  const connection = redis.createRedisConnection({ url, name: 'ape-mcp-proxy' });
  const queue = new redis.RedisApprovalQueue({ connection, ...(prefix === undefined ? {} : { prefix }) });
  const prefixOption = prefix === undefined ? '' : ` --prefix ${prefix}`;
  return {
    escalation: new escalation.ApprovalQueueEscalation({
      queue,
      onPublished: (id, request) =>
        context.printError(
          `approval needed for ${request.action} (step ${request.stepIndex}): ape approve ${id} --redis ${connection.address}${prefixOption} --approver <you>`,
        ),
    }),
    close: () => connection.close(),
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
      'a fleet Redis: escalations the client cannot elicit wait there for ape approve / ape deny',
    )
    .option('--prefix <prefix>', 'the key prefix of the fleet on --redis (default "ape:")')
    .argument('[command...]', 'the server command and its arguments, after --')
    .action(async (words: string[], options: ProxyOptions) => {
      const module = await import('@ape/mcp');
      const mode = options.afterDeniedEscalation;
      if (mode !== 'refuse' && mode !== 'continue') {
        throw new CommandFailure(`--after-denied-escalation must be refuse or continue, got "${mode}"`);
      }
      const server = serverCommand(context, module, words, options);
      const fleet =
        options.redis === undefined
          ? undefined
          : await fleetEscalation(context, options.redis, options.prefix);
      try {
        await module.runMcpProxy({
          afterDeniedEscalation: mode,
          policy: context.resolvePath(options.policy),
          server,
          ...(options.tenant === undefined ? {} : { tenant: options.tenant }),
          ...(options.audit === undefined ? {} : { auditFile: context.resolvePath(options.audit) }),
          allowMethods: [...module.DEFAULT_FORWARDED_METHODS, ...options.allowMethod],
          refuseMethods: options.refuseMethod,
          ...(fleet === undefined ? {} : { escalation: fleet.escalation }),
        });
      } finally {
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
        throw new CommandFailure(
          `cannot write ${file}: ${error instanceof Error ? error.message : String(error)}`,
        );
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
