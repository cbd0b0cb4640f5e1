import type { Readable, Writable } from 'node:stream';
import { createJsonlFileAuditSink } from '@ape/audit';
import type {
  AuditSink,
  EscalationHandler,
  PolicyEvaluator,
  ProvenanceLabel,
  RevocationFeed,
  UsageStore,
} from '@ape/core';
import { loadPolicy } from '@ape/policy';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { McpAfterDeniedEscalation } from './connection-sessions.js';
import {
  createMcpGateway,
  type McpGateway,
  type McpGatewayCloseReason,
  type McpGatewayOptions,
} from './gateway.js';
import { type McpServerCommand, serverEnvironment } from './server-config.js';

/** What {@link runMcpProxy} takes. */
export interface McpProxyOptions {
  /** A policy file (YAML or JSON) or a compiled policy. */
  readonly policy: string | PolicyEvaluator;
  /** The downstream server to start. */
  readonly server: McpServerCommand;
  readonly tenant?: string;
  /** A JSON Lines audit log file (appended to, hash-chained); default: in memory only. */
  readonly auditFile?: string;
  /** Used when the client cannot be asked through elicitation; default deny. */
  readonly escalation?: EscalationHandler;
  readonly defaultProvenance?: ProvenanceLabel;
  /** The client methods forwarded to the server (the gateway's `allowMethods`); default `DEFAULT_FORWARDED_METHODS`. */
  readonly allowMethods?: readonly string[];
  /** Methods taken off the forward list (the gateway's `refuseMethods`). */
  readonly refuseMethods?: readonly string[];
  /** After a denied escalation ended the APE session: `refuse` (default) or `continue` (the gateway's option). */
  readonly afterDeniedEscalation?: McpAfterDeniedEscalation;
  /** The lineage of the connection's sessions; see {@link McpGatewayOptions.lineage}. */
  readonly lineage?: string;
  /** Where budgets and the previous action live; see {@link McpGatewayOptions.usage}. */
  readonly usage?: UsageStore;
  /** The kill switch; see {@link McpGatewayOptions.revocations}. */
  readonly revocations?: RevocationFeed;
  /** Where MCP comes from and goes to; default `process.stdin` / `process.stdout`. */
  readonly stdin?: Readable;
  readonly stdout?: Writable;
  /** Where the downstream server's stderr goes; default: inherited. */
  readonly serverStderr?: 'inherit' | 'ignore' | 'pipe';
  /** Called once the gateway serves the client. */
  readonly onReady?: (gateway: McpGateway) => void;
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
  const transportDown = new StdioClientTransport({
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
      transportUp: new StdioServerTransport(stdin, stdout),
      transportDown,
      ...(options.tenant === undefined ? {} : { tenant: options.tenant }),
      ...(audit === undefined ? {} : { audit }),
      ...(options.escalation === undefined ? {} : { escalation: options.escalation }),
      ...(options.defaultProvenance === undefined ? {} : { defaultProvenance: options.defaultProvenance }),
      ...(options.allowMethods === undefined ? {} : { allowMethods: options.allowMethods }),
      ...(options.refuseMethods === undefined ? {} : { refuseMethods: options.refuseMethods }),
      ...(options.afterDeniedEscalation === undefined
        ? {}
        : { afterDeniedEscalation: options.afterDeniedEscalation }),
      ...(options.lineage === undefined ? {} : { lineage: options.lineage }),
      ...(options.usage === undefined ? {} : { usage: options.usage }),
      ...(options.revocations === undefined ? {} : { revocations: options.revocations }),
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
