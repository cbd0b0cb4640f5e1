import {
  type AgentRuntime,
  type AuditSink,
  createDenyAllEscalationHandler,
  defineTool,
  type EscalationHandler,
  type EscalationRequest,
  type EscalationResult,
  hashCanonical,
  type Intent,
  labelOf,
  messageOf,
  type ProvenanceLabel,
  RuntimeStateError,
  type UsageStore,
} from '@ape/core';
import {
  adapterIntent,
  createSerialQueue,
  denialText,
  escalationResultOf,
  predictEscalation,
  refusalError,
  refusalOf,
  startAdapterSession,
} from '@ape/core/adapter';
import { interrupt, isGraphBubbleUp } from '@langchain/langgraph';
import { type ApeEscalation, ESCALATION_INTERRUPT, mismatchOf } from './escalation.js';
import type { ResolvedOptions } from './options.js';
import { TaintTracker } from './provenance.js';

/** The approver recorded when the adapter itself refuses an answer that does not match its call. */
export const ADAPTER_APPROVER = 'ape-langchain';

/** One proposed tool call, as the middleware or the tool wrapper hands it to its thread. */
export interface ProposedCall {
  readonly toolCallId: string;
  readonly name: string;
  readonly input: unknown;
  /** The agent's messages, when the framework shows them (`state.messages`). */
  readonly messages: unknown;
  /** Runs the framework's tool with the gate's frozen plain arguments. */
  readonly run: (args: Readonly<Record<string, unknown>>) => Promise<unknown>;
}

/** @internal What became of a proposed call. */
export type Outcome =
  | { readonly ran: true; readonly value: unknown }
  | { readonly ran: false; readonly text: string };

/** @internal Shared by every thread of one adapter. */
export interface ThreadContext {
  readonly options: ResolvedOptions;
  readonly usage: UsageStore;
  readonly audit: AuditSink;
  /** The output label of each known tool, by name. */
  readonly outputLabels: ReadonlyMap<string, ProvenanceLabel>;
  readonly trusted: ReadonlySet<string>;
}

interface CurrentCall {
  readonly call: ProposedCall;
  readonly escalation: ApeEscalation | undefined;
  readonly answer: unknown;
  threw: { readonly error: unknown } | undefined;
}

/** @internal One conversation (LangGraph thread): one APE session at a time, in the lineage of its thread id. */
export class Thread {
  readonly lineage: string;
  readonly #context: ThreadContext;
  readonly #options: ResolvedOptions;
  readonly #taint: TaintTracker;
  readonly #fallback: EscalationHandler;
  readonly #handler: EscalationHandler;
  #runtime: AgentRuntime | undefined;
  #lastAction: string | undefined;
  #current: CurrentCall | undefined;
  readonly #queue = createSerialQueue();

  constructor(lineage: string, context: ThreadContext) {
    this.lineage = lineage;
    this.#context = context;
    this.#options = context.options;
    this.#taint = new TaintTracker(context.options.dataflowMinLength, context.trusted);
    this.#fallback = context.options.escalation ?? createDenyAllEscalationHandler();
    this.#handler = { requestApproval: (request, signal) => this.#answer(request, signal) };
  }

  /** The id of the current APE session (`undefined` before the first call). */
  get sessionId(): string | undefined {
    return this.#runtime?.sessionId;
  }

  /** True once untrusted tool output entered the conversation. */
  get tainted(): boolean {
    return this.#taint.tainted;
  }

  /**
   * Runs one proposed call through the gate. An escalation the adapter predicts interrupts the
   * graph (LangGraph's `interrupt`); when the graph resumes, the resume value is the human's
   * answer, checked against this exact call. Any failure is a refusal (or a throw with `onDeny:
   * 'throw'`); only LangGraph's own interrupt propagates.
   */
  gate(call: ProposedCall): Promise<Outcome> {
    return this.#enqueue(async () => {
      let runtime: AgentRuntime;
      let args: Readonly<Record<string, unknown>>;
      let provenance: ProvenanceLabel;
      let escalation: ApeEscalation | undefined;
      let answer: unknown;
      try {
        this.#taint.observe(call.messages);
        ({ args, provenance } = this.#taint.label(
          this.#options.provenance,
          call.input,
          this.#options.userProvenance,
        ));
        runtime = await this.#session();
        escalation = this.#predict(runtime, call, args, provenance);
        if (escalation !== undefined) answer = interrupt(escalation);
      } catch (error) {
        if (isGraphBubbleUp(error)) throw error;
        return this.#refuse(call, error);
      }
      const current: CurrentCall = { call, escalation, answer, threw: undefined };
      try {
        this.#current = current;
        const gated = defineTool({
          id: call.name,
          outputLabel: this.#outputLabel(call.name),
          run: (plain) => this.#runCurrent(plain),
        });
        const result = await runtime.call(call.name, gated, { args, provenance });
        this.#lastAction = call.name;
        this.#taint.recordResult(call.toolCallId, call.name, result.label, contentOf(result.value));
        return { ran: true, value: result.value };
      } catch (error) {
        if (current.threw !== undefined && current.threw.error === error) {
          // The tool ran and failed: its error reaches the model, as untrusted as its output.
          this.#lastAction = call.name;
          this.#taint.recordResult(
            call.toolCallId,
            call.name,
            this.#outputLabel(call.name),
            messageOf(error),
          );
          throw error;
        }
        if (isGraphBubbleUp(error)) throw error;
        return this.#refuse(call, error);
      } finally {
        this.#current = undefined;
      }
    });
  }

  /** Ends the current session (tokens revoked, audit flushed). */
  end(reason: string): Promise<void> {
    return this.#enqueue(async () => {
      const runtime = this.#runtime;
      this.#runtime = undefined;
      if (runtime !== undefined) await runtime.terminate(reason);
    });
  }

  #outputLabel(name: string): ProvenanceLabel {
    return this.#context.outputLabels.get(name) ?? 'EXTERNAL_UNTRUSTED';
  }

  #refuse(call: ProposedCall, error: unknown): Outcome {
    const text = denialText(refusalOf(call.name, error));
    this.#taint.recordResult(call.toolCallId, call.name, 'SYSTEM_TRUSTED', text);
    if (this.#options.onDeny === 'throw') throw refusalError(call.name, error, text);
    return { ran: false, text };
  }

  #enqueue<T>(task: () => Promise<T>): Promise<T> {
    return this.#queue.enqueue(task);
  }

  /** The current session; a new one in the same lineage after an escalation denial ended the last. */
  async #session(): Promise<AgentRuntime> {
    const existing = this.#runtime;
    if (existing !== undefined && existing.state !== 'TERMINATED') return existing;
    this.#runtime = undefined;
    const runtime = await startAdapterSession({
      options: this.#options,
      usage: this.#context.usage,
      audit: this.#context.audit,
      lineage: this.lineage,
      // Every session of the thread counts session-scoped limits under one id, so no new session
      // (after a denied escalation, a restarted process) resets a budget.
      continuesSession: `thread:${this.lineage}`,
      outputLabelOf: (action) => this.#outputLabel(action),
      escalation: this.#handler,
      intent: this.#intent(),
    });
    this.#runtime = runtime;
    return runtime;
  }

  #intent(): Intent {
    return adapterIntent(
      this.#options.intent,
      this.#context.outputLabels.keys(),
      `LangChain thread ${this.lineage}`,
    );
  }

  /**
   * The adapter's pre-check: would the gate escalate this call? Only a prediction (the gate decides
   * when the call runs, and an escalation it did not predict goes to the fallback handler).
   */
  #predict(
    runtime: AgentRuntime,
    call: ProposedCall,
    args: Readonly<Record<string, unknown>>,
    declared: ProvenanceLabel,
  ): ApeEscalation | undefined {
    const options = this.#options;
    if (runtime.mode !== 'enforce') return undefined;
    const intent = runtime.intent;
    if (intent === undefined || !intent.allowed_actions.includes(call.name)) return undefined;
    if (intent.forbidden_actions.includes(call.name)) return undefined;
    const plain = plainOf(call.input);
    const decision = predictEscalation(options.policy, {
      tenant: options.tenant,
      action: call.name,
      args: plain,
      provenance: labelOf(args, declared),
      sessionId: runtime.sessionId,
      previousAction: this.#lastAction,
      intent,
    });
    if (decision === undefined) return undefined;
    return Object.freeze({
      type: ESCALATION_INTERRUPT,
      lineage: this.lineage,
      toolCallId: call.toolCallId,
      action: call.name,
      args: plain,
      argsHash: hashCanonical(plain),
      step: runtime.nextStepIndex,
      reason: decision.reason,
      rules: decision.rules,
    });
  }

  /** The gate's tool: runs the framework's tool of the call in flight. */
  async #runCurrent(args: Readonly<Record<string, unknown>>): Promise<unknown> {
    const current = this.#current;
    if (current === undefined) throw new RuntimeStateError('No LangChain tool call is in flight.');
    try {
      return await current.call.run(args);
    } catch (error) {
      current.threw = { error };
      throw error;
    }
  }

  /** The runtime's escalation handler: the human's resume value, if it answers this exact call. */
  #answer(request: EscalationRequest, signal: AbortSignal): Promise<EscalationResult> {
    const current = this.#current;
    const escalation = current?.escalation;
    if (current === undefined || escalation === undefined)
      return this.#fallback.requestApproval(request, signal);
    let refusal = mismatchOf(escalation, current.answer);
    if (
      refusal === undefined &&
      (request.action !== escalation.action || !sameHash(escalation.argsHash, request.args))
    ) {
      refusal = 'the approval was given for another call; it approves nothing.';
    }
    const answer = current.answer as { approved: boolean; approver: string; reason?: string };
    return escalationResultOf(ADAPTER_APPROVER, refusal, answer);
  }
}

function plainOf(input: unknown): Readonly<Record<string, unknown>> {
  return (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
}

function sameHash(hash: string, args: unknown): boolean {
  try {
    return hashCanonical(plainOf(args)) === hash;
  } catch {
    return false;
  }
}

/** What the model reads of a tool's output: a ToolMessage's content, or the output itself. */
function contentOf(value: unknown): unknown {
  if (typeof value === 'object' && value !== null && 'content' in value)
    return (value as { content: unknown }).content;
  return value;
}
