import {
  type AgentRuntime,
  type AuditSink,
  type EscalationRequest,
  type EscalationResult,
  hashCanonical,
  labelOf,
  type ProvenanceLabel,
  type UsageStore,
} from '@ape/core';
import {
  type AdapterFramework,
  AdapterConversation,
  type CallOutcome,
  escalationResultOf,
  predictEscalation,
  type ToolLabels,
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
export type Outcome = CallOutcome;

/** @internal Shared by every thread of one adapter. */
export interface ThreadContext {
  readonly options: ResolvedOptions;
  readonly usage: UsageStore;
  readonly audit: AuditSink;
  /** The known tools' output labels, by name. */
  readonly tools: ToolLabels;
}

/** A call in flight: the proposal, and the escalation it raised with the resume value answering it. */
interface LangChainCall {
  readonly proposal: ProposedCall;
  escalation: ApeEscalation | undefined;
  answer: unknown;
}

/** @internal One conversation (LangGraph thread): one APE session at a time, in the lineage of its thread id. */
export class Thread {
  readonly lineage: string;
  readonly #options: ResolvedOptions;
  readonly #conversation: AdapterConversation<LangChainCall>;

  constructor(lineage: string, context: ThreadContext) {
    this.lineage = lineage;
    this.#options = context.options;
    const framework: AdapterFramework<LangChainCall> = {
      name: 'LangChain',
      approver: ADAPTER_APPROVER,
      rethrowToolErrors: true,
      inputOf: (call) => call.proposal.input,
      messagesOf: (call) => call.proposal.messages,
      admit: (call, runtime, args, provenance) => this.#admit(call, runtime, args, provenance),
      run: (call, args) => call.proposal.run(args),
      answer: answerOfResume,
      contentOf,
      passesThrough: isGraphBubbleUp,
    };
    this.#conversation = new AdapterConversation(
      {
        lineage,
        context,
        taint: new TaintTracker(
          context.options.dataflowMinLength,
          context.tools.trusted,
          context.options.provenance,
        ),
        tools: context.tools,
        // Every session of the thread counts session-scoped limits under one id, so no new session
        // (after a denied escalation, a restarted process) resets a budget.
        continuesSession: `thread:${lineage}`,
        scope: `LangChain thread ${lineage}`,
      },
      framework,
    );
  }

  /** The id of the current APE session (`undefined` before the first call). */
  get sessionId(): string | undefined {
    return this.#conversation.sessionId;
  }

  /** True once untrusted tool output entered the conversation. */
  get tainted(): boolean {
    return this.#conversation.tainted;
  }

  /**
   * Runs one proposed call through the gate. An escalation the adapter predicts interrupts the
   * graph (LangGraph's `interrupt`); when the graph resumes, the resume value is the human's
   * answer, checked against this exact call. Any failure is a refusal (or a throw with `onDeny:
   * 'throw'`); only LangGraph's own interrupt propagates.
   */
  gate(call: ProposedCall): Promise<Outcome> {
    return this.#conversation.perform(call.toolCallId, call.name, {
      proposal: call,
      escalation: undefined,
      answer: undefined,
    });
  }

  /** Ends the current session (tokens revoked, audit flushed); the next call starts a new one. */
  end(reason: string): Promise<void> {
    return this.#conversation.endSession(reason);
  }

  /**
   * The adapter's pre-check: would the gate escalate this call? Only a prediction (the gate decides
   * when the call runs, and an escalation it did not predict goes to the fallback handler). A
   * predicted escalation interrupts the graph; on resume `interrupt` returns the human's answer.
   */
  #admit(
    call: LangChainCall,
    runtime: AgentRuntime,
    args: Readonly<Record<string, unknown>>,
    declared: ProvenanceLabel,
  ): void {
    const options = this.#options;
    const name = call.proposal.name;
    if (runtime.mode !== 'enforce') return;
    const intent = runtime.intent;
    if (intent === undefined || !intent.allowed_actions.includes(name)) return;
    if (intent.forbidden_actions.includes(name)) return;
    const plain = plainOf(call.proposal.input);
    const decision = predictEscalation(options.policy, {
      tenant: options.tenant,
      action: name,
      args: plain,
      provenance: () => labelOf(args, declared),
      sessionId: runtime.sessionId,
      previousAction: this.#conversation.lastAction,
      intent,
    });
    if (decision === undefined) return;
    const escalation: ApeEscalation = Object.freeze({
      type: ESCALATION_INTERRUPT,
      lineage: this.lineage,
      toolCallId: call.proposal.toolCallId,
      action: name,
      args: plain,
      argsHash: hashCanonical(plain),
      step: runtime.nextStepIndex,
      reason: decision.reason,
      rules: decision.rules,
    });
    call.escalation = escalation;
    call.answer = interrupt(escalation);
  }
}

/** The runtime's escalation handler for a call in flight: the human's resume value, if it answers this exact call. */
function answerOfResume(
  call: LangChainCall,
  request: EscalationRequest,
): Promise<EscalationResult> | undefined {
  const escalation = call.escalation;
  if (escalation === undefined) return undefined;
  let refusal = mismatchOf(escalation, call.answer);
  if (
    refusal === undefined &&
    (request.action !== escalation.action || !sameHash(escalation.argsHash, request.args))
  ) {
    refusal = 'the approval was given for another call; it approves nothing.';
  }
  const answer = call.answer as { approved: boolean; approver: string; reason?: string };
  return escalationResultOf(ADAPTER_APPROVER, refusal, answer);
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
