import { AuthorityManager } from '@ape/authority';
import { type AgentRuntime, createRuntime, type PolicyEvaluator } from '@ape/core';
import { type ApeLangChain, createApeLangChain } from '@ape/langchain';
import { compilePolicy } from '@ape/policy';
import type { ToolMessage } from '@langchain/core/messages';
import { tool } from '@langchain/core/tools';
import { z } from 'zod';
import { measureAsync, type Settings } from '../harness.js';
import { formatDuration, measuredRow, type Row, type Stats, type TargetResult } from '../report.js';
import type { BenchCase } from './context.js';
import { caseResult } from './shared.js';

/** Issue 15's goal: what the adapter adds per tool call over the bare LangChain tool call, at the median. */
const ADDED_P50_LIMIT_US = 20;

/** Calls per thread: a new adapter (not timed) starts when one runs out, so its chain stays short. */
const CALLS_PER_THREAD = 1000;

const TENANT = 'bench';
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
function open(policy: PolicyEvaluator, authority: AuthorityManager) {
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

async function measureWrapped(settings: Settings): Promise<Stats> {
  const policy = compilePolicy({ version: 1, name: 'bench_langchain', allowed_actions: ['read_file'] });
  const authority = new AuthorityManager({ tenant: TENANT });
  let calls = 0;
  let { ape, call } = open(policy, authority);
  const checked = await call();
  if (checked.content !== String(CALL.args.path.length)) {
    throw new Error(`the wrapped call was refused: ${String(checked.content)}`);
  }
  try {
    return await measureAsync('langchain:ape', () => call(), settings, {
      hooks: {
        async beforeEach() {
          if (++calls < CALLS_PER_THREAD) return;
          calls = 0;
          await ape.close();
          ({ ape, call } = open(policy, authority));
        },
      },
    });
  } finally {
    await ape.close();
  }
}

/** The APE gate alone: `runtime.call` of the same tool in calls mode, no adapter. */
async function measureGate(settings: Settings): Promise<Stats> {
  const policy = compilePolicy({ version: 1, name: 'bench_langchain', allowed_actions: ['read_file'] });
  const authority = new AuthorityManager({ tenant: TENANT });
  const run = () => callBare();
  const start = async (): Promise<AgentRuntime> => {
    const runtime = createRuntime({ tenant: TENANT, policy, authority });
    await runtime.setIntent(
      { allowed_actions: ['read_file'], forbidden_actions: [], scope: 'bench' },
      { provenance: 'SYSTEM_TRUSTED' },
    );
    return runtime;
  };
  let calls = 0;
  let runtime = await start();
  const call = () => runtime.call('read_file', run, { args: CALL.args, provenance: 'USER_TRUSTED' });
  await call();
  return measureAsync('langchain:gate', call, settings, {
    hooks: {
      async beforeEach() {
        if (++calls < CALLS_PER_THREAD) return;
        calls = 0;
        await runtime.terminate();
        runtime = await start();
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
 * Issue 15: the cost `@ape/langchain` adds to one LangChain tool call (the middleware's
 * `wrapToolCall`: provenance, the pre-check, the gate with its in-memory audit, token and usage
 * store) over the same tool invoked bare with its ToolCall, measured in the same run.
 */
export const langchainAdapterCase: BenchCase = {
  id: 'langchain-adapter',
  title: 'LangChain adapter: added latency per tool call over the bare LangChain tool call (issue 15)',
  async run({ settings }) {
    const bare = await rowOf(
      {
        id: 'langchain:bare',
        engine: 'node',
        label: 'LangChain tool: invoke(ToolCall) (baseline)',
        group: 'langchain',
      },
      async () => {
        await callBare();
        return measureAsync('langchain:bare', callBare, settings);
      },
    );
    const gate = await rowOf(
      {
        id: 'langchain:gate',
        engine: 'ape',
        label: 'runtime.call of the same tool call (the gate alone)',
        group: 'langchain',
      },
      () => measureGate(settings),
    );
    const wrapped = await rowOf(
      {
        id: 'langchain:ape',
        engine: 'ape',
        label: '@ape/langchain middleware: wrapToolCall through the gate',
        group: 'langchain',
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
    const description = 'issue 15: added latency per LangChain tool call, in memory (p50)';
    const goal = `≤ ${formatDuration(ADDED_P50_LIMIT_US)} p50`;
    const target: TargetResult =
      addedP50 === undefined
        ? {
            id: 'langchain-added-p50',
            description,
            goal,
            measured: 'not measured',
            met: null,
            note: (bare.stats === undefined ? bare.note : wrapped.note) ?? 'a row was not measured',
          }
        : {
            id: 'langchain-added-p50',
            description,
            goal,
            measured: formatDuration(addedP50),
            met: addedP50 <= ADDED_P50_LIMIT_US,
          };
    return caseResult(
      langchainAdapterCase,
      rows,
      [target],
      [
        "Added latency = wrapped p50 (p99) − bare p50 (p99); each sample is one tool call as LangChain's ToolNode makes it (bare: tool.invoke(ToolCall); wrapped: the middleware's wrapToolCall around that invoke).",
        'The wrapped row runs the whole APE gate in calls mode: provenance, pre-check, policy, in-memory audit, token issue and consume, usage store.',
        'The gate row is runtime.call around the same invoke: the wrapped row minus the gate row is what the adapter itself adds.',
      ],
    );
  },
};
