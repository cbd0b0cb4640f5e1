import { TaintTracker as ConversationTaint } from '@ape/core/adapter';

// The cap on indexed text, for the tests of this tracker.
export { MAX_INDEXED_CHARACTERS } from '@ape/core/adapter';

/** A part of an AI SDK message, as far as the adapter reads it. */
interface MessagePart {
  readonly type?: unknown;
  readonly toolCallId?: unknown;
  readonly toolName?: unknown;
  readonly output?: unknown;
}

/** A message of the AI SDK's prompt, as far as the adapter reads it. */
export interface MessageLike {
  readonly role?: unknown;
  readonly content?: unknown;
}

/**
 * @internal The conversation's taint (`TaintTracker` of `@ape/core/adapter`) that also reads the
 * tool results of the AI SDK's messages.
 */
export class TaintTracker extends ConversationTaint {
  /**
   * Reads the tool results in the messages the SDK hands a tool: a result the adapter returned keeps
   * the label it had; any other (an unwrapped tool, an earlier process, a provider-executed tool) is
   * untrusted unless its tool declared trusted output.
   */
  override observe(messages: unknown): void {
    if (!Array.isArray(messages)) return;
    for (const message of messages as readonly MessageLike[]) {
      if (typeof message !== 'object' || message === null || !Array.isArray(message.content)) continue;
      if (message.role !== 'tool' && message.role !== 'assistant') continue;
      for (const part of message.content as readonly MessagePart[]) {
        if (typeof part !== 'object' || part === null || part.type !== 'tool-result') continue;
        const output = part.output as { type?: unknown; value?: unknown } | undefined;
        if (output?.type === 'execution-denied') continue;
        const id = typeof part.toolCallId === 'string' ? part.toolCallId : undefined;
        const name = typeof part.toolName === 'string' ? part.toolName : 'unknown';
        this.observeResult(id, name, output?.value ?? output);
      }
    }
  }
}
