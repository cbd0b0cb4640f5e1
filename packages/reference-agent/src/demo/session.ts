import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { MemoryAuditSink } from '@ape/audit';
import { AuthorityManager } from '@ape/authority';
import {
  type AgentRuntime,
  type AuditSink,
  createRuntime,
  type EscalationHandler,
  type PolicyEvaluator,
  type UsageStore,
} from '@ape/core';
import { type AgentRunResult, createReferenceAgent } from '../agent.js';
import { createReferenceCallsAgent } from '../calls-agent.js';
import { RuleBasedPlanner } from '../rule-based-planner.js';
import { createToolRegistry, type ToolRegistry } from '../tool-registry.js';
import { createFilesystemTools, type FilesystemTools } from '../tools/filesystem-tools.js';
import { createRecordingTools, type SideEffectLog } from '../tools/recording-tools.js';
import { createFetchUrlTool } from '../tools/web-tools.js';
import type { Workspace } from '../workspace.js';
import type { DemoPolicies } from './policies.js';
import type { DemoStyle } from './style.js';
import { printStep, printTaskError } from './transcript.js';

/** @internal The tenant of the demo's sessions unless a scenario names another. */
export const DEMO_TENANT = 'demo';

/** @internal What a scenario runs with: its own workspace, and the policies, audit sinks and transcript all share. */
export interface DemoContext {
  readonly workspace: Workspace;
  readonly policies: DemoPolicies;
  /** The audit sink every runtime writes to: the JSONL file and a memory copy the transcript reads. */
  readonly audit: AuditSink;
  readonly memory: MemoryAuditSink;
  readonly interactive: boolean;
  readonly style: DemoStyle;
  line(text?: string): void;
}

/** @internal The tools of one session, and what they recorded. */
export interface SessionTools {
  readonly registry: ToolRegistry;
  readonly filesystem: FilesystemTools;
  readonly log: SideEffectLog;
}

function createSessionTools(workspace: Workspace): SessionTools {
  const filesystem = createFilesystemTools(workspace);
  const recording = createRecordingTools();
  const registry = createToolRegistry([
    filesystem.readFile,
    filesystem.writeFile,
    filesystem.listDirectory,
    filesystem.deleteFile,
    createFetchUrlTool(),
    recording.sendEmail,
    recording.deployProduction,
  ]);
  return { registry, filesystem, log: recording.log };
}

/**
 * @internal The lineage a session belongs to: the usage store its sessions share, the lineage id and,
 * for a session started after another ended, the first session of the chain it continues.
 */
export interface DemoLineage {
  readonly usage: UsageStore;
  readonly lineage: string;
  readonly continuesSession?: string;
}

/**
 * @internal One runtime per agent session: its own authority, the shared audit sink, the given
 * approver. `policy` is a file of the demo's policies or a policy built in the demo's code.
 */
export function createSession(
  context: DemoContext,
  scenario: string,
  policy: string | PolicyEvaluator,
  escalation: EscalationHandler | undefined,
  tenant = DEMO_TENANT,
  lineage?: DemoLineage,
): AgentRuntime {
  return createRuntime({
    tenant,
    policy: typeof policy === 'string' ? context.policies.policy(policy) : policy,
    authority: new AuthorityManager({ tenant }),
    audit: context.audit,
    ...(escalation === undefined ? {} : { escalation }),
    ...(lineage === undefined ? {} : lineage),
    sessionId: `${scenario}-${randomUUID().slice(0, 8)}`,
    escalationTimeoutMs: context.interactive ? 300_000 : 5_000,
  });
}

/** @internal Audit records of one session, from the memory copy. */
export function sessionRecords(context: DemoContext, session: string) {
  return context.memory.records().filter((record) => record.session === session);
}

/** @internal Whether `path` exists in the scenario's workspace. */
export function fileExists(context: DemoContext, path: string): boolean {
  return existsSync(context.workspace.resolve(path));
}

/** What a demo task leaves: the agent's result, its runtime and its tools. */
interface TaskRun {
  readonly result: AgentRunResult;
  readonly runtime: AgentRuntime;
  readonly tools: SessionTools;
}

/** Runs `task` with the agent `create` makes on `runtime` (plan or calls mode), printing the task, each step and any error. */
async function runAgentTask(
  context: DemoContext,
  runtime: AgentRuntime,
  tools: SessionTools,
  task: string,
  create: typeof createReferenceAgent | typeof createReferenceCallsAgent,
): Promise<TaskRun> {
  const agent = create({
    runtime,
    tools: tools.registry,
    planner: new RuleBasedPlanner(),
    onStep: (record) => printStep(context, sessionRecords(context, runtime.sessionId), record),
  });
  context.line(`  ${context.style.dim('task')} ${task}`);
  const result = await agent.run(task);
  printTaskError(context, result);
  return { result, runtime, tools };
}

/** @internal Runs one task with a fresh runtime and agent, printing each step. */
export async function runTask(
  context: DemoContext,
  scenario: string,
  policyFile: string,
  task: string,
  escalation?: EscalationHandler,
): Promise<TaskRun> {
  const tools = createSessionTools(context.workspace);
  const runtime = createSession(context, scenario, policyFile, escalation);
  return runAgentTask(context, runtime, tools, task, createReferenceAgent);
}

/**
 * @internal Runs one task in calls mode (`createReferenceCallsAgent`: the planner proposes one call
 * at a time) with a fresh runtime, in `lineage` when given, printing each call.
 */
export async function runCallsTask(
  context: DemoContext,
  scenario: string,
  policy: PolicyEvaluator,
  task: string,
  escalation: EscalationHandler,
  lineage: DemoLineage,
): Promise<TaskRun> {
  const tools = createSessionTools(context.workspace);
  const runtime = createSession(context, scenario, policy, escalation, DEMO_TENANT, lineage);
  return runAgentTask(context, runtime, tools, task, createReferenceCallsAgent);
}
