import type { EscalationRequest, EscalationResult } from '../ports/escalation-handler.js';
import type { AgentRuntime } from '../runtime/runtime-api.js';
import type { ProvenanceLabel } from '../types.js';
import type { HumanAnswer } from './approvals.js';
import type { TaintTracker } from './provenance.js';
import type { AdapterThreadContext, ToolLabels } from './threads.js';

/**
 * @internal What a framework adapter tells its `AdapterConversation`: how to label and run
 * one call of its framework (`TCall`: the framework's part of a call in flight, for example the
 * SDK tool and its call options) and the words of its messages.
 */
export interface AdapterFramework<TCall> {
  /** The framework's name in messages (`AI SDK`). */
  readonly name: string;
  /** The approver recorded when the adapter itself refuses an answer that does not fit its call. */
  readonly approver: string;
  /**
   * How the framework's approval requests are named, for a framework whose host answers escalations
   * through the adapter's thread (`approve`, `deny`); without it the conversation holds none.
   */
  readonly approvals?: ApprovalWording;
  /**
   * True: a tool that ran and threw rethrows its error to the framework (recorded as the tool's
   * output); false: the error is refused like any other failure.
   */
  readonly rethrowToolErrors: boolean;
  /** The call's arguments as the model gave them (`undefined` when they cannot be read: the call is refused). */
  inputOf(call: TCall): unknown;
  /** The conversation's messages the framework shows with the call, if any. */
  messagesOf(call: TCall): unknown;
  /**
   * After the session is open, before the gate: LangChain's escalation (`interrupt`). May throw: the
   * call is refused, or the error passes through when {@link passesThrough} says so.
   */
  admit?(
    call: TCall,
    runtime: AgentRuntime,
    args: Readonly<Record<string, unknown>>,
    provenance: ProvenanceLabel,
  ): void;
  /** Runs the framework's tool of `call` with the gate's frozen plain arguments. */
  run(call: TCall, args: Readonly<Record<string, unknown>>): Promise<unknown>;
  /** The framework's own answer to an escalation of `call` in flight; `undefined` asks the recorded answers. */
  answer?(call: TCall, request: EscalationRequest): Promise<EscalationResult> | undefined;
  /** What the model reads of a tool's output (default: the output). */
  contentOf?(value: unknown): unknown;
  /** True for an error that is the framework's control flow and must reach it (LangGraph's interrupt). */
  passesThrough?(error: unknown): boolean;
}

/** @internal How one framework names its approval request, in the refusals of an answer that does not fit. */
export interface ApprovalWording {
  /** The fields `details.field` names: the call id, the tool name, the arguments. */
  readonly idField: string;
  readonly nameField: string;
  readonly inputField: string;
  /** The request, as a sentence's subject (`The approval request`). */
  readonly request: string;
  /** `The approval request's input differs`. */
  readonly inputDiffers: string;
  /** What to answer instead, after "No APE escalation is waiting for tool call X: ". */
  readonly answerOnly: string;
  /** The denial's reason when the gate escalates a held call that has no answer recorded. */
  readonly noAnswer: string;
}

/** @internal An escalation a conversation predicted and waits on an answer for. */
export interface PendingEscalation {
  readonly id: string;
  readonly action: string;
  readonly argsHash: string;
  readonly plain: Readonly<Record<string, unknown>>;
  readonly args: Readonly<Record<string, unknown>>;
  readonly declared: ProvenanceLabel;
  readonly provenance: ProvenanceLabel;
  readonly reason: string;
  readonly rules: readonly string[];
  answer: (HumanAnswer & { readonly approved: boolean }) | undefined;
}

/** @internal What became of a proposed call: its output, or the text the model is given instead. */
export type CallOutcome =
  | { readonly ran: true; readonly value: unknown }
  | { readonly ran: false; readonly text: string };

/** @internal What an `AdapterConversation` needs besides its framework. */
export interface ConversationParameters {
  readonly lineage: string;
  readonly context: Pick<AdapterThreadContext<unknown>, 'options' | 'usage' | 'audit'>;
  readonly taint: TaintTracker;
  /** The wrapped tools' output labels (read live). */
  readonly tools: ToolLabels;
  /** The id every session counts session-scoped limits under, so no new session resets a budget. */
  readonly continuesSession: string;
  /** The default intent's scope. */
  readonly scope: string;
}
