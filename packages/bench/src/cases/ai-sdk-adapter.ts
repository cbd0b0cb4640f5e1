import { createApeAiSdk } from '@ape/ai-sdk';
import { type Tool, type ToolExecutionOptions, tool } from 'ai';
import { z } from 'zod';
import { adapterOverheadCase, expectAnswer, TENANT } from './adapter-overhead.js';
import type { BenchCase } from './context.js';

const INPUT = Object.freeze({ path: '/workspace/a.txt' });
const OPTIONS: ToolExecutionOptions = { toolCallId: 'bench-call', messages: [] };

const readFile = tool({
  description: 'Read a file.',
  inputSchema: z.object({ path: z.string() }),
  execute: async ({ path }) => path.length,
});

/** What the SDK does for one call of a tool: ask `needsApproval` (when it has one), then `execute`. */
async function callLikeTheSdk(target: Tool): Promise<unknown> {
  const needsApproval = target.needsApproval;
  if (typeof needsApproval === 'function' && (await needsApproval(INPUT, OPTIONS))) {
    throw new Error('the bench call needs an approval; the policy must allow it');
  }
  return target.execute?.(INPUT, OPTIONS);
}

/**
 * Issue 15: the cost `@ape/ai-sdk` adds to one AI SDK tool call (the SDK's `needsApproval` and
 * `execute` of the wrapped tool: the pre-check, the gate with its in-memory audit, token and usage
 * store) over the same tool called bare, measured in the same run.
 */
export const aiSdkAdapterCase: BenchCase = adapterOverheadCase({
  id: 'ai-sdk-adapter',
  title: 'AI SDK adapter: added latency per tool call over the bare AI SDK tool (issue 15)',
  group: 'ai-sdk',
  framework: 'AI SDK',
  bare: { label: 'AI SDK tool: execute (baseline)', call: () => callLikeTheSdk(readFile) },
  gate: {
    label: 'runtime.call of the same tool (the gate alone)',
    run: async ({ path }) => String(path).length,
    args: INPUT,
  },
  wrapped: {
    label: '@ape/ai-sdk wrapped tool: needsApproval + execute through the gate',
    open: (policy, authority) => {
      const ape = createApeAiSdk({ tenant: TENANT, policy, authority });
      const wrapped = ape.thread('bench').tool('read_file', readFile);
      return { ape, call: () => callLikeTheSdk(wrapped) };
    },
    check: expectAnswer(INPUT.path.length),
  },
  notes: [
    'Added latency = wrapped p50 (p99) − bare p50 (p99); each sample is one call as the SDK makes it (needsApproval, then execute).',
    'The wrapped row runs the whole APE gate in calls mode: pre-check, policy, in-memory audit, token issue and consume, usage store.',
    'The gate row is runtime.call alone: the wrapped row minus the gate row is what the adapter itself adds.',
  ],
});
