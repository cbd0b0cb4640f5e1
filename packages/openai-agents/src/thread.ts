import {
  type AgentRuntime,
  ConfigurationError,
  createDenyAllEscalationHandler,
  defineTool,
  type EscalationHandler,
  type EscalationRequest,
  type EscalationResult,
  type Intent,
  labelOf,
  type ProvenanceLabel,
  RuntimeStateError,
  type Tool as ApeTool,
  UnauthorizedActionError,
} from '@ape/core';
import {
  type AdapterThreadContext,
  adapterIntent,
  answerOfRecorded,
  checkHumanAnswer,
  checkToolToWrap,
  createSerialQueue,
  denialText,
  type HumanAnswer,
  type PendingApprovalView,
  hashOfInput,
  predictEscalation,
  refusalError,
  refusalOf,
  rememberPending,
  sameInputHash,
  startAdapterSession,
  type WrapToolOptions,
  type WrapToolsOptions,
} from '@ape/core/adapter';
import type { FunctionTool, RunContext, RunState, RunToolApprovalItem } from '@openai/agents';
import type { ResolvedOptions } from './options.js';
import { TaintTracker } from './provenance.js';

/** The approver recorded when the adapter itself refuses an approval that does not match its call. */
export const ADAPTER_APPROVER = 'ape-openai-agents';

export { MAX_PENDING_APPROVALS } from '@ape/core/adapter';

/** A human's answer to an escalated call: who answered (the approver recorded) and why. */
export interface ApprovalAnswer extends HumanAnswer {}

/** An escalation that waits for a human's answer ({@link ApeThread.approve} or {@link ApeThread.reject} answers it). */
export interface PendingApproval extends PendingApprovalView {
  /** The SDK's call id (`interruption.rawItem.callId`). */
  readonly callId: string;
}

export type { WrapToolOptions, WrapToolsOptions };

// biome-ignore lint/suspicious/noExplicitAny: the SDK's own tool type is generic over context and parameters.
type AnyFunctionTool = FunctionTool<any, any, any>;
// biome-ignore lint/suspicious/noExplicitAny: a run state of any agent.
type AnyRunState = RunState<any, any>;

/** One conversation (thread): one APE session at a time, in the lineage named by {@link lineage}. */
export interface ApeThread {
  /** The lineage id the host named the conversation with. */
  readonly lineage: string;
  /** The id of the current APE session (`undefined` before the first call). */
  readonly sessionId: string | undefined;
  /** True once untrusted tool output entered the conversation. */
  readonly tainted: boolean;
  /** Escalations waiting for a human's answer, oldest first. */
  pendingApprovals(): readonly PendingApproval[];
  /**
   * Wraps a function tool (made with `tool()`): every call goes through the APE gate, and a call the
   * policy escalates becomes an SDK interruption (`needsApproval`). The tool name is the APE action id.
   * @throws ConfigurationError (`CONFIG_INVALID`) for something that is not a function tool or a malformed
   *   output label; ActionError (`ACTION_INVALID`) for a name that is not an action id.
   */
  tool<TOOL extends AnyFunctionTool>(tool: TOOL, options?: WrapToolOptions): TOOL;
  /** Wraps every tool of a list with {@link tool}. Same errors. */
  tools<TOOLS extends readonly AnyFunctionTool[]>(tools: TOOLS, options?: WrapToolsOptions): TOOLS;
  /**
   * Approves an escalated call as `answer.approver`: records the answer with APE, bound to the call
   * (its call id, action and arguments), then calls `state.approve(item)`. Resume with `run(agent, state)`.
   * An approval written into a serialised state by anyone else approves nothing: the gate asks APE.
   * @throws UnauthorizedActionError (`UNAUTHORIZED_ACTION`) when no pending escalation matches the item.
   */
  approve(state: AnyRunState, item: RunToolApprovalItem, answer: ApprovalAnswer): void;
  /**
   * Rejects an escalated call as `answer.approver`: the gate records the denial (which ends the APE
   * session; the next call starts a new one in the same lineage), then `state.reject(item)` tells the
   * model. Same errors as {@link approve}.
   */
  reject(state: AnyRunState, item: RunToolApprovalItem, answer: ApprovalAnswer): Promise<void>;
  /** Ends the current session (tokens revoked, audit flushed) and forgets pending escalations. Idempotent. */
  end(reason?: string): Promise<void>;
}

interface Pending {
  readonly callId: string;
  readonly action: string;
  readonly argsHash: string;
  readonly plain: Readonly<Record<string, unknown>>;
  readonly args: Readonly<Record<string, unknown>>;
  readonly declared: ProvenanceLabel;
  readonly provenance: ProvenanceLabel;
  readonly reason: string;
  readonly rules: readonly string[];
  answer: (ApprovalAnswer & { readonly approved: boolean }) | undefined;
}

interface CurrentCall {
  readonly callId: string;
  /** The SDK tool, its run context and call details; absent when the gate only re-decides a rejected call. */
  readonly run:
    | { readonly original: AnyFunctionTool; readonly context: RunContext<unknown>; readonly details: unknown }
    | undefined;
}

interface WrappedTool {
  readonly outputLabel: ProvenanceLabel;
  readonly gated: ApeTool;
}

/** @internal Shared by every thread of one adapter. */
export type ThreadContext = AdapterThreadContext<ThreadImplementation>;

/** @internal */
export class ThreadImplementation implements ApeThread {
  readonly lineage: string;
  readonly #context: ThreadContext;
  readonly #options: ResolvedOptions;
  readonly #tools = new Map<string, WrappedTool>();
  readonly #taint: TaintTracker;
  readonly #pending = new Map<string, Pending>();
  readonly #fallback: EscalationHandler;
  readonly #handler: EscalationHandler;
  #runtime: AgentRuntime | undefined;
  #starting: Promise<AgentRuntime> | undefined;
  #lastAction: string | undefined;
  #current: CurrentCall | undefined;
  readonly #queue = createSerialQueue();
  #ended = false;

  constructor(lineage: string, context: ThreadContext) {
    this.lineage = lineage;
    this.#context = context;
    this.#options = context.options;
    this.#taint = new TaintTracker(context.options.dataflowMinLength);
    this.#fallback = context.options.escalation ?? createDenyAllEscalationHandler();
    this.#handler = { requestApproval: (request, signal) => this.#answer(request, signal) };
  }

  get sessionId(): string | undefined {
    return this.#runtime?.sessionId;
  }

  get tainted(): boolean {
    return this.#taint.tainted;
  }

  pendingApprovals(): readonly PendingApproval[] {
    return [...this.#pending.values()].map((pending) =>
      Object.freeze({
        callId: pending.callId,
        action: pending.action,
        args: pending.plain,
        provenance: pending.provenance,
        reason: pending.reason,
        rules: pending.rules,
        answered: pending.answer !== undefined,
      }),
    );
  }

  tools<TOOLS extends readonly AnyFunctionTool[]>(tools: TOOLS, options: WrapToolsOptions = {}): TOOLS {
    if (!Array.isArray(tools)) {
      throw new ConfigurationError('tools: expected an array of function tools.', { field: 'tools' });
    }
    return tools.map((tool: AnyFunctionTool) => {
      const outputLabel = options.outputLabels?.[tool?.name];
      return this.tool(tool, outputLabel === undefined ? {} : { outputLabel });
    }) as unknown as TOOLS;
  }

  tool<TOOL extends AnyFunctionTool>(tool: TOOL, options: WrapToolOptions = {}): TOOL {
    if (
      typeof tool !== 'object' ||
      tool === null ||
      tool.type !== 'function' ||
      typeof tool.invoke !== 'function'
    ) {
      throw new ConfigurationError(
        'tool: APE can only gate a function tool that runs here (made with tool() from @openai/agents).',
        { field: 'tool' },
      );
    }
    const name = tool.name;
    const outputLabel = checkToolToWrap(name, options.outputLabel);
    const gated = defineTool({ id: name, outputLabel, run: (args) => this.#runCurrent(args) });
    this.#tools.set(name, { outputLabel, gated });
    const original = tool;
    const own = tool.needsApproval;
    return {
      ...tool,
      needsApproval: (context: RunContext<unknown>, input: unknown, callId?: string) =>
        this.#needsApproval(name, input, callId, () => own(context, input, callId)),
      invoke: (context: RunContext<unknown>, input: string, details?: { toolCall?: { callId?: string } }) =>
        this.#invoke(name, original, gated, context, input, details),
    } as TOOL;
  }

  approve(state: AnyRunState, item: RunToolApprovalItem, answer: ApprovalAnswer): void {
    const pending = this.#matching(item, answer);
    pending.answer = { ...answer, approved: true };
    state.approve(item);
  }

  async reject(state: AnyRunState, item: RunToolApprovalItem, answer: ApprovalAnswer): Promise<void> {
    const pending = this.#matching(item, answer);
    pending.answer = { ...answer, approved: false };
    // The gate decides the call again and records the human's denial (and its approver).
    await this.#enqueue(async () => {
      try {
        const runtime = await this.#session();
        this.#current = { callId: pending.callId, run: undefined };
        await runtime.authorizeCall(pending.action, { args: pending.args, provenance: pending.declared });
      } catch {
        // A denial is the expected outcome; any other refusal denies the call all the same.
      } finally {
        this.#current = undefined;
        this.#pending.delete(pending.callId);
      }
    });
    const why = answer.reason === undefined ? '' : `: ${answer.reason}`;
    state.reject(item, {
      message: `APE denied ${pending.action}: ${answer.approver} refused the call${why}`,
    });
  }

  async end(reason = 'the host ended the conversation'): Promise<void> {
    if (this.#ended) return;
    this.#ended = true;
    this.#pending.clear();
    this.#context.forget(this);
    await this.#enqueue(async () => {
      const runtime = this.#runtime ?? (await this.#starting?.catch(() => undefined));
      if (runtime !== undefined) await runtime.terminate(reason);
    });
  }

  #matching(item: RunToolApprovalItem, answer: ApprovalAnswer): Pending {
    checkHumanAnswer(answer);
    const raw = item?.rawItem as { type?: unknown; callId?: unknown; name?: unknown; arguments?: unknown };
    const callId = raw?.type === 'function_call' && typeof raw.callId === 'string' ? raw.callId : undefined;
    const pending = callId === undefined ? undefined : this.#pending.get(callId);
    if (pending === undefined) {
      throw new UnauthorizedActionError(
        `No APE escalation is waiting for tool call ${JSON.stringify(callId ?? null)}: answer only interruptions this thread's tools raised, before the run is resumed.`,
        { field: 'callId' },
      );
    }
    if (raw.name !== pending.action) {
      throw new UnauthorizedActionError(
        `The interruption names "${String(raw.name)}" but the escalated call is "${pending.action}"; it approves nothing.`,
        { field: 'name' },
      );
    }
    if (!sameInputHash(pending.argsHash, hashOfInput(parseArguments(raw.arguments)))) {
      throw new UnauthorizedActionError(
        `The interruption's arguments differ from the escalated call's arguments (${pending.action}); it approves nothing.`,
        { field: 'arguments' },
      );
    }
    if (pending.answer !== undefined) {
      throw new UnauthorizedActionError(`Tool call ${pending.callId} was already answered.`, {
        field: 'callId',
        reason: 'answered',
      });
    }
    return pending;
  }

  #enqueue<T>(task: () => Promise<T>): Promise<T> {
    return this.#queue.enqueue(task);
  }

  /** The current session; a new one in the same lineage after an escalation denial ended the last. */
  #session(): Promise<AgentRuntime> {
    if (this.#ended) {
      return Promise.reject(
        new RuntimeStateError(`The conversation "${this.lineage}" was ended; start a new thread.`),
      );
    }
    const runtime = this.#runtime;
    if (runtime !== undefined && runtime.state !== 'TERMINATED') return Promise.resolve(runtime);
    this.#runtime = undefined;
    this.#starting ??= this.#start().finally(() => {
      this.#starting = undefined;
    });
    return this.#starting;
  }

  async #start(): Promise<AgentRuntime> {
    const runtime = await startAdapterSession({
      options: this.#options,
      usage: this.#context.usage,
      audit: this.#context.audit,
      lineage: this.lineage,
      // Every session of the conversation counts session-scoped limits under one id, so no new
      // session (after a denied escalation, a resumed run, another process) resets a budget.
      continuesSession: `conversation:${this.lineage}`,
      outputLabelOf: (action) => this.#tools.get(action)?.outputLabel ?? 'EXTERNAL_UNTRUSTED',
      escalation: this.#handler,
      intent: this.#intent(),
    });
    this.#runtime = runtime;
    return runtime;
  }

  #intent(): Intent {
    return adapterIntent(
      this.#options.intent,
      this.#tools.keys(),
      `OpenAI Agents conversation ${this.lineage}`,
    );
  }

  async #needsApproval(
    name: string,
    input: unknown,
    callId: string | undefined,
    own: () => Promise<boolean>,
  ): Promise<boolean> {
    if (callId === undefined) return own();
    const pending = this.#pending.get(callId);
    // Asked again for a call already escalated: only the exact escalated call qualifies.
    if (pending !== undefined)
      return pending.action === name && sameInputHash(pending.argsHash, hashOfInput(input));
    if (this.#escalation(name, input, callId)) return true;
    return own();
  }

  /**
   * The adapter's pre-check: would the gate escalate this call? Only a prediction (the gate decides
   * when the call runs, and an escalation it did not predict goes to the fallback handler); any
   * failure predicts no escalation, which leaves the decision to the gate.
   */
  #escalation(name: string, input: unknown, callId: string): boolean {
    const options = this.#options;
    if (options.mode !== undefined && options.mode !== 'enforce') return false;
    try {
      const intent = this.#intent();
      if (intent.forbidden_actions.includes(name) || !intent.allowed_actions.includes(name)) return false;
      const { args, provenance: declared } = this.#taint.label(
        options.provenance,
        input,
        options.userProvenance,
      );
      const provenance = labelOf(args, declared);
      const plain = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
      const decision = predictEscalation(options.policy, {
        tenant: options.tenant,
        action: name,
        args: plain,
        provenance,
        sessionId: this.#runtime?.sessionId ?? 'pending',
        previousAction: this.#lastAction,
        intent,
      });
      if (decision === undefined) return false;
      const argsHash = hashOfInput(plain);
      if (argsHash === undefined) return false;
      rememberPending(this.#pending, callId, {
        callId,
        action: name,
        argsHash,
        plain,
        args,
        declared,
        provenance,
        reason: decision.reason,
        rules: decision.rules,
        answer: undefined,
      });
      return true;
    } catch {
      return false;
    }
  }

  #invoke(
    name: string,
    original: AnyFunctionTool,
    gated: ApeTool,
    context: RunContext<unknown>,
    input: string,
    details: { toolCall?: { callId?: string } } | undefined,
  ): Promise<unknown> {
    const callId = typeof details?.toolCall?.callId === 'string' ? details.toolCall.callId : undefined;
    return this.#enqueue(async () => {
      const current: CurrentCall = {
        callId: callId ?? `call:${name}`,
        run: { original, context, details },
      };
      try {
        const parsed = parseArguments(input);
        if (parsed === undefined) {
          throw new ConfigurationError(`${name}: the model's arguments are not a JSON object.`, {
            field: 'arguments',
          });
        }
        const { args, provenance } = this.#taint.label(
          this.#options.provenance,
          parsed,
          this.#options.userProvenance,
        );
        const runtime = await this.#session();
        this.#current = current;
        const result = await runtime.call(name, gated, { args, provenance });
        this.#lastAction = name;
        this.#taint.recordResult(current.callId, name, result.label, result.value);
        return result.value;
      } catch (error) {
        return this.#refuse(current.callId, name, error);
      } finally {
        this.#current = undefined;
        if (callId !== undefined) this.#pending.delete(callId);
      }
    });
  }

  #refuse(callId: string, name: string, error: unknown): string {
    const refusal = refusalOf(name, error);
    const text = denialText(refusal);
    this.#taint.recordResult(callId, name, 'SYSTEM_TRUSTED', text);
    if (this.#options.onDeny === 'throw') throw refusalError(name, error, text);
    return text;
  }

  /** The gate's tool: runs the SDK tool of the call in flight with the gate's frozen plain arguments. */
  async #runCurrent(args: Readonly<Record<string, unknown>>): Promise<unknown> {
    const current = this.#current;
    if (current?.run === undefined) throw new RuntimeStateError('No OpenAI Agents tool call is in flight.');
    const { original, context, details } = current.run;
    return original.invoke(context, JSON.stringify(args), details as never);
  }

  /** The runtime's escalation handler: the human's answer recorded for the call in flight, if it is this exact call. */
  #answer(request: EscalationRequest, signal: AbortSignal): Promise<EscalationResult> {
    const current = this.#current;
    const pending = current === undefined ? undefined : this.#pending.get(current.callId);
    if (pending === undefined) return this.#fallback.requestApproval(request, signal);
    this.#pending.delete(pending.callId);
    return answerOfRecorded(
      ADAPTER_APPROVER,
      pending,
      request,
      'no answer was recorded with APE for this call (an approval only in the run state approves nothing; answer with thread.approve or thread.reject).',
    );
  }
}

/**
 * The model's arguments of a function call (a JSON text), as a plain object; `undefined` for text
 * that is not a JSON object. The SDK parses the same text for its own checks; this is the adapter's
 * only parse of model output, and what it yields is then canonicalised and hashed by the gate.
 */
function parseArguments(text: unknown): Record<string, unknown> | undefined {
  if (typeof text !== 'string') return undefined;
  try {
    const value: unknown = text.trim() === '' ? {} : JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
