import {
  type AgentRuntime,
  ApeError,
  type AuditSink,
  type Clock,
  ConfigurationError,
  InternalError,
  isActionId,
  messageOf,
  systemClock,
  createDenyAllEscalationHandler,
  createInMemoryAuditSink,
  createInMemoryUsageStore,
  type EscalationHandler,
  isProvenanceLabel,
  type PolicyEvaluator,
  type ProvenanceLabel,
  ProvenanceError,
  type RevocationFeed,
  type UsageStore,
} from '@ape/core';
import { labelAtPointers } from '@ape/provenance';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  type CallToolResult,
  CallToolRequestSchema,
  CallToolResultSchema,
  type ClientCapabilities,
  ErrorCode,
  type Implementation,
  isJSONRPCNotification,
  isJSONRPCRequest,
  ListToolsRequestSchema,
  ListToolsResultSchema,
  McpError,
  type JSONRPCMessage,
  type Notification,
  type RequestId,
  ResultSchema,
  type ServerCapabilities,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { elicitApproval } from './approval-prompt.js';
import {
  cancellationOf,
  DirectCall,
  DirectDownstream,
  directToolCall,
  InterceptedTransport,
  responseTo,
  type ToolCallParams,
} from './direct-calls.js';
import {
  AFTER_DENIED_ESCALATION_MODES,
  ConnectionSessions,
  type McpAfterDeniedEscalation,
} from './connection-sessions.js';
import { forwardedMethods } from './methods.js';
import {
  ARG_PROVENANCE_META_KEY,
  declaredArgumentLabels,
  DECISION_META_KEY,
  effectiveProvenance,
  forwardedMeta,
  PROVENANCE_META_KEY,
} from './provenance-meta.js';
import { type PinnedTool, pinTool } from './tool-pins.js';

/** How long the gateway waits for the downstream server's answer to one request by default: 60 s. */
export const DEFAULT_MCP_REQUEST_TIMEOUT_MS = 60_000;

const LIST_CHANGED = 'notifications/tools/list_changed';
/** The `source` of the audit records the gateway writes itself (refusals before the runtime). */
const GATEWAY_SOURCE = 'mcp-gateway';

/** What {@link createMcpGateway} takes. */
export interface McpGatewayOptions {
  /** The compiled policy (`loadPolicy` from `@ape/policy`). Decides `tools/list` (`mayPermit`) and every `tools/call`. */
  readonly policy: PolicyEvaluator;
  /** The transport to the MCP client (for example `StdioServerTransport`). Not started yet. */
  readonly transportUp: Transport;
  /** The transport to the downstream MCP server (for example `StdioClientTransport`). Not started yet. */
  readonly transportDown: Transport;
  /** The tenant every call belongs to; default `"default"`. */
  readonly tenant?: string;
  /** Where the runtime's events go; default: an in-memory sink. The gateway flushes it when it closes. */
  readonly audit?: AuditSink;
  /**
   * Who approves an escalated call when the client cannot be asked through elicitation (or
   * `elicitation` is false); default: deny every escalation.
   */
  readonly escalation?: EscalationHandler;
  /** Ask the human through MCP elicitation when the client supports it; default `true`. */
  readonly elicitation?: boolean;
  /**
   * The label of a call's arguments when the client does not declare one, and the most trusted label
   * a client can declare; default `USER_TRUSTED`.
   */
  readonly defaultProvenance?: ProvenanceLabel;
  /**
   * Tool pins approved by the operator, by tool name ({@link McpGateway.pins} of an earlier run). When
   * given, a tool is served only if its current definition has exactly this pin; when absent, every
   * tool is pinned as the server lists it at start.
   */
  readonly approvedTools?: Readonly<Record<string, string>>;
  /** Time for the runtime and the authority; default: the system clock. */
  readonly clock?: Clock;
  /** How long an escalation may wait for an answer, in ms; default: the runtime's (5 minutes). */
  readonly escalationTimeoutMs?: number;
  /** How long to wait for one downstream answer, in ms; default {@link DEFAULT_MCP_REQUEST_TIMEOUT_MS}. */
  readonly requestTimeoutMs?: number;
  /** Argument names written to the audit log in clear (all others appear as a digest only). */
  readonly auditArgs?: readonly string[];
  /** How the gateway introduces itself to the downstream server. */
  readonly clientInfo?: Implementation;
  /** Capabilities declared to the downstream server (roots, sampling, elicitation); default none. */
  readonly downstreamCapabilities?: ClientCapabilities;
  /**
   * The client requests and notifications forwarded to the server, matched exactly and
   * case-sensitively; default {@link DEFAULT_FORWARDED_METHODS}. Every other request is answered
   * "method not found" and every other notification dropped, and each refusal is audited
   * (`decision.made` with `code: "METHOD_NOT_ALLOWED"`). Methods the gateway answers itself
   * ({@link GATEWAY_METHODS}: `tools/call`, `tools/list`, ...) cannot be listed.
   */
  readonly allowMethods?: readonly string[];
  /** Methods taken off the forward list (for example `resources/read`): refused like unknown ones. */
  readonly refuseMethods?: readonly string[];
  /**
   * The lineage of this connection's APE sessions (limits with `scope: lineage` and the previous
   * action of `tool_transitions` are counted across them); default: a random id, one lineage per
   * gateway, that is per client connection. Give a stable id (a user, a thread) together with a
   * shared `usage` store to count across connections.
   */
  readonly lineage?: string;
  /**
   * Where usage limits and the previous action live; default: a fresh in-memory store for this
   * gateway. Share one store (or `@ape/redis`) between gateways to count across connections.
   */
  readonly usage?: UsageStore;
  /**
   * The kill switch every session of this gateway checks (core's `RevocationFeed`; `@ape/redis`'s
   * `RedisRevocationFeed` for a fleet, so `ape revoke` reaches this process); default: none.
   */
  readonly revocations?: RevocationFeed;
  /** After a denied escalation ended the APE session: `refuse` (default) or `continue`; see {@link McpAfterDeniedEscalation}. */
  readonly afterDeniedEscalation?: McpAfterDeniedEscalation;
}

/** Why a gateway closed. */
export type McpGatewayCloseReason = 'downstream' | 'upstream' | 'closed';

/** One tool as the gateway sees it. */
export interface McpGatewayTool {
  readonly name: string;
  /** The pin approved at start (or by `approveTool`), if any. */
  readonly pin: string | undefined;
  /** Whether the policy may ever permit it (`mayPermit`); only such tools are listed. */
  readonly permitted: boolean;
  /** Whether the server's current definition still has the approved pin. */
  readonly unchanged: boolean;
}

/** A running gateway. Create with {@link createMcpGateway}. */
export interface McpGateway {
  readonly tenant: string;
  /** The downstream server's name and version. */
  readonly serverInfo: Implementation | undefined;
  /** The lineage of every APE session of this connection. */
  readonly lineage: string;
  /**
   * The id of the current APE session (with `afterDeniedEscalation: 'continue'`, a new one starts
   * after a denied escalation ends the previous one).
   */
  readonly sessionId: string | undefined;
  /** The head of the current session's call chain (calls mode), or `undefined` before its first call. */
  readonly planHash: string | undefined;
  /** How many calls have run in this gateway's lifetime. */
  readonly approvedCalls: number;
  /** The approved pins, by tool name (save them to pass as `approvedTools` next time). */
  readonly pins: Readonly<Record<string, string>>;
  /** Every tool the downstream server listed, with its state. */
  tools(): readonly McpGatewayTool[];
  /**
   * The operator re-approves `name` as the server defines it now: its current pin replaces the old
   * one. Resolves to `false` when the server does not list the tool.
   */
  approveTool(name: string): Promise<boolean>;
  /** Resolves once the gateway has closed, with the reason. */
  readonly closed: Promise<McpGatewayCloseReason>;
  /** Closes both sides, ends the APE session and flushes the audit sink. Idempotent. */
  close(): Promise<void>;
}

interface ToolState {
  readonly name: string;
  /** The server's current definition, pinned (a frozen copy); `undefined` when no longer listed or not hashable. */
  current: PinnedTool<Tool> | undefined;
  /** The approved pin. */
  pin: string | undefined;
  readonly permitted: boolean;
}

/** The definition to serve: the pinned copy, only while it is exactly the approved one. */
function servedDefinition(state: ToolState): Tool | undefined {
  const current = state.current;
  return state.pin !== undefined && current !== undefined && current.pin === state.pin
    ? current.definition
    : undefined;
}

interface Refusal {
  readonly reason: string;
  readonly rules: readonly string[];
  readonly code?: string;
}

/**
 * Puts an APE policy between an MCP client (`transportUp`) and an MCP server (`transportDown`):
 * connects to the server, pins its tools, then serves the client. `tools/list` shows only tools
 * the policy may ever permit and whose definition is unchanged; each `tools/call` is authorised by
 * the APE runtime with its real arguments (one plan step, one token, audited) or answered with an
 * `isError` result naming the reason and rules. Everything else is forwarded. See docs/mcp.md.
 * @throws ConfigurationError (`CONFIG_INVALID`) for malformed options.
 * @throws InternalError (`INTERNAL`) when the downstream server cannot be reached or listed.
 */
export async function createMcpGateway(options: McpGatewayOptions): Promise<McpGateway> {
  const gateway = new GatewayImplementation(options);
  await gateway.start();
  return gateway;
}

function configError(field: string, message: string): ConfigurationError {
  return new ConfigurationError(`createMcpGateway: ${message}`, { field });
}

function refusalResult(tool: string, refusal: Refusal): CallToolResult {
  const rules = refusal.rules.length === 0 ? '' : ` (rules: ${refusal.rules.join(', ')})`;
  return {
    content: [{ type: 'text', text: `APE refused "${tool}": ${refusal.reason}${rules}` }],
    isError: true,
    _meta: {
      [DECISION_META_KEY]: {
        decision: 'DENY',
        rules: [...refusal.rules],
        reason: refusal.reason,
        ...(refusal.code === undefined ? {} : { code: refusal.code }),
      },
    },
  };
}

function refusalOf(error: unknown): Refusal {
  if (ApeError.isInstance(error)) {
    const rules = error.details['rules'];
    const reason = error.details['reason'];
    return {
      reason: typeof reason === 'string' && error.code !== 'ESCALATION_DENIED' ? reason : error.message,
      rules: Array.isArray(rules) ? rules.filter((rule): rule is string => typeof rule === 'string') : [],
      code: error.code,
    };
  }
  return { reason: `the call failed (${messageOf(error)}); failing closed.`, rules: [], code: 'INTERNAL' };
}

class GatewayImplementation implements McpGateway {
  readonly tenant: string;
  readonly closed: Promise<McpGatewayCloseReason>;
  readonly #options: McpGatewayOptions;
  readonly #policy: PolicyEvaluator;
  readonly #client: Client;
  #server: Server | undefined;
  readonly #tools = new Map<string, ToolState>();
  readonly #defaultProvenance: ProvenanceLabel;
  readonly #requestTimeoutMs: number;
  readonly #forwarded: ReadonlySet<string>;
  readonly #audit: AuditSink;
  readonly #clock: Clock;
  readonly #sessions: ConnectionSessions;
  /** `tools/call` requests to the server sent without the SDK client (see direct-calls.ts). */
  readonly #downstream: DirectDownstream;
  /** The client's `tools/call` requests the gateway answers itself, by request id, until answered. */
  readonly #directCalls = new Map<RequestId, DirectCall>();
  /**
   * The client's requests left to the SDK whose handler has not started (the SDK runs it a few
   * ticks later) and which it has not answered, by request id. While there are any, `tools/call`
   * goes to the SDK too: requests are taken up in arrival order whichever path they take (a call
   * never overtakes a `tools/list` sent before it, which may find a changed tool).
   */
  readonly #heldBySdk = new Map<RequestId, number>();
  /**
   * The server's `notifications/tools/list_changed` the SDK has not handed to the gateway yet: while
   * there are any, `tools/call` goes to the SDK too, so that no call overtakes the re-listing.
   */
  #listChanges = 0;
  #approvedCalls = 0;
  #queue: Promise<unknown> = Promise.resolve();
  #closing: Promise<void> | undefined;
  #resolveClosed: (reason: McpGatewayCloseReason) => void = () => undefined;

  constructor(options: McpGatewayOptions) {
    if (typeof options !== 'object' || options === null)
      throw configError('options', 'options are required.');
    const policy = options.policy;
    if (typeof policy?.evaluate !== 'function' || typeof policy.mayPermit !== 'function') {
      throw configError('policy', '`policy` must be a compiled policy (loadPolicy from @ape/policy).');
    }
    for (const field of ['transportUp', 'transportDown'] as const) {
      const transport = options[field];
      if (typeof transport?.start !== 'function' || typeof transport.send !== 'function') {
        throw configError(field, `\`${field}\` must be an MCP transport.`);
      }
    }
    const tenant = options.tenant ?? 'default';
    if (typeof tenant !== 'string' || tenant.length === 0) {
      throw configError('tenant', '`tenant` must be a non-empty string.');
    }
    const provenance = options.defaultProvenance ?? 'USER_TRUSTED';
    if (!isProvenanceLabel(provenance)) {
      throw configError('defaultProvenance', '`defaultProvenance` must be a provenance label.');
    }
    const timeout = options.requestTimeoutMs ?? DEFAULT_MCP_REQUEST_TIMEOUT_MS;
    if (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout <= 0) {
      throw configError('requestTimeoutMs', '`requestTimeoutMs` must be a positive number of milliseconds.');
    }
    this.tenant = tenant;
    this.#options = options;
    this.#policy = policy;
    this.#defaultProvenance = provenance;
    this.#requestTimeoutMs = timeout;
    this.#forwarded = forwardedMethods(options.allowMethods, options.refuseMethods);
    this.#audit = options.audit ?? createInMemoryAuditSink();
    this.#clock = options.clock ?? systemClock;
    const afterDeniedEscalation = options.afterDeniedEscalation ?? 'refuse';
    if (!AFTER_DENIED_ESCALATION_MODES.includes(afterDeniedEscalation)) {
      throw configError('afterDeniedEscalation', '`afterDeniedEscalation` must be "refuse" or "continue".');
    }
    if (
      options.lineage !== undefined &&
      (typeof options.lineage !== 'string' || options.lineage.length === 0)
    ) {
      throw configError('lineage', '`lineage` must be a non-empty string.');
    }
    this.#sessions = new ConnectionSessions(
      {
        tenant,
        policy,
        audit: this.#audit,
        escalation: this.#escalationHandler(),
        defaultProvenance: provenance,
        lineage: options.lineage,
        usage: options.usage ?? createInMemoryUsageStore(),
        revocations: options.revocations,
        afterDeniedEscalation,
        clock: options.clock,
        escalationTimeoutMs: options.escalationTimeoutMs,
        auditArgs: options.auditArgs,
      },
      () => ({
        actions: [...this.#tools.keys()].filter((name) => isActionId(name)),
        scope: `Tool calls of an MCP client to ${this.#client.getServerVersion()?.name ?? 'an MCP server'}, through the APE gateway.`,
      }),
    );
    this.#downstream = new DirectDownstream(options.transportDown, timeout);
    this.#client = new Client(options.clientInfo ?? { name: 'ape-mcp-gateway', version: '1.0.0' }, {
      capabilities: options.downstreamCapabilities ?? {},
    });
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
  }

  get serverInfo(): Implementation | undefined {
    return this.#client.getServerVersion();
  }

  get lineage(): string {
    return this.#sessions.lineage;
  }

  get sessionId(): string | undefined {
    return this.#sessions.current?.sessionId;
  }

  get planHash(): string | undefined {
    return this.#sessions.current?.planHash;
  }

  get approvedCalls(): number {
    return this.#approvedCalls;
  }

  get pins(): Readonly<Record<string, string>> {
    const pins: Record<string, string> = {};
    for (const [name, state] of this.#tools) if (state.pin !== undefined) pins[name] = state.pin;
    return Object.freeze(pins);
  }

  tools(): readonly McpGatewayTool[] {
    return [...this.#tools.values()].map((state) =>
      Object.freeze({
        name: state.name,
        pin: state.pin,
        permitted: state.permitted,
        unchanged: servedDefinition(state) !== undefined,
      }),
    );
  }

  async approveTool(name: string): Promise<boolean> {
    await this.#refreshTools();
    const state = this.#tools.get(name);
    if (state === undefined || state.current === undefined) return false;
    state.pin = state.current.pin;
    return true;
  }

  async start(): Promise<void> {
    const client = this.#client;
    client.onclose = () => void this.#shutdown('downstream');
    try {
      const down = new InterceptedTransport(
        this.#options.transportDown,
        (message) => {
          if (
            (message as { method?: unknown }).method === LIST_CHANGED &&
            client.fallbackNotificationHandler !== undefined &&
            isJSONRPCNotification(message)
          ) {
            this.#listChanges += 1;
          }
          return this.#downstream.take(message);
        },
        () => this.#downstream.close(),
      );
      await client.connect(down, { timeout: this.#requestTimeoutMs });
      await this.#refreshTools();
    } catch (error) {
      await this.#shutdown('downstream');
      throw new InternalError(
        `createMcpGateway: cannot start the downstream MCP server: ${messageOf(error)}`,
        { field: 'transportDown' },
        { cause: error },
      );
    }
    const approved = this.#options.approvedTools;
    for (const state of this.#tools.values()) {
      state.pin = approved === undefined ? state.current?.pin : approved[state.name];
    }
    try {
      // One APE session per client connection, started before the client is served.
      await this.#sessions.session();
    } catch (error) {
      await this.#shutdown('closed');
      throw new InternalError(
        `createMcpGateway: cannot start the APE session: ${messageOf(error)}`,
        { field: 'audit' },
        { cause: error },
      );
    }
    const instructions = client.getInstructions();
    const server = new Server(client.getServerVersion() ?? { name: 'mcp-server', version: '0.0.0' }, {
      capabilities: this.#upstreamCapabilities(client.getServerCapabilities() ?? {}),
      ...(instructions === undefined ? {} : { instructions }),
    });
    this.#server = server;
    server.setRequestHandler(ListToolsRequestSchema, async (_request, extra) => {
      this.#releasedBySdk(extra.requestId);
      return this.#listTools();
    });
    // Calls with a progress token or a task (and any the direct path does not take) come here.
    server.setRequestHandler(CallToolRequestSchema, (request, extra) => {
      this.#releasedBySdk(extra.requestId);
      return this.#enqueue(() =>
        this.#callTool(request.params, extra.signal, (params) =>
          this.#forwardThroughClient(params, request.params._meta?.progressToken, extra),
        ),
      );
    });
    server.fallbackRequestHandler = async (request, extra) => {
      this.#releasedBySdk(extra.requestId);
      if (!this.#forwarded.has(request.method)) {
        await this.#refuseMethod(request.method, 'request');
        throw new McpError(ErrorCode.MethodNotFound, 'The APE gateway does not forward this method.');
      }
      const result = await client.request({ method: request.method, params: request.params }, ResultSchema, {
        signal: extra.signal,
        timeout: this.#requestTimeoutMs,
      });
      return labelResult(result);
    };
    server.fallbackNotificationHandler = async (notification) => {
      // A notification is never answered: a refused one (a `tools/call` without an id included) is
      // dropped and audited, never forwarded.
      if (!this.#forwarded.has(notification.method)) {
        await this.#refuseMethod(notification.method, 'notification');
        return;
      }
      await client.notification(notification as Notification).catch(() => undefined);
    };
    client.fallbackNotificationHandler = async (notification) => {
      if (notification.method === LIST_CHANGED) {
        this.#listChanges = Math.max(0, this.#listChanges - 1);
        await this.#enqueue(() => this.#refreshTools()).catch(() => undefined);
      }
      await server.notification(notification as Notification).catch(() => undefined);
    };
    client.fallbackRequestHandler = async (request, extra) =>
      server.request({ method: request.method, params: request.params }, ResultSchema, {
        signal: extra.signal,
        timeout: this.#requestTimeoutMs,
      });
    server.onclose = () => void this.#shutdown('upstream');
    if (this.#closing !== undefined)
      throw new InternalError('createMcpGateway: the downstream server closed during start.');
    await server.connect(
      new InterceptedTransport(
        this.#options.transportUp,
        (message) => this.#takeUpstream(message),
        // The client is gone: its calls are cancelled, as the SDK server aborts its handlers.
        () => {
          for (const call of this.#directCalls.values()) call.abort(undefined);
          this.#heldBySdk.clear();
        },
        // An answer the SDK sends without a handler of the gateway's (a ping, a request its schema refuses).
        (message) => {
          if (this.#heldBySdk.size > 0 && ('result' in message || 'error' in message) && 'id' in message) {
            if (message.id !== undefined) this.#releasedBySdk(message.id);
          }
        },
      ),
    );
  }

  /**
   * Answers the client's `tools/call` without the SDK server's request handling when
   * {@link directToolCall} accepts it: the same call (`#callTool`), the same response. Also sees
   * the client's cancellations of such calls (which the SDK server sees too).
   */
  #takeUpstream(message: JSONRPCMessage): boolean {
    const cancelled = cancellationOf(message);
    if (cancelled !== undefined) {
      this.#directCalls.get(cancelled.id)?.abort(cancelled.reason);
      return false;
    }
    if (this.#closing !== undefined) return false;
    const params =
      this.#heldBySdk.size === 0 && this.#listChanges === 0 ? directToolCall(message) : undefined;
    if (params === undefined) {
      if ('method' in message && 'id' in message && isJSONRPCRequest(message)) {
        this.#heldBySdk.set(message.id, (this.#heldBySdk.get(message.id) ?? 0) + 1);
      }
      return false;
    }
    const id = (message as { id: RequestId }).id;
    const call = new DirectCall();
    this.#directCalls.set(id, call);
    const transport = this.#options.transportUp;
    this.#enqueue(() => this.#callTool(params, call, (forwarded) => this.#downstream.call(forwarded, call)))
      // The SDK server checks a handler's result with `CallToolResultSchema` before sending it; the
      // result here is a checked server result with the gateway's label, or a refusal, which the
      // schema always accepts, so it is sent as it is.
      .then(
        (result) => ({ result }),
        (error: unknown) => ({ error }),
      )
      .then((outcome) => {
        // A cancelled call is not answered (as the SDK server does).
        if (!call.aborted) return transport.send(responseTo(id, outcome));
        return undefined;
      })
      .catch(() => undefined)
      .finally(() => {
        if (this.#directCalls.get(id) === call) this.#directCalls.delete(id);
      });
    return true;
  }

  /** The SDK has started the handler of the request `id` it was left, or answered it. */
  #releasedBySdk(id: RequestId): void {
    const held = this.#heldBySdk.get(id);
    if (held === undefined) return;
    if (held > 1) this.#heldBySdk.set(id, held - 1);
    else this.#heldBySdk.delete(id);
  }

  /** The SDK client's `tools/call`, with the server's progress relayed under the client's token. */
  #forwardThroughClient(
    params: ToolCallParams,
    progressToken: unknown,
    {
      signal,
      sendNotification,
    }: { signal: AbortSignal; sendNotification: (notification: Notification) => Promise<void> },
  ): Promise<CallToolResult> {
    return this.#client.request({ method: 'tools/call', params }, CallToolResultSchema, {
      signal,
      timeout: this.#requestTimeoutMs,
      ...(typeof progressToken === 'string' || typeof progressToken === 'number'
        ? {
            resetTimeoutOnProgress: true,
            onprogress: (progress) => {
              void sendNotification({
                method: 'notifications/progress',
                params: { ...progress, progressToken },
              }).catch(() => undefined);
            },
          }
        : {}),
    }) as Promise<CallToolResult>;
  }

  close(): Promise<void> {
    return this.#shutdown('closed');
  }

  #upstreamCapabilities(downstream: ServerCapabilities): ServerCapabilities {
    return {
      tools: { listChanged: true },
      ...(downstream.resources === undefined ? {} : { resources: downstream.resources }),
      ...(downstream.prompts === undefined ? {} : { prompts: downstream.prompts }),
      ...(downstream.logging === undefined ? {} : { logging: downstream.logging }),
      ...(downstream.completions === undefined ? {} : { completions: downstream.completions }),
    };
  }

  /** Calls run one at a time: the runtime executes one plan step at a time, in order. */
  #enqueue<T>(task: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(task, task);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  async #refreshTools(): Promise<void> {
    const seen = new Set<string>();
    let cursor: string | undefined;
    do {
      const page = await this.#client.request(
        { method: 'tools/list', params: cursor === undefined ? {} : { cursor } },
        ListToolsResultSchema,
        { timeout: this.#requestTimeoutMs },
      );
      for (const tool of page.tools) {
        seen.add(tool.name);
        const state = this.#tools.get(tool.name);
        if (state === undefined) {
          this.#tools.set(tool.name, {
            name: tool.name,
            current: pinTool(tool),
            pin: undefined,
            permitted: isActionId(tool.name) && this.#mayPermit(tool.name),
          });
        } else {
          state.current = pinTool(tool);
        }
      }
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    for (const [name, state] of this.#tools) if (!seen.has(name)) state.current = undefined;
  }

  #mayPermit(action: string): boolean {
    try {
      return this.#policy.mayPermit(this.tenant, action) === true;
    } catch {
      return false;
    }
  }

  async #listTools(): Promise<{ tools: Tool[] }> {
    await this.#enqueue(() => this.#refreshTools());
    const tools: Tool[] = [];
    for (const state of this.#tools.values()) {
      const definition = servedDefinition(state);
      if (state.permitted && definition !== undefined) tools.push(definition);
    }
    return { tools };
  }

  /**
   * One `tools/call`: refused with an `isError` result (audited), or run by the APE runtime with
   * `send` (the request to the server) as its tool. `signal` tells whether the client cancelled it.
   */
  async #callTool(
    params: ToolCallParams,
    signal: { readonly aborted: boolean },
    send: (params: ToolCallParams) => Promise<CallToolResult>,
  ): Promise<CallToolResult> {
    const name = params.name;
    const state = this.#tools.get(name);
    if (state === undefined || state.current === undefined) {
      return this.#refuseCall(name, {
        reason: 'the server does not offer this tool.',
        rules: [],
        code: 'UNKNOWN_TOOL',
      });
    }
    if (servedDefinition(state) === undefined) {
      return this.#refuseCall(name, {
        reason:
          state.pin === undefined
            ? 'the tool was not approved when the gateway started; the operator must approve it.'
            : "the tool's definition (title, description, schemas, annotations, _meta or icons) changed since it was approved; the operator must re-approve it.",
        rules: [],
        code: 'TOOL_CHANGED',
      });
    }
    if (!isActionId(name)) {
      return this.#refuseCall(name, {
        reason: 'the tool name is not a valid APE action id.',
        rules: [],
        code: 'ACTION_INVALID',
      });
    }
    const ended = this.#sessions.ended;
    if (ended !== undefined)
      return this.#refuseCall(name, { reason: ended, rules: [], code: 'SESSION_ENDED' });
    if (signal.aborted) throw new McpError(ErrorCode.RequestTimeout, 'The request was cancelled.');
    const args = params.arguments ?? {};
    // The call's own label: never raised to get a call accepted (the policy decides what it may do).
    const provenance = effectiveProvenance(params._meta, this.#defaultProvenance);
    const labelled = labelledArguments(args, params._meta, this.#defaultProvenance);
    if (typeof labelled === 'string') {
      return this.#refuseCall(name, { reason: labelled, rules: [], code: 'PROVENANCE' });
    }
    let runtime: AgentRuntime;
    try {
      runtime = await this.#sessions.session();
    } catch (error) {
      return this.#refuseCall(name, refusalOf(error));
    }
    const meta = forwardedMeta(params._meta);
    const forwarded: ToolCallParams = {
      name,
      arguments: args,
      ...(meta === undefined ? {} : { _meta: meta }),
    };
    const forward = (): Promise<CallToolResult> => send(forwarded);
    try {
      // Calls mode: one call, one step of the session's chain, the policy evaluated once.
      const result = await runtime.call(name, forward, { args: labelled, provenance });
      this.#approvedCalls++;
      return labelResult(result.value);
    } catch (error) {
      if (error instanceof McpError) throw error;
      return refusalResult(name, refusalOf(error));
    }
  }

  #escalationHandler(): EscalationHandler {
    const fallback = this.#options.escalation ?? createDenyAllEscalationHandler();
    const useElicitation = this.#options.elicitation !== false;
    return {
      requestApproval: async (request, signal) => {
        const server = this.#server;
        if (useElicitation && server?.getClientCapabilities()?.elicitation !== undefined) {
          return elicitApproval(server, request, signal, this.#requestTimeoutMs);
        }
        return fallback.requestApproval(request, signal);
      },
    };
  }

  /** A refused `tools/call`, audited before the client hears of it. */
  async #refuseCall(name: string, refusal: Refusal): Promise<CallToolResult> {
    await this.#recordRefusal({
      action: name,
      rules: [...refusal.rules],
      reason: refusal.reason,
      ...(refusal.code === undefined ? {} : { code: refusal.code }),
    });
    return refusalResult(name, refusal);
  }

  /** A client message outside the forward list: audited, then refused (request) or dropped (notification). */
  async #refuseMethod(method: string, kind: 'request' | 'notification'): Promise<void> {
    await this.#recordRefusal({
      method,
      kind,
      rules: [],
      reason: `the ${kind} "${method}" is not on the gateway's list of forwarded methods.`,
      code: 'METHOD_NOT_ALLOWED',
    });
  }

  /**
   * Appends a `decision.made` DENY written by the gateway itself (`source: "mcp-gateway"`), in the
   * current APE session when there is one. A failing sink does not let anything through: the
   * refusal stands either way.
   */
  async #recordRefusal(data: Readonly<Record<string, unknown>>): Promise<void> {
    await Promise.resolve(
      this.#audit.append({
        type: 'decision.made',
        tenant: this.tenant,
        session: this.#sessions.current?.sessionId ?? GATEWAY_SOURCE,
        time: this.#clock.now(),
        data: { source: GATEWAY_SOURCE, decision: 'DENY', ...data },
      }),
    ).catch(() => undefined);
  }

  #shutdown(reason: McpGatewayCloseReason): Promise<void> {
    this.#closing ??= (async () => {
      await this.#sessions.close(`the MCP gateway closed (${reason})`).catch(() => undefined);
      await this.#audit.flush().catch(() => undefined);
      await this.#client.close().catch(() => undefined);
      await this.#server?.close().catch(() => undefined);
      this.#resolveClosed(reason);
    })();
    return this.#closing;
  }
}

/**
 * The arguments the runtime judges: with the client's per-argument labels (`ape/argProvenance`)
 * wrapped in at their pointers, or the refusal's reason when they cannot be.
 */
function labelledArguments(
  args: Record<string, unknown>,
  meta: unknown,
  ceiling: ProvenanceLabel,
): Record<string, unknown> | string {
  const labels = declaredArgumentLabels(meta, ceiling);
  if (labels === undefined) return args;
  if (labels === 'malformed') {
    return `_meta["${ARG_PROVENANCE_META_KEY}"] must be an object of JSON pointers to provenance labels.`;
  }
  try {
    return labelAtPointers(args, labels, ['mcp:_meta']);
  } catch (error) {
    if (ProvenanceError.isInstance(error)) return `_meta["${ARG_PROVENANCE_META_KEY}"]: ${error.message}`;
    throw error;
  }
}

function labelResult<T extends { _meta?: Record<string, unknown> | undefined }>(result: T): T {
  return { ...result, _meta: { ...result._meta, [PROVENANCE_META_KEY]: 'EXTERNAL_UNTRUSTED' } };
}
