import type { PendingApprovalView } from './approvals.js';
import { AdapterConversation } from './conversation.js';
import type { AdapterFramework } from './conversation-api.js';
import type { ProvenanceMode, TaintTracker } from './provenance.js';
import { type AdapterThreadContext, ToolLabels } from './threads.js';

/**
 * What every adapter's thread offers besides its framework's methods (the `ApeThread` of
 * `@ape/ai-sdk` and `@ape/openai-agents` extend it): one conversation, one APE session at a time
 * in the lineage named by {@link lineage}.
 */
export interface AdapterThread<TPending> {
  /** The lineage id the host named the conversation with. */
  readonly lineage: string;
  /** The id of the current APE session (`undefined` before the first call). */
  readonly sessionId: string | undefined;
  /** True once untrusted tool output entered the conversation. */
  readonly tainted: boolean;
  /** Escalations waiting for a human's answer, oldest first. */
  pendingApprovals(): readonly TPending[];
  /** Ends the current session (tokens revoked, audit flushed) and forgets pending escalations. Idempotent. */
  end(reason?: string): Promise<void>;
}

/** @internal How a {@link ConversationThread} describes its framework's conversations. */
export interface ConversationThreadParameters<TCall, K extends string> {
  readonly framework: AdapterFramework<TCall>;
  /** The name of the framework's call id in {@link ConversationThread.pendingApprovals} (`toolCallId`). */
  readonly idField: K;
  /** The default intent's scope, before the lineage (`AI SDK conversation`). */
  readonly scope: string;
  /** The conversation's taint tracker, given the tools declared trusted and the adapter's provenance mode. */
  readonly taint: (minLength: number, trusted: ReadonlySet<string>, mode: ProvenanceMode) => TaintTracker;
}

/**
 * @internal The thread of an adapter whose host answers escalations through the thread (the AI
 * SDK's and OpenAI Agents' `ApeThread`): its lineage, its wrapped tools, its conversation, and
 * `end`. The adapter's subclass adds its framework's tool wrapping and answer methods.
 */
export abstract class ConversationThread<TCall, K extends string> {
  readonly lineage: string;
  readonly #context: AdapterThreadContext<ConversationThread<TCall, K>>;
  readonly #tools = new ToolLabels();
  readonly #conversation: AdapterConversation<TCall>;
  readonly #idField: K;

  constructor(
    lineage: string,
    context: AdapterThreadContext<ConversationThread<TCall, K>>,
    parameters: ConversationThreadParameters<TCall, K>,
  ) {
    this.lineage = lineage;
    this.#context = context;
    this.#idField = parameters.idField;
    this.#conversation = new AdapterConversation(
      {
        lineage,
        context,
        taint: parameters.taint(
          context.options.dataflowMinLength,
          this.#tools.trusted,
          context.options.provenance,
        ),
        tools: this.#tools,
        // Every session of the conversation counts session-scoped limits under one id, so no new
        // session (after a denied escalation, a reopened thread, another process) resets a budget.
        continuesSession: `conversation:${lineage}`,
        scope: `${parameters.scope} ${lineage}`,
      },
      parameters.framework,
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

  /** Escalations waiting for a human's answer, oldest first. */
  pendingApprovals(): readonly (PendingApprovalView & Record<K, string>)[] {
    return this.#conversation.pendingApprovals(this.#idField);
  }

  /** Ends the current session (tokens revoked, audit flushed) and forgets pending escalations. Idempotent. */
  async end(reason = 'the host ended the conversation'): Promise<void> {
    if (this.#conversation.ended) return;
    this.#context.forget(this);
    await this.#conversation.end(reason);
  }

  /** The thread's conversation, for the adapter's subclass. */
  protected get conversation(): AdapterConversation<TCall> {
    return this.#conversation;
  }

  /** The thread's wrapped tools, for the adapter's subclass. */
  protected get wrappedTools(): ToolLabels {
    return this.#tools;
  }
}
