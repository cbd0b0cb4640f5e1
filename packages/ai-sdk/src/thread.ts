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
  messageOf,
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
  hashOfInput,
  predictEscalation,
  refusalError,
  refusalOf,
  rememberPending,
  sameInputHash,
  startAdapterSession,
} from '@ape/core/adapter';
import type { Tool, ToolApprovalResponse, ToolExecutionOptions, ToolSet } from 'ai';
import {
  ADAPTER_APPROVER,
  type ApeThread,
  type ApprovalAnswer,
  type ApprovalRequestLike,
  type PendingApproval,
  type WrapToolOptions,
  type WrapToolsOptions,
} from './thread-api.js';
import type { ResolvedOptions } from './options.js';
import { TaintTracker } from './provenance.js';

interface Pending {
  readonly toolCallId: string;
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
  readonly toolCallId: string;
  /** The SDK tool and its call options; absent when the gate only re-decides a denied call. */
  readonly run: { readonly original: Tool; readonly options: ToolExecutionOptions } | undefined;
  threw: { readonly error: unknown } | undefined;
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
  readonly #trusted = new Set<string>();
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
    this.#taint = new TaintTracker(context.options.dataflowMinLength, this.#trusted);
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
        toolCallId: pending.toolCallId,
        action: pending.action,
        args: pending.plain,
        provenance: pending.provenance,
        reason: pending.reason,
        rules: pending.rules,
        answered: pending.answer !== undefined,
      }),
    );
  }

  tools<TOOLS extends ToolSet>(tools: TOOLS, options: WrapToolsOptions = {}): TOOLS {
    if (typeof tools !== 'object' || tools === null) {
      throw new ConfigurationError('tools: expected an AI SDK tool set (an object of tools).', {
        field: 'tools',
      });
    }
    const wrapped: Record<string, Tool> = {};
    for (const [name, tool] of Object.entries(tools)) {
      const outputLabel = options.outputLabels?.[name];
      wrapped[name] = this.tool(name, tool as Tool, outputLabel === undefined ? {} : { outputLabel });
    }
    return wrapped as TOOLS;
  }

  tool<TOOL extends Tool>(name: string, tool: TOOL, options: WrapToolOptions = {}): TOOL {
    if (typeof tool !== 'object' || tool === null || typeof tool.execute !== 'function') {
      throw new ConfigurationError(
        `tools.${name}: APE can only gate a tool that runs here; give it an \`execute\` function (client-side and provider-executed tools cannot be wrapped).`,
        { field: `tools.${name}.execute` },
      );
    }
    const outputLabel = checkToolToWrap(name, options.outputLabel);
    const gated = defineTool({ id: name, outputLabel, run: (args) => this.#runCurrent(args) });
    this.#tools.set(name, { outputLabel, gated });
    if (outputLabel === 'EXTERNAL_UNTRUSTED') this.#trusted.delete(name);
    else this.#trusted.add(name);
    const original = tool;
    const ownApproval = tool.needsApproval;
    return {
      ...tool,
      needsApproval: (input: unknown, call: { toolCallId: string; messages: unknown }) =>
        this.#needsApproval(name, input, call.toolCallId, call.messages, ownApproval, call),
      execute: (input: unknown, call: ToolExecutionOptions) =>
        this.#execute(name, original, gated, input, call),
    } as TOOL;
  }

  approve(request: ApprovalRequestLike, answer: ApprovalAnswer): ToolApprovalResponse {
    const pending = this.#matching(request, answer);
    pending.answer = { ...answer, approved: true };
    return {
      type: 'tool-approval-response',
      approvalId: request.approvalId,
      approved: true,
      ...(answer.reason === undefined ? {} : { reason: answer.reason }),
    };
  }

  async deny(request: ApprovalRequestLike, answer: ApprovalAnswer): Promise<ToolApprovalResponse> {
    const pending = this.#matching(request, answer);
    pending.answer = { ...answer, approved: false };
    // The gate decides the call again and records the human's denial (and its approver).
    await this.#enqueue(async () => {
      const current: CurrentCall = { toolCallId: pending.toolCallId, run: undefined, threw: undefined };
      try {
        const runtime = await this.#session();
        this.#current = current;
        await runtime.authorizeCall(pending.action, { args: pending.args, provenance: pending.declared });
      } catch {
        // A denial is the expected outcome; any other refusal denies the call all the same.
      } finally {
        this.#current = undefined;
        this.#pending.delete(pending.toolCallId);
      }
    });
    const why = answer.reason === undefined ? '' : `: ${answer.reason}`;
    return {
      type: 'tool-approval-response',
      approvalId: request.approvalId,
      approved: false,
      reason: `APE denied ${pending.action}: ${answer.approver} refused the call${why}`,
    };
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

  #matching(request: ApprovalRequestLike, answer: ApprovalAnswer): Pending {
    checkHumanAnswer(answer);
    const call = request?.toolCall;
    const pending = typeof call?.toolCallId === 'string' ? this.#pending.get(call.toolCallId) : undefined;
    if (pending === undefined) {
      throw new UnauthorizedActionError(
        `No APE escalation is waiting for tool call ${JSON.stringify(call?.toolCallId)}: answer only requests this thread's tools announced, before the call is retried.`,
        { field: 'toolCallId' },
      );
    }
    if (typeof request.approvalId !== 'string' || request.approvalId.length === 0) {
      throw new UnauthorizedActionError('The approval request has no approvalId.', { field: 'approvalId' });
    }
    if (call.toolName !== pending.action) {
      throw new UnauthorizedActionError(
        `The approval request names "${call.toolName}" but the escalated call is "${pending.action}"; it approves nothing.`,
        { field: 'toolName' },
      );
    }
    if (!sameInputHash(pending.argsHash, hashOfInput(call.input))) {
      throw new UnauthorizedActionError(
        `The approval request's input differs from the escalated call's arguments (${pending.action}); it approves nothing.`,
        { field: 'input' },
      );
    }
    if (pending.answer !== undefined) {
      throw new UnauthorizedActionError(`Tool call ${pending.toolCallId} was already answered.`, {
        field: 'toolCallId',
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
      // session (after a denied escalation, a reopened thread, another process) resets a budget.
      continuesSession: `conversation:${this.lineage}`,
      outputLabelOf: (action) => this.#tools.get(action)?.outputLabel ?? 'EXTERNAL_UNTRUSTED',
      escalation: this.#handler,
      intent: this.#intent(),
    });
    this.#runtime = runtime;
    return runtime;
  }

  #intent(): Intent {
    return adapterIntent(this.#options.intent, this.#tools.keys(), `AI SDK conversation ${this.lineage}`);
  }

  async #needsApproval(
    name: string,
    input: unknown,
    toolCallId: string,
    messages: unknown,
    own: Tool['needsApproval'],
    call: { toolCallId: string; messages: unknown },
  ): Promise<boolean> {
    const pending = this.#pending.get(toolCallId);
    // The SDK asks again before it runs an approved call: only the exact escalated call qualifies.
    if (pending !== undefined)
      return pending.action === name && sameInputHash(pending.argsHash, hashOfInput(input));
    if (this.#escalation(name, input, toolCallId, messages)) return true;
    if (typeof own === 'function')
      return (own as (input: unknown, call: unknown) => boolean | PromiseLike<boolean>)(input, call);
    return own === true;
  }

  /**
   * The adapter's pre-check: would the gate escalate this call? Only a prediction (the gate decides
   * when the call runs, and an escalation it did not predict goes to the fallback handler); any
   * failure predicts no escalation, which leaves the decision to the gate.
   */
  #escalation(name: string, input: unknown, toolCallId: string, messages: unknown): boolean {
    const options = this.#options;
    if (options.mode !== undefined && options.mode !== 'enforce') return false;
    try {
      const intent = this.#intent();
      if (intent.forbidden_actions.includes(name) || !intent.allowed_actions.includes(name)) return false;
      this.#taint.observe(messages);
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
      rememberPending(this.#pending, toolCallId, {
        toolCallId,
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

  #execute(
    name: string,
    original: Tool,
    gated: ApeTool,
    input: unknown,
    call: ToolExecutionOptions,
  ): Promise<unknown> {
    return this.#enqueue(async () => {
      const current: CurrentCall = {
        toolCallId: call.toolCallId,
        run: { original, options: call },
        threw: undefined,
      };
      try {
        this.#taint.observe(call.messages);
        const { args, provenance } = this.#taint.label(
          this.#options.provenance,
          input,
          this.#options.userProvenance,
        );
        const runtime = await this.#session();
        this.#current = current;
        const result = await runtime.call(name, gated, { args, provenance });
        this.#lastAction = name;
        this.#taint.recordResult(call.toolCallId, name, result.label, result.value);
        return result.value;
      } catch (error) {
        if (current.threw !== undefined && current.threw.error === error) {
          // The tool ran and failed: the SDK shows its error to the model, as untrusted as its output.
          this.#lastAction = name;
          const label = this.#tools.get(name)?.outputLabel ?? 'EXTERNAL_UNTRUSTED';
          this.#taint.recordResult(call.toolCallId, name, label, messageOf(error));
          throw error;
        }
        return this.#refuse(call.toolCallId, name, error);
      } finally {
        this.#current = undefined;
        this.#pending.delete(call.toolCallId);
      }
    });
  }

  #refuse(toolCallId: string, name: string, error: unknown): string {
    const refusal = refusalOf(name, error);
    const text = denialText(refusal);
    this.#taint.recordResult(toolCallId, name, 'SYSTEM_TRUSTED', text);
    if (this.#options.onDeny === 'throw') throw refusalError(name, error, text);
    return text;
  }

  /** The gate's tool: runs the SDK tool of the call in flight with the gate's frozen plain arguments. */
  async #runCurrent(args: Readonly<Record<string, unknown>>): Promise<unknown> {
    const current = this.#current;
    if (current?.run === undefined) throw new RuntimeStateError('No AI SDK tool call is in flight.');
    try {
      const output = await current.run.original.execute!(args, current.run.options);
      return isAsyncIterable(output) ? await lastOf(output) : output;
    } catch (error) {
      current.threw = { error };
      throw error;
    }
  }

  /** The runtime's escalation handler: the human's answer recorded for the call in flight, if it is this exact call. */
  #answer(request: EscalationRequest, signal: AbortSignal): Promise<EscalationResult> {
    const current = this.#current;
    const pending = current === undefined ? undefined : this.#pending.get(current.toolCallId);
    if (pending === undefined) return this.#fallback.requestApproval(request, signal);
    this.#pending.delete(pending.toolCallId);
    return answerOfRecorded(
      ADAPTER_APPROVER,
      pending,
      request,
      'no answer was recorded with APE for this call (answer with thread.approve or thread.deny).',
    );
  }
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function'
  );
}

/** A streaming tool's final output: APE labels what the model is given, so it waits for the last value. */
async function lastOf(values: AsyncIterable<unknown>): Promise<unknown> {
  let last: unknown;
  for await (const value of values) last = value;
  return last;
}
