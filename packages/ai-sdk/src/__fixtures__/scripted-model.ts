import type {
  LanguageModelV3CallOptions,
  LanguageModelV3Content,
  LanguageModelV3StreamPart,
} from '@ai-sdk/provider';
import { convertArrayToReadableStream, MockLanguageModelV3 } from 'ai/test';

/** One turn of the scripted model: tool calls, or a final text. */
export type Turn =
  | { readonly calls: readonly { readonly id: string; readonly tool: string; readonly input: unknown }[] }
  | { readonly text: string };

const USAGE = {
  inputTokens: { total: 1, noCache: 1, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: 1, text: 1, reasoning: undefined },
};

/** The AI SDK's own test model, answering each call with the next scripted turn; it records every prompt. */
export function scriptedModel(turns: readonly Turn[]): {
  model: MockLanguageModelV3;
  prompts: LanguageModelV3CallOptions['prompt'][];
  /** Every tool result text the model was shown, by tool call id. */
  resultsShown(): Map<string, string>;
} {
  const prompts: LanguageModelV3CallOptions['prompt'][] = [];
  let next = 0;
  const turn = (options: LanguageModelV3CallOptions): Turn => {
    prompts.push(options.prompt);
    const current = turns[next++];
    if (current === undefined) throw new Error(`the script has no turn ${next}`);
    return current;
  };
  const content = (current: Turn): LanguageModelV3Content[] =>
    'text' in current
      ? [{ type: 'text', text: current.text }]
      : current.calls.map((call) => ({
          type: 'tool-call',
          toolCallId: call.id,
          toolName: call.tool,
          input: JSON.stringify(call.input),
        }));
  const finishReason = (current: Turn) => ({
    unified: 'text' in current ? ('stop' as const) : ('tool-calls' as const),
    raw: undefined,
  });
  const model = new MockLanguageModelV3({
    doGenerate: async (options) => {
      const current = turn(options);
      return { content: content(current), finishReason: finishReason(current), usage: USAGE, warnings: [] };
    },
    doStream: async (options) => {
      const current = turn(options);
      const parts: LanguageModelV3StreamPart[] = [{ type: 'stream-start', warnings: [] }];
      for (const part of content(current)) {
        if (part.type === 'text') {
          parts.push(
            { type: 'text-start', id: 't' },
            { type: 'text-delta', id: 't', delta: part.text },
            { type: 'text-end', id: 't' },
          );
        } else {
          parts.push(part as LanguageModelV3StreamPart);
        }
      }
      parts.push({ type: 'finish', finishReason: finishReason(current), usage: USAGE });
      return { stream: convertArrayToReadableStream(parts) };
    },
  });
  const resultsShown = (): Map<string, string> => {
    const shown = new Map<string, string>();
    for (const prompt of prompts) {
      for (const message of prompt) {
        if (message.role !== 'tool') continue;
        for (const part of message.content) {
          if (part.type !== 'tool-result') continue;
          const output = part.output as { type: string; value?: unknown; reason?: string };
          shown.set(
            part.toolCallId,
            output.type === 'execution-denied'
              ? `execution-denied: ${output.reason ?? ''}`
              : typeof output.value === 'string'
                ? output.value
                : JSON.stringify(output.value),
          );
        }
      }
    }
    return shown;
  };
  return { model, prompts, resultsShown };
}
