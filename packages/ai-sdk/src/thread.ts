import { ConfigurationError, UnauthorizedActionError } from '@ape/core';
import {
  type AdapterFramework,
  type AdapterThreadContext,
  ConversationThread,
  type ConversationThreadParameters,
  type PendingEscalation,
} from '@ape/core/adapter';
import type { Tool, ToolApprovalResponse, ToolExecutionOptions, ToolSet } from 'ai';
import {
  ADAPTER_APPROVER,
  type ApeThread,
  type ApprovalAnswer,
  type ApprovalRequestLike,
  type WrapToolOptions,
  type WrapToolsOptions,
} from './thread-api.js';
import { TaintTracker } from './provenance.js';

/** One AI SDK call in flight: the SDK tool, its input and its call options. */
interface SdkCall {
  readonly original: Tool;
  readonly input: unknown;
  readonly options: ToolExecutionOptions;
}

/** How the AI SDK's calls are labelled and run, and how its approval requests are named. */
const AI_SDK: AdapterFramework<SdkCall> = Object.freeze({
  name: 'AI SDK',
  approver: ADAPTER_APPROVER,
  approvals: Object.freeze({
    idField: 'toolCallId',
    nameField: 'toolName',
    inputField: 'input',
    request: 'The approval request',
    inputDiffers: "The approval request's input differs",
    noAnswer: 'no answer was recorded with APE for this call (answer with thread.approve or thread.deny).',
    answerOnly: "answer only requests this thread's tools announced, before the call is retried.",
  }),
  rethrowToolErrors: true,
  inputOf: (call: SdkCall) => call.input,
  messagesOf: (call: SdkCall) => call.options.messages,
  async run(call: SdkCall, args: Readonly<Record<string, unknown>>): Promise<unknown> {
    const output = await call.original.execute!(args, call.options);
    return isAsyncIterable(output) ? await lastOf(output) : output;
  },
});

/** The AI SDK part of every thread. */
const AI_SDK_THREAD: ConversationThreadParameters<SdkCall, 'toolCallId'> = {
  framework: AI_SDK,
  idField: 'toolCallId',
  scope: 'AI SDK conversation',
  taint: (minLength, trusted, mode) => new TaintTracker(minLength, trusted, mode),
};

/** @internal Shared by every thread of one adapter. */
export type ThreadContext = AdapterThreadContext<ThreadImplementation>;

/** @internal */
export class ThreadImplementation extends ConversationThread<SdkCall, 'toolCallId'> implements ApeThread {
  constructor(lineage: string, context: ThreadContext) {
    super(lineage, context, AI_SDK_THREAD);
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
    this.wrappedTools.register(name, options.outputLabel);
    const original = tool;
    const own = tool.needsApproval;
    return {
      ...tool,
      needsApproval: (input: unknown, call: { toolCallId: string; messages: unknown }) =>
        this.#needsApproval(name, input, own, call),
      execute: (input: unknown, call: ToolExecutionOptions) =>
        this.#execute(name, { original, input, options: call }),
    } as TOOL;
  }

  approve(request: ApprovalRequestLike, answer: ApprovalAnswer): ToolApprovalResponse {
    this.conversation.approve(this.#matching(request, answer), answer);
    return {
      type: 'tool-approval-response',
      approvalId: request.approvalId,
      approved: true,
      ...(answer.reason === undefined ? {} : { reason: answer.reason }),
    };
  }

  async deny(request: ApprovalRequestLike, answer: ApprovalAnswer): Promise<ToolApprovalResponse> {
    const pending = this.#matching(request, answer);
    await this.conversation.deny(pending, answer);
    const why = answer.reason === undefined ? '' : `: ${answer.reason}`;
    return {
      type: 'tool-approval-response',
      approvalId: request.approvalId,
      approved: false,
      reason: `APE denied ${pending.action}: ${answer.approver} refused the call${why}`,
    };
  }

  #matching(request: ApprovalRequestLike, answer: ApprovalAnswer): PendingEscalation {
    const call = request?.toolCall;
    const pending = this.conversation.matching(
      typeof call?.toolCallId === 'string' ? call.toolCallId : undefined,
      call?.toolName,
      call?.input,
      answer,
    );
    if (typeof request.approvalId !== 'string' || request.approvalId.length === 0) {
      throw new UnauthorizedActionError('The approval request has no approvalId.', { field: 'approvalId' });
    }
    return pending;
  }

  async #needsApproval(
    name: string,
    input: unknown,
    own: Tool['needsApproval'],
    call: { toolCallId: string; messages: unknown },
  ): Promise<boolean> {
    if (this.conversation.expectsEscalation(call.toolCallId, name, input, call.messages)) return true;
    if (this.conversation.holds(call.toolCallId)) return false;
    if (typeof own === 'function')
      return (own as (input: unknown, call: unknown) => boolean | PromiseLike<boolean>)(input, call);
    return own === true;
  }

  async #execute(name: string, call: SdkCall): Promise<unknown> {
    const outcome = await this.conversation.perform(call.options.toolCallId, name, call);
    return outcome.ran ? outcome.value : outcome.text;
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
