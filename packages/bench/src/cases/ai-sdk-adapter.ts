import { type ApeAiSdk, createApeAiSdk } from '@ape/ai-sdk';
import { AuthorityManager } from '@ape/authority';
import { type AgentRuntime, createRuntime, type PolicyEvaluator } from '@ape/core';
import { compilePolicy } from '@ape/policy';
import { type Tool, type ToolExecutionOptions, tool } from 'ai';
import { z } from 'zod';
import { measureAsync, type Settings } from '../harness.js';
import { formatDuration, measuredRow, type Row, type Stats, type TargetResult } from '../report.js';
import type { BenchCase } from './context.js';
import { caseResult } from './shared.js';

/** Issue 15's goal: what the adapter adds per tool call over the bare AI SDK tool, at the median. */
const ADDED_P50_LIMIT_US = 20;

/** Calls per conversation: a new thread (not timed) starts when one runs out, so its chain stays short. */
const CALLS_PER_THREAD = 1000;

const TENANT = 'bench';
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

async function measureBare(settings: Settings): Promise<Stats> {
  await callLikeTheSdk(readFile);
  return measureAsync('ai-sdk:bare', () => callLikeTheSdk(readFile), settings);
}

/** A fresh adapter (its in-memory audit sink starts empty) and one conversation's wrapped tool. */
function openThread(policy: PolicyEvaluator, authority: AuthorityManager): { ape: ApeAiSdk; wrapped: Tool } {
  const ape = createApeAiSdk({ tenant: TENANT, policy, authority });
  return { ape, wrapped: ape.thread('bench').tool('read_file', readFile) };
}

async function measureWrapped(settings: Settings): Promise<Stats> {
  const policy = compilePolicy({ version: 1, name: 'bench_ai_sdk', allowed_actions: ['read_file'] });
  const authority = new AuthorityManager({ tenant: TENANT });
  let calls = 0;
  let { ape, wrapped } = openThread(policy, authority);
  const checked = await callLikeTheSdk(wrapped);
  if (checked !== INPUT.path.length) throw new Error(`the wrapped call was refused: ${String(checked)}`);
  try {
    return await measureAsync('ai-sdk:ape', () => callLikeTheSdk(wrapped), settings, {
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
  const policy = compilePolicy({ version: 1, name: 'bench_ai_sdk', allowed_actions: ['read_file'] });
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
  return measureAsync('ai-sdk:gate', call, settings, {
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
 * Issue 15: the cost `@ape/ai-sdk` adds to one AI SDK tool call (the SDK's `needsApproval` and
 * `execute` of the wrapped tool: the pre-check, the gate with its in-memory audit, token and usage
 * store) over the same tool called bare, measured in the same run.
 */
export const aiSdkAdapterCase: BenchCase = {
  id: 'ai-sdk-adapter',
  title: 'AI SDK adapter: added latency per tool call over the bare AI SDK tool (issue 15)',
  async run({ settings }) {
    const bare = await rowOf(
      { id: 'ai-sdk:bare', engine: 'node', label: 'AI SDK tool: execute (baseline)', group: 'ai-sdk' },
      () => measureBare(settings),
    );
    const gate = await rowOf(
      {
        id: 'ai-sdk:gate',
        engine: 'ape',
        label: 'runtime.call of the same tool (the gate alone)',
        group: 'ai-sdk',
      },
      () => measureGate(settings),
    );
    const wrapped = await rowOf(
      {
        id: 'ai-sdk:ape',
        engine: 'ape',
        label: '@ape/ai-sdk wrapped tool: needsApproval + execute through the gate',
        group: 'ai-sdk',
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
            id: 'ai-sdk-added-p50',
            description: 'issue 15: added latency per AI SDK tool call, in memory (p50)',
            goal,
            measured: 'not measured',
            met: null,
            note: (bare.stats === undefined ? bare.note : wrapped.note) ?? 'a row was not measured',
          }
        : {
            id: 'ai-sdk-added-p50',
            description: 'issue 15: added latency per AI SDK tool call, in memory (p50)',
            goal,
            measured: formatDuration(addedP50),
            met: addedP50 <= ADDED_P50_LIMIT_US,
          };
    return caseResult(
      aiSdkAdapterCase,
      rows,
      [target],
      [
        'Added latency = wrapped p50 (p99) − bare p50 (p99); each sample is one call as the SDK makes it (needsApproval, then execute).',
        'The wrapped row runs the whole APE gate in calls mode: pre-check, policy, in-memory audit, token issue and consume, usage store.',
        'The gate row is runtime.call alone: the wrapped row minus the gate row is what the adapter itself adds.',
      ],
    );
  },
};
