import {
  type AuditSink,
  ConfigurationError,
  createInMemoryAuditSink,
  createInMemoryUsageStore,
  type ProvenanceLabel,
  type UsageStore,
} from '@ape/core';
import {
  denialText,
  isLineageId,
  refusalError,
  refusalOf,
  ToolLabels,
  type WrapToolOptions,
} from '@ape/core/adapter';
import { ToolMessage } from '@langchain/core/messages';
import { type StructuredToolInterface, tool as defineLangChainTool } from '@langchain/core/tools';
import { getCurrentTaskInput } from '@langchain/langgraph';
import { createMiddleware } from 'langchain';
import { type ApeLangChainOptions, resolveOptions } from './options.js';
import { Thread, type ThreadContext } from './thread.js';

/** A tool as the adapter needs to know it: its name (the APE action id). */
export interface NamedTool {
  readonly name: string;
}

/** Options of {@link ApeLangChain.middleware}. */
export interface ApeMiddlewareOptions {
  /**
   * The agent's tools (or their names). Their names form the default intent's allowed actions;
   * give them unless `intent.allowed_actions` is set.
   */
  readonly tools?: readonly (NamedTool | string)[];
  /** The label of each tool's output, by tool name; default `EXTERNAL_UNTRUSTED`. */
  readonly outputLabels?: Readonly<Record<string, ProvenanceLabel>>;
}

/** Options of {@link ApeLangChain.wrapTool}: the tool's `outputLabel`. */
export type { WrapToolOptions };

/** The middleware {@link ApeLangChain.middleware} returns: pass it to `createAgent({ middleware: [...] })`. */
export type ApeMiddleware = ReturnType<typeof createMiddleware>;

/** APE for LangChain.js. Create with {@link createApeLangChain}. */
export interface ApeLangChain {
  readonly tenant: string;
  /** The audit sink every session writes to (the one given, or the adapter's in-memory sink). */
  readonly audit: AuditSink;
  /** The usage store every session counts in (the one given, or the adapter's in-memory store). */
  readonly usage: UsageStore;
  /**
   * An agent middleware (`wrapToolCall`) for `createAgent`: every tool call goes through the APE
   * gate; an escalated call interrupts the graph (needs a checkpointer).
   * @throws ConfigurationError (`CONFIG_INVALID`) for a malformed output label; ActionError (`ACTION_INVALID`) for a tool name that is not an action id.
   */
  middleware(options?: ApeMiddlewareOptions): ApeMiddleware;
  /**
   * A LangGraph tool that runs `tool` only through the APE gate, for graphs that call tools
   * without `createAgent` (e.g. `ToolNode`). Same errors as {@link middleware}.
   */
  wrapTool<TOOL extends StructuredToolInterface>(
    tool: TOOL,
    options?: WrapToolOptions,
  ): StructuredToolInterface;
  /** The APE session id of a thread (`undefined` before its first call). */
  sessionOf(lineage: string): string | undefined;
  /** True once untrusted tool output entered the thread. */
  isTainted(lineage: string): boolean;
  /** Ends the APE session of one thread; its next call starts a new session in the same lineage. */
  endThread(lineage: string, reason?: string): Promise<void>;
  /** Ends every thread's session. */
  close(): Promise<void>;
}

/**
 * Puts APE between a LangChain agent and its tools: `createAgent({ middleware: [ape.middleware({ tools })] })`
 * (or `ape.wrapTool(tool)` in a LangGraph graph). Each LangGraph thread (`configurable.thread_id`)
 * is one APE lineage; every call goes through the gate in calls mode (intent, policy with the
 * call's provenance, escalation through `interrupt` and `Command({ resume })`, a single-use
 * token, the audit log). See docs/langchain.md.
 * @throws ConfigurationError (`CONFIG_INVALID`) for malformed options (`details.field`).
 */
export function createApeLangChain(options: ApeLangChainOptions): ApeLangChain {
  const resolved = resolveOptions(options);
  const lineageOf = resolved.lineage ?? threadIdOf;
  const audit = resolved.audit ?? createInMemoryAuditSink();
  const usage = resolved.usage ?? createInMemoryUsageStore();
  const tools = new ToolLabels();
  const context: ThreadContext = { options: resolved, usage, audit, tools };
  const threads = new Map<string, Thread>();

  const threadOf = (configurable: Readonly<Record<string, unknown>> | undefined): Thread => {
    let lineage: unknown;
    try {
      lineage = lineageOf(configurable);
    } catch (error) {
      throw new ConfigurationError(
        'The `lineage` function threw; the call is refused.',
        { field: 'lineage' },
        { cause: error },
      );
    }
    if (!isLineageId(lineage)) {
      throw new ConfigurationError(
        'No thread for this call: run the agent with a checkpointer and `configurable.thread_id` (1 to 256 characters), or give `lineage`.',
        { field: 'thread_id' },
      );
    }
    let thread = threads.get(lineage);
    if (thread === undefined) {
      thread = new Thread(lineage, context);
      threads.set(lineage, thread);
    }
    return thread;
  };

  const refuseUnthreaded = (name: string, error: unknown): string => {
    const text = denialText(refusalOf(name, error));
    if (resolved.onDeny === 'throw') throw refusalError(name, error, text);
    return text;
  };

  return Object.freeze({
    tenant: resolved.tenant,
    audit,
    usage,
    middleware(middlewareOptions: ApeMiddlewareOptions = {}): ApeMiddleware {
      for (const entry of middlewareOptions.tools ?? []) {
        const name = typeof entry === 'string' ? entry : entry?.name;
        if (typeof name !== 'string') {
          throw new ConfigurationError('middleware: `tools` must be tools or tool names.', {
            field: 'tools',
          });
        }
        tools.register(name, middlewareOptions.outputLabels?.[name]);
      }
      return createMiddleware({
        name: 'ApeMiddleware',
        wrapToolCall: async (request, handler) => {
          const call = request.toolCall;
          const toolCallId = call.id ?? '';
          let thread: Thread;
          try {
            thread = threadOf(request.runtime?.configurable);
          } catch (error) {
            return refusalMessage(refuseUnthreaded(call.name, error), toolCallId, call.name);
          }
          const outcome = await thread.gate({
            toolCallId,
            name: call.name,
            input: call.args,
            messages: request.state?.messages,
            // Not `async`: the handler's own promise is the tool's result (one promise fewer per call).
            run: (args) => Promise.resolve(handler({ ...request, toolCall: { ...call, args: { ...args } } })),
          });
          if (outcome.ran) return outcome.value as Awaited<ReturnType<typeof handler>>;
          return refusalMessage(outcome.text, toolCallId, call.name);
        },
      });
    },
    wrapTool<TOOL extends StructuredToolInterface>(
      original: TOOL,
      wrapOptions: WrapToolOptions = {},
    ): StructuredToolInterface {
      if (typeof original !== 'object' || original === null || typeof original.invoke !== 'function') {
        throw new ConfigurationError('wrapTool: expected a LangChain tool (with `name` and `invoke`).', {
          field: 'tool',
        });
      }
      tools.register(original.name, wrapOptions.outputLabel);
      const name = original.name;
      return defineLangChainTool(
        async (
          input: unknown,
          config?: { configurable?: Record<string, unknown>; toolCall?: { id?: string } },
        ) => {
          let thread: Thread;
          try {
            thread = threadOf(config?.configurable);
          } catch (error) {
            return refuseUnthreaded(name, error);
          }
          const { toolCall, ...rest } = config ?? {};
          const outcome = await thread.gate({
            toolCallId: toolCall?.id ?? `${name}:${crypto.randomUUID()}`,
            name,
            input,
            messages: messagesOfTask(),
            run: (args) => original.invoke({ ...args }, rest),
          });
          return outcome.ran ? outcome.value : outcome.text;
        },
        { name, description: original.description, schema: original.schema as never },
      ) as unknown as StructuredToolInterface;
    },
    sessionOf(lineage: string): string | undefined {
      return threads.get(lineage)?.sessionId;
    },
    isTainted(lineage: string): boolean {
      return threads.get(lineage)?.tainted ?? false;
    },
    async endThread(lineage: string, reason = 'the host ended the thread'): Promise<void> {
      await threads.get(lineage)?.end(reason);
    },
    async close(): Promise<void> {
      await Promise.all([...threads.values()].map((thread) => thread.end('the adapter closed')));
    },
  });
}

/** The tool message a refused call answers the model with. */
function refusalMessage(text: string, toolCallId: string, name: string): ToolMessage {
  return new ToolMessage({ content: text, tool_call_id: toolCallId, name, status: 'error' });
}

/** The default lineage: LangGraph's `configurable.thread_id`. */
function threadIdOf(configurable: Readonly<Record<string, unknown>> | undefined): string | undefined {
  const id = configurable?.['thread_id'];
  return typeof id === 'string' ? id : undefined;
}

/** The messages of the graph state the running tool task was given, when there are any. */
function messagesOfTask(): unknown {
  try {
    const input = getCurrentTaskInput<{ messages?: unknown }>();
    return typeof input === 'object' && input !== null ? input.messages : undefined;
  } catch {
    return undefined;
  }
}
