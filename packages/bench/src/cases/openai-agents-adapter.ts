import { AuthorityManager } from '@ape/authority';
import { type AgentRuntime, createRuntime, type PolicyEvaluator } from '@ape/core';
import { type ApeOpenAIAgents, createApeOpenAIAgents } from '@ape/openai-agents';
import { compilePolicy } from '@ape/policy';
import { type FunctionTool, RunContext, tool } from '@openai/agents';
import { z } from 'zod';
import { measureAsync, type Settings } from '../harness.js';
import { formatDuration, measuredRow, type Row, type Stats, type TargetResult } from '../report.js';
import type { BenchCase } from './context.js';
import { caseResult } from './shared.js';

/** Issue 15's goal: what the adapter adds per tool call over the bare OpenAI Agents tool, at the median. */
const ADDED_P50_LIMIT_US = 20;

/** Calls per conversation: a new thread (not timed) starts when one runs out, so its chain stays short. */
const CALLS_PER_THREAD = 1000;

const TENANT = 'bench';
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

async function measureBare(settings: Settings): Promise<Stats> {
  await callLikeTheSdk(readFile);
  return measureAsync('openai-agents:bare', () => callLikeTheSdk(readFile), settings);
}

/** A fresh adapter (its in-memory audit sink starts empty) and one conversation's wrapped tool. */
function openThread(
  policy: PolicyEvaluator,
  authority: AuthorityManager,
): { ape: ApeOpenAIAgents; wrapped: AnyTool } {
  const ape = createApeOpenAIAgents({ tenant: TENANT, policy, authority });
  return { ape, wrapped: ape.thread('bench').tool(readFile) };
}

async function measureWrapped(settings: Settings): Promise<Stats> {
  const policy = compilePolicy({ version: 1, name: 'bench_openai_agents', allowed_actions: ['read_file'] });
  const authority = new AuthorityManager({ tenant: TENANT });
  let calls = 0;
  let { ape, wrapped } = openThread(policy, authority);
  const checked = await callLikeTheSdk(wrapped);
  if (checked !== INPUT.path.length) throw new Error(`the wrapped call was refused: ${String(checked)}`);
  try {
    return await measureAsync('openai-agents:ape', () => callLikeTheSdk(wrapped), settings, {
      hooks: {
        async beforeEach() {
          if (++calls < CALLS_PER_THREAD) return;
          calls = 0;
          await ape.close();
          ({ ape, wrapped } = openThread(policy, authority));
        },
      },
    });
  } finally {
    await ape.close();
  }
}

/** The APE gate alone: `runtime.call` of the same tool in calls mode, no adapter. */
async function measureGate(settings: Settings): Promise<Stats> {
  const policy = compilePolicy({ version: 1, name: 'bench_openai_agents', allowed_actions: ['read_file'] });
  const authority = new AuthorityManager({ tenant: TENANT });
  const run = async ({ path }: Readonly<Record<string, unknown>>) => String(path).length;
  const open = async (): Promise<AgentRuntime> => {
    const runtime = createRuntime({ tenant: TENANT, policy, authority });
    await runtime.setIntent(
      { allowed_actions: ['read_file'], forbidden_actions: [], scope: 'bench' },
      { provenance: 'SYSTEM_TRUSTED' },
    );
    return runtime;
  };
  let calls = 0;
  let runtime = await open();
  const call = () => runtime.call('read_file', run, { args: INPUT, provenance: 'USER_TRUSTED' });
  await call();
  return measureAsync('openai-agents:gate', call, settings, {
    hooks: {
      async beforeEach() {
        if (++calls < CALLS_PER_THREAD) return;
        calls = 0;
        await runtime.terminate();
        runtime = await open();
      },
    },
  });
}

async function rowOf(fields: Omit<Row, 'status' | 'stats'>, measure: () => Promise<Stats>): Promise<Row> {
  try {
    return measuredRow({ ...fields, stats: await measure() });
  } catch (error) {
    return { ...fields, status: 'failed', note: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * Issue 15: the cost `@ape/openai-agents` adds to one OpenAI Agents tool call (the SDK's `needsApproval`
 * and `invoke` of the wrapped tool: the pre-check, the gate with its in-memory audit, token and usage
 * store) over the same tool called bare, measured in the same run.
 */
export const openaiAgentsAdapterCase: BenchCase = {
  id: 'openai-agents-adapter',
  title: 'OpenAI Agents adapter: added latency per tool call over the bare OpenAI Agents tool (issue 15)',
  async run({ settings }) {
    const bare = await rowOf(
      {
        id: 'openai-agents:bare',
        engine: 'node',
        label: 'OpenAI Agents function tool: needsApproval + invoke (baseline)',
        group: 'openai-agents',
      },
      () => measureBare(settings),
    );
    const gate = await rowOf(
      {
        id: 'openai-agents:gate',
        engine: 'ape',
        label: 'runtime.call of the same tool (the gate alone)',
        group: 'openai-agents',
      },
      () => measureGate(settings),
    );
    const wrapped = await rowOf(
      {
        id: 'openai-agents:ape',
        engine: 'ape',
        label: '@ape/openai-agents wrapped tool: needsApproval + invoke through the gate',
        group: 'openai-agents',
      },
      () => measureWrapped(settings),
    );
    const addedP50 =
      bare.stats === undefined || wrapped.stats === undefined
        ? undefined
        : wrapped.stats.p50Us - bare.stats.p50Us;
    const addedP99 =
      bare.stats === undefined || wrapped.stats === undefined
        ? undefined
        : wrapped.stats.p99Us - bare.stats.p99Us;
    const rows: Row[] = [
      bare,
      gate,
      addedP50 === undefined || addedP99 === undefined
        ? wrapped
        : {
            ...wrapped,
            extra: { addedP50Us: Number(addedP50.toFixed(2)), addedP99Us: Number(addedP99.toFixed(2)) },
            note: `adds ${formatDuration(addedP50)} p50, ${formatDuration(addedP99)} p99 per call`,
          },
    ];
    const goal = `≤ ${formatDuration(ADDED_P50_LIMIT_US)} p50`;
    const target: TargetResult =
      addedP50 === undefined
        ? {
            id: 'openai-agents-added-p50',
            description: 'issue 15: added latency per OpenAI Agents tool call, in memory (p50)',
            goal,
            measured: 'not measured',
            met: null,
            note: (bare.stats === undefined ? bare.note : wrapped.note) ?? 'a row was not measured',
          }
        : {
            id: 'openai-agents-added-p50',
            description: 'issue 15: added latency per OpenAI Agents tool call, in memory (p50)',
            goal,
            measured: formatDuration(addedP50),
            met: addedP50 <= ADDED_P50_LIMIT_US,
          };
    return caseResult(
      openaiAgentsAdapterCase,
      rows,
      [target],
      [
        'Added latency = wrapped p50 (p99) − bare p50 (p99); each sample is one call as the SDK makes it (needsApproval, then invoke with the model JSON arguments).',
        'The wrapped row runs the whole APE gate in calls mode: pre-check, policy, in-memory audit, token issue and consume, usage store.',
        'The gate row is runtime.call alone: the wrapped row minus the gate row is what the adapter itself adds.',
      ],
    );
  },
};
