import { createApeOpenAIAgents } from '@ape/openai-agents';
import { type FunctionTool, RunContext, tool } from '@openai/agents';
import { z } from 'zod';
import { adapterOverheadCase, expectAnswer, TENANT } from './adapter-overhead.js';
import type { BenchCase } from './context.js';

const INPUT = Object.freeze({ path: '/workspace/a.txt' });
const ARGUMENTS = JSON.stringify(INPUT);
const CONTEXT = new RunContext();
const DETAILS = {
  toolCall: { type: 'function_call', callId: 'bench-call', name: 'read_file', arguments: ARGUMENTS },
} as const;

// biome-ignore lint/suspicious/noExplicitAny: the SDK's own tool type is generic over context and parameters.
type AnyTool = FunctionTool<any, any, any>;

const readFile: AnyTool = tool({
  name: 'read_file',
  description: 'Read a file.',
  parameters: z.object({ path: z.string() }),
  execute: async ({ path }) => path.length,
});

/** What the SDK does for one call of a function tool: ask `needsApproval`, then `invoke` with the model's JSON text. */
async function callLikeTheSdk(target: AnyTool): Promise<unknown> {
  if (await target.needsApproval(CONTEXT, INPUT, 'bench-call')) {
    throw new Error('the bench call needs an approval; the policy must allow it');
  }
  return target.invoke(CONTEXT, ARGUMENTS, DETAILS as never);
}

/**
 * Issue 15: the cost `@ape/openai-agents` adds to one OpenAI Agents tool call (the SDK's `needsApproval`
 * and `invoke` of the wrapped tool: the pre-check, the gate with its in-memory audit, token and usage
 * store) over the same tool called bare, measured in the same run.
 */
export const openaiAgentsAdapterCase: BenchCase = adapterOverheadCase({
  id: 'openai-agents-adapter',
  title: 'OpenAI Agents adapter: added latency per tool call over the bare OpenAI Agents tool (issue 15)',
  group: 'openai-agents',
  framework: 'OpenAI Agents',
  bare: {
    label: 'OpenAI Agents function tool: needsApproval + invoke (baseline)',
    call: () => callLikeTheSdk(readFile),
  },
  gate: {
    label: 'runtime.call of the same tool (the gate alone)',
    run: async ({ path }) => String(path).length,
    args: INPUT,
  },
  wrapped: {
    label: '@ape/openai-agents wrapped tool: needsApproval + invoke through the gate',
    open: (policy, authority) => {
      const ape = createApeOpenAIAgents({ tenant: TENANT, policy, authority });
      const wrapped = ape.thread('bench').tool(readFile);
      return { ape, call: () => callLikeTheSdk(wrapped) };
    },
    check: expectAnswer(INPUT.path.length),
  },
  notes: [
    'Added latency = wrapped p50 (p99) − bare p50 (p99); each sample is one call as the SDK makes it (needsApproval, then invoke with the model JSON arguments).',
    'The wrapped row runs the whole APE gate in calls mode: pre-check, policy, in-memory audit, token issue and consume, usage store.',
    'The gate row is runtime.call alone: the wrapped row minus the gate row is what the adapter itself adds.',
  ],
});
