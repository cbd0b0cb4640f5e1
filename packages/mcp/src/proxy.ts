import type { Readable, Writable } from 'node:stream';
import { createJsonlFileAuditSink } from '@ape/audit';
import type { AuditSink, PolicyEvaluator } from '@ape/core';
import { loadPolicy } from '@ape/policy';
import {
  createMcpGateway,
  type McpGateway,
  type McpGatewayCloseReason,
  type McpGatewayOptions,
} from './gateway.js';
import { type McpServerCommand, serverEnvironment } from './server-config.js';
import { ProxyStdioClientTransport, ProxyStdioServerTransport } from './stdio.js';

/** The gateway options {@link runMcpProxy} passes through unchanged when given. */
const FORWARDED_OPTIONS = [
  'tenant',
  'escalation',
  'defaultProvenance',
  'allowMethods',
  'refuseMethods',
  'afterDeniedEscalation',
  'lineage',
  'usage',
  'revocations',
] as const satisfies readonly (keyof McpGatewayOptions)[];

/** What {@link runMcpProxy} takes: the proxy's own options and the gateway options it passes on. */
export interface McpProxyOptions extends Pick<McpGatewayOptions, (typeof FORWARDED_OPTIONS)[number]> {
  /** A policy file (YAML or JSON) or a compiled policy. */
  readonly policy: string | PolicyEvaluator;
  /** The downstream server to start. */
  readonly server: McpServerCommand;
  /** A JSON Lines audit log file (appended to, hash-chained); default: in memory only. */
  readonly auditFile?: string;
  /** Where MCP comes from and goes to; default `process.stdin` / `process.stdout`. */
  readonly stdin?: Readable;
  readonly stdout?: Writable;
  /** Where the downstream server's stderr goes; default: inherited. */
  readonly serverStderr?: 'inherit' | 'ignore' | 'pipe';
  /** Called once the gateway serves the client. */
  readonly onReady?: (gateway: McpGateway) => void;
}

/** The options of `options` that {@link FORWARDED_OPTIONS} names and that are given. */
function forwardedOptions(
  options: McpProxyOptions,
): Pick<McpGatewayOptions, (typeof FORWARDED_OPTIONS)[number]> {
  const forwarded: Record<string, unknown> = {};
  for (const key of FORWARDED_OPTIONS) if (options[key] !== undefined) forwarded[key] = options[key];
  return forwarded;
}

/**
 * Runs the gateway as a stdio proxy: starts the server command, serves MCP on `stdin`/`stdout`, and
 * resolves when either side ends (the client closes stdin, or the server exits), after ending the
 * APE session and closing the audit log.
 * @throws PolicyError (`POLICY_INVALID`) for a bad policy file, AuditError for an unusable audit
 * log, ApeError (`INTERNAL`) when the server cannot be started.
 */
export async function runMcpProxy(options: McpProxyOptions): Promise<McpGatewayCloseReason> {
  const policy = typeof options.policy === 'string' ? loadPolicy(options.policy) : options.policy;
  const audit: AuditSink | undefined =
    options.auditFile === undefined ? undefined : await createJsonlFileAuditSink(options.auditFile);
  const stdin = options.stdin ?? process.stdin;
  const stdout = options.stdout ?? process.stdout;
  // Transports that behave as the SDK's stdio transports but check the usual messages without a
  // schema parse (stdio.ts).
  const transportDown = new ProxyStdioClientTransport({
    command: options.server.command,
    args: [...options.server.args],
    env: serverEnvironment(options.server),
    stderr: options.serverStderr ?? 'inherit',
    ...(options.server.cwd === undefined ? {} : { cwd: options.server.cwd }),
  });
  let gateway: McpGateway;
  try {
    gateway = await createMcpGateway({
      policy,
      transportUp: new ProxyStdioServerTransport(stdin, stdout),
      transportDown,
      ...forwardedOptions(options),
      ...(audit === undefined ? {} : { audit }),
    });
  } catch (error) {
    await audit?.close().catch(() => undefined);
    throw error;
  }
  // The SDK's stdio server transport does not notice the end of its input: close on it explicitly.
  const onEnd = (): void => void gateway.close();
  stdin.once('end', onEnd);
  stdin.once('close', onEnd);
  options.onReady?.(gateway);
  const reason = await gateway.closed;
  stdin.off('end', onEnd);
  stdin.off('close', onEnd);
  await audit?.close();
  return reason;
}
