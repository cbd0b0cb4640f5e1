import type { AgentOutputItem, Model, ModelRequest, ModelResponse, StreamEvent } from '@openai/agents';
import { Usage } from '@openai/agents';

/**
 * One scripted turn: function calls the model makes, or its final text. A call's `args` are sent as
 * their JSON text, or `raw` is sent as the arguments text as it is (malformed model output).
 */
export type Turn =
  | {
      readonly calls: readonly {
        readonly id: string;
        readonly name: string;
        readonly args?: unknown;
        readonly raw?: string;
      }[];
    }
  | { readonly text: string };

/** A function call turn. */
export function call(id: string, name: string, args: unknown): Turn {
  return { calls: [{ id, name, args }] };
}

/**
 * The SDK's `Model` interface answering from a script, no network: each request takes the next turn.
 * `requests` keeps every request so a test can read what reached the model (tool results included).
 */
export function scriptedModel(turns: readonly Turn[]): { model: Model; requests: ModelRequest[] } {
  const requests: ModelRequest[] = [];
  let next = 0;
  const respond = (request: ModelRequest): ModelResponse => {
    requests.push(request);
    const turn = turns[next] ?? { text: 'done' };
    next += 1;
    const output: AgentOutputItem[] =
      'text' in turn
        ? [
            {
              type: 'message',
              role: 'assistant',
              status: 'completed',
              content: [{ type: 'output_text', text: turn.text }],
            },
          ]
        : turn.calls.map((item) => ({
            type: 'function_call',
            callId: item.id,
            name: item.name,
            arguments: item.raw ?? JSON.stringify(item.args),
            status: 'completed',
          }));
    return { usage: new Usage(), output, responseId: `r${next}` };
  };
  const model: Model = {
    getResponse: (request) => Promise.resolve(respond(request)),
    async *getStreamedResponse(request): AsyncIterable<StreamEvent> {
      const response = respond(request);
      yield {
        type: 'response_done',
        response: {
          id: response.responseId ?? 'r',
          usage: { requests: 1, inputTokens: 0, outputTokens: 0, totalTokens: 0 },
          output: response.output,
        },
      } as StreamEvent;
    },
  };
  return { model, requests };
}

/** Every tool result text the model was given, across all requests. */
export function toolResults(requests: readonly ModelRequest[]): string[] {
  const out: string[] = [];
  for (const request of requests) {
    if (!Array.isArray(request.input)) continue;
    for (const item of request.input as readonly { type?: string; output?: unknown }[]) {
      if (item.type !== 'function_call_result') continue;
      const output = item.output as { type?: string; text?: string } | string;
      out.push(typeof output === 'string' ? output : String(output?.text ?? JSON.stringify(output)));
    }
  }
  return [...new Set(out)];
}
