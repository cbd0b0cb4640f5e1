import { TaintTracker as ConversationTaint } from '@ape/core/adapter';

/** A LangChain message, as far as the adapter reads it (a `ToolMessage` or its serialised form). */
interface MessageLike {
  readonly type?: unknown;
  readonly tool_call_id?: unknown;
  readonly name?: unknown;
  readonly content?: unknown;
  readonly status?: unknown;
  readonly _getType?: unknown;
}

function isToolMessage(message: MessageLike): boolean {
  if (message.type === 'tool') return true;
  return (
    typeof message._getType === 'function' && (message._getType as () => unknown).call(message) === 'tool'
  );
}

/**
 * @internal The conversation's taint (`TaintTracker` of `@ape/core/adapter`) that also reads the
 * tool messages of a LangGraph state.
 */
export class TaintTracker extends ConversationTaint {
  /**
   * Reads the tool messages of the agent's state: a result the adapter returned keeps the label it
   * had; any other (an unwrapped tool, an earlier process, a message the host inserted) is untrusted
   * unless its tool declared trusted output.
   */
  override observe(messages: unknown): void {
    if (!Array.isArray(messages)) return;
    for (const message of messages as readonly MessageLike[]) {
      if (typeof message !== 'object' || message === null || !isToolMessage(message)) continue;
      const id = typeof message.tool_call_id === 'string' ? message.tool_call_id : undefined;
      const name = typeof message.name === 'string' ? message.name : 'unknown';
      this.observeResult(id, name, message.content);
    }
  }
}
