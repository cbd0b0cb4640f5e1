import type { AuthorityManager } from '@ape/authority';
import type { PolicyEvaluator } from '@ape/core';
import { type ApeLangChain, createApeLangChain } from '@ape/langchain';
import type { ToolMessage } from '@langchain/core/messages';
import { tool } from '@langchain/core/tools';
import { z } from 'zod';
import { adapterOverheadCase, expectAnswer, type OpenedAdapter, TENANT } from './adapter-overhead.js';
import type { BenchCase } from './context.js';

const CALL = Object.freeze({ id: 'bench-call', name: 'read_file', args: { path: '/workspace/a.txt' } });

const readFile = tool(async ({ path }: { path: string }) => String(path.length), {
  name: 'read_file',
  description: 'Read a file.',
  schema: z.object({ path: z.string() }),
});

/** What LangChain's ToolNode does for one call without middleware: invoke the tool with the ToolCall. */
function callBare(): Promise<ToolMessage> {
  return readFile.invoke({ ...CALL, type: 'tool_call' });
}

type Middleware = {
  wrapToolCall?: (
    request: unknown,
    handler: (request: { toolCall: typeof CALL }) => Promise<unknown>,
  ) => unknown;
};

/** A fresh adapter (its in-memory audit sink starts empty) and its middleware's `wrapToolCall`. */
function open(policy: PolicyEvaluator, authority: AuthorityManager): OpenedAdapter {
  const ape: ApeLangChain = createApeLangChain({ tenant: TENANT, policy, authority });
  const middleware = ape.middleware({ tools: [readFile] }) as unknown as Middleware;
  const wrap = middleware.wrapToolCall;
  if (wrap === undefined) throw new Error('the APE middleware has no wrapToolCall');
  const request = {
    toolCall: CALL,
    tool: readFile,
    state: { messages: [] },
    runtime: { configurable: { thread_id: 'bench' } },
  };
  // What ToolNode does with a middleware: wrapToolCall(request, handler), the handler invoking the tool.
  const call = () =>
    wrap(request, (inner) =>
      readFile.invoke({ ...inner.toolCall, type: 'tool_call' }),
    ) as Promise<ToolMessage>;
  return { ape, call };
}

/**
 * Issue 15: the cost `@ape/langchain` adds to one LangChain tool call (the middleware's
 * `wrapToolCall`: provenance, the pre-check, the gate with its in-memory audit, token and usage
 * store) over the same tool invoked bare with its ToolCall, measured in the same run.
 */
export const langchainAdapterCase: BenchCase = adapterOverheadCase({
  id: 'langchain-adapter',
  title: 'LangChain adapter: added latency per tool call over the bare LangChain tool call (issue 15)',
  group: 'langchain',
  framework: 'LangChain',
  bare: { label: 'LangChain tool: invoke(ToolCall) (baseline)', call: callBare },
  gate: {
    label: 'runtime.call of the same tool call (the gate alone)',
    run: () => callBare(),
    args: CALL.args,
  },
  wrapped: {
    label: '@ape/langchain middleware: wrapToolCall through the gate',
    open,
    check: expectAnswer(String(CALL.args.path.length), (answer) => (answer as ToolMessage).content),
  },
  notes: [
    "Added latency = wrapped p50 (p99) − bare p50 (p99); each sample is one tool call as LangChain's ToolNode makes it (bare: tool.invoke(ToolCall); wrapped: the middleware's wrapToolCall around that invoke).",
    'The wrapped row runs the whole APE gate in calls mode: provenance, pre-check, policy, in-memory audit, token issue and consume, usage store.',
    'The gate row is runtime.call around the same invoke: the wrapped row minus the gate row is what the adapter itself adds.',
  ],
});
