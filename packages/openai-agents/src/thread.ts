import { ConfigurationError } from '@ape/core';
import {
  type AdapterFramework,
  type AdapterThread,
  type AdapterThreadContext,
  ConversationThread,
  type ConversationThreadParameters,
  type HumanAnswer,
  type PendingApprovalView,
  type PendingEscalation,
  type WrapToolOptions,
  type WrapToolsOptions,
} from '@ape/core/adapter';
import type { FunctionTool, RunContext, RunState, RunToolApprovalItem } from '@openai/agents';
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

/**
 * One conversation (thread): one APE session at a time, in the lineage named by `lineage`. Its
 * members besides the framework's are those of every adapter's thread (`AdapterThread` of
 * `@ape/core/adapter`): `lineage`, `sessionId`, `tainted`, `pendingApprovals()` and `end()`.
 */
export interface ApeThread extends AdapterThread<PendingApproval> {
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
}

/** One OpenAI Agents call in flight: the SDK tool, the model's argument text, its run context and call details. */
interface SdkCall {
  readonly name: string;
  readonly original: AnyFunctionTool;
  readonly input: string;
  readonly context: RunContext<unknown>;
  readonly details: unknown;
}

/** How OpenAI Agents' calls are labelled and run, and how its interruptions are named. */
const OPENAI_AGENTS: AdapterFramework<SdkCall> = Object.freeze({
  name: 'OpenAI Agents',
  approver: ADAPTER_APPROVER,
  approvals: Object.freeze({
    idField: 'callId',
    nameField: 'name',
    inputField: 'arguments',
    request: 'The interruption',
    inputDiffers: "The interruption's arguments differ",
    noAnswer:
      'no answer was recorded with APE for this call (an approval only in the run state approves nothing; answer with thread.approve or thread.reject).',
    answerOnly: "answer only interruptions this thread's tools raised, before the run is resumed.",
  }),
  rethrowToolErrors: false,
  inputOf(call: SdkCall): unknown {
    const parsed = parseArguments(call.input);
    if (parsed === undefined) {
      throw new ConfigurationError(`${call.name}: the model's arguments are not a JSON object.`, {
        field: 'arguments',
      });
    }
    return parsed;
  },
  messagesOf: () => undefined,
  run: (call: SdkCall, args: Readonly<Record<string, unknown>>): Promise<unknown> =>
    call.original.invoke(call.context, JSON.stringify(args), call.details as never),
});

/** The OpenAI Agents part of every thread. */
const OPENAI_AGENTS_THREAD: ConversationThreadParameters<SdkCall, 'callId'> = {
  framework: OPENAI_AGENTS,
  idField: 'callId',
  scope: 'OpenAI Agents conversation',
  // The SDK hands a tool no conversation to read: the tracker reads only what the adapter returned.
  taint: (minLength, _trusted, mode) => new TaintTracker(minLength, undefined, mode),
};

/** @internal Shared by every thread of one adapter. */
export type ThreadContext = AdapterThreadContext<ThreadImplementation>;

/** @internal */
export class ThreadImplementation extends ConversationThread<SdkCall, 'callId'> implements ApeThread {
  constructor(lineage: string, context: ThreadContext) {
    super(lineage, context, OPENAI_AGENTS_THREAD);
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
    this.wrappedTools.register(name, options.outputLabel);
    const original = tool;
    const own = tool.needsApproval;
    return {
      ...tool,
      needsApproval: (context: RunContext<unknown>, input: unknown, callId?: string) =>
        this.#needsApproval(name, input, callId, () => own(context, input, callId)),
      invoke: (context: RunContext<unknown>, input: string, details?: { toolCall?: { callId?: string } }) =>
        this.#invoke({ name, original, input, context, details }, details),
    } as TOOL;
  }

  approve(state: AnyRunState, item: RunToolApprovalItem, answer: ApprovalAnswer): void {
    this.conversation.approve(this.#matching(item, answer), answer);
    state.approve(item);
  }

  async reject(state: AnyRunState, item: RunToolApprovalItem, answer: ApprovalAnswer): Promise<void> {
    const pending = this.#matching(item, answer);
    await this.conversation.deny(pending, answer);
    const why = answer.reason === undefined ? '' : `: ${answer.reason}`;
    state.reject(item, {
      message: `APE denied ${pending.action}: ${answer.approver} refused the call${why}`,
    });
  }

  #matching(item: RunToolApprovalItem, answer: ApprovalAnswer): PendingEscalation {
    const raw = item?.rawItem as { type?: unknown; callId?: unknown; name?: unknown; arguments?: unknown };
    const callId = raw?.type === 'function_call' && typeof raw.callId === 'string' ? raw.callId : undefined;
    return this.conversation.matching(callId, raw?.name, parseArguments(raw?.arguments), answer);
  }

  async #needsApproval(
    name: string,
    input: unknown,
    callId: string | undefined,
    own: () => Promise<boolean>,
  ): Promise<boolean> {
    if (callId === undefined) return own();
    if (this.conversation.expectsEscalation(callId, name, input, undefined)) return true;
    if (this.conversation.holds(callId)) return false;
    return own();
  }

  async #invoke(call: SdkCall, details: { toolCall?: { callId?: string } } | undefined): Promise<unknown> {
    const callId = details?.toolCall?.callId;
    const id = typeof callId === 'string' ? callId : `call:${call.name}`;
    const outcome = await this.conversation.perform(id, call.name, call);
    return outcome.ran ? outcome.value : outcome.text;
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
