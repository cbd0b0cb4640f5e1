import { existsSync } from 'node:fs';
import { AuthorityManager } from '@ape/authority';
import {
  createInMemoryAuditSink,
  createRuntime,
  type EscalationHandler,
  type PolicyEvaluator,
} from '@ape/core';
import { CallbackEscalation } from '@ape/escalation';
import { compilePolicy } from '@ape/policy';
import { afterEach, describe, expect, it, type Mock, vi } from 'vitest';
import { createReferenceCallsAgent } from './calls-agent.js';
import type { CallPlanner } from './planner.js';
import { RuleBasedPlanner } from './rule-based-planner.js';
import { createToolRegistry } from './tool-registry.js';
import { type AgentTool, defineAgentTool } from './tools/agent-tool.js';
import { createFilesystemTools } from './tools/filesystem-tools.js';
import { createRecordingTools } from './tools/recording-tools.js';
import { createWorkspace, type Workspace } from './workspace.js';

const workspaces: Workspace[] = [];
afterEach(() => {
  for (const workspace of workspaces.splice(0)) workspace.dispose();
});

function spied<Output>(original: AgentTool<Output>): { tool: AgentTool<Output>; run: Mock } {
  const run = vi.fn(original.tool.run);
  return {
    tool: defineAgentTool({
      id: original.id,
      description: original.description,
      argsSchema: original.argsSchema,
      outputLabel: original.tool.outputLabel,
      run,
    }),
    run,
  };
}

/** Reads and lists are allowed, writes too (trusted content), deletes need a human, e-mail is denied. */
const POLICY = compilePolicy({
  version: 1,
  name: 'calls-agent-test',
  allowed_actions: ['read_file', 'list_directory', 'write_file'],
  forbidden_actions: ['send_email'],
  escalation_required: ['delete_file'],
});

function setup(
  options: {
    policy?: PolicyEvaluator;
    escalation?: EscalationHandler;
    planner?: CallPlanner;
    maxCalls?: number;
  } = {},
) {
  const workspace = createWorkspace({
    files: { '/workspace/notes.txt': 'notes', '/workspace/old-draft.txt': 'draft' },
  });
  workspaces.push(workspace);
  const filesystem = createFilesystemTools(workspace);
  const recording = createRecordingTools();
  const spies = {
    read_file: spied(filesystem.readFile),
    write_file: spied(filesystem.writeFile),
    list_directory: spied(filesystem.listDirectory),
    delete_file: spied(filesystem.deleteFile),
    send_email: spied(recording.sendEmail),
  };
  const audit = createInMemoryAuditSink();
  const runtime = createRuntime({
    tenant: 'test',
    policy: options.policy ?? POLICY,
    authority: new AuthorityManager({ tenant: 'test' }),
    audit,
    ...(options.escalation === undefined ? {} : { escalation: options.escalation }),
  });
  const agent = createReferenceCallsAgent({
    runtime,
    tools: createToolRegistry(Object.values(spies).map((entry) => entry.tool)),
    planner: options.planner ?? new RuleBasedPlanner(),
    ...(options.maxCalls === undefined ? {} : { maxCalls: options.maxCalls }),
  });
  const exists = (path: string) => existsSync(workspace.resolve(path));
  return { agent, runtime, spies, audit, exists };
}

function approver(approved: boolean): EscalationHandler {
  return new CallbackEscalation({ decide: () => approved, timeoutMs: 5_000 });
}

describe('createReferenceCallsAgent', () => {
  it('runs an allowed task one call at a time in a calls-mode session, binding labelled outputs', async () => {
    const { agent, runtime, spies, audit, exists } = setup();
    const result = await agent.run('copy /workspace/notes.txt to /workspace/copy.txt');
    expect(result.mode).toBe('calls');
    // The copied content came from a tool's output: it reaches write_file untrusted, and this policy allows it.
    expect(result.status).toBe('completed');
    expect(result.steps.map((step) => [step.action, step.outcome])).toEqual([
      ['read_file', 'executed'],
      ['write_file', 'executed'],
    ]);
    expect(result.steps[1]?.provenance).toBe('EXTERNAL_UNTRUSTED');
    expect(result.steps[1]?.sources).toEqual(['tool:read_file']);
    expect(result.plan?.steps.map((step) => step.action_id)).toEqual(['read_file', 'write_file']);
    expect(exists('/workspace/copy.txt')).toBe(true);
    expect(spies.write_file.run).toHaveBeenCalledOnce();
    expect(runtime.sessionMode).toBe('calls');
    expect(runtime.state).toBe('TERMINATED');
    const types = audit.events.map((event) => event.type);
    expect(types.filter((type) => type === 'plan.extended')).toHaveLength(2);
    expect(types).not.toContain('plan.approved');
  });

  it('goes on after a denied call: the e-mail never runs, the next clause does', async () => {
    const { agent, runtime, spies, exists } = setup();
    const result = await agent.run(
      'e-mail /workspace/notes.txt to dana@example.com, then write "done" to /workspace/todo.md',
    );
    expect(result.status).toBe('refused');
    expect(result.steps.map((step) => [step.action, step.outcome])).toEqual([
      ['read_file', 'executed'],
      ['send_email', 'refused'],
      ['write_file', 'executed'],
    ]);
    expect(result.steps[1]?.error?.code).toBe('POLICY_DENY');
    expect(result.steps[1]?.error?.rules).toContain('forbidden_actions[0]');
    expect(spies.send_email.run).not.toHaveBeenCalled();
    expect(exists('/workspace/todo.md')).toBe(true);
    expect(runtime.state).toBe('TERMINATED');
  });

  it('skips the rest of a clause whose call was refused, and never binds a missing output', async () => {
    const policy = compilePolicy({ version: 1, allowed_actions: ['write_file', 'list_directory'] });
    const { agent, spies } = setup({ policy });
    const result = await agent.run('copy /workspace/notes.txt to /workspace/copy.txt, then list /workspace');
    expect(result.steps.map((step) => [step.action, step.outcome])).toEqual([
      ['read_file', 'refused'],
      ['list_directory', 'executed'],
    ]);
    expect(result.steps[0]?.error?.rules).toEqual(['default']);
    expect(spies.read_file.run).not.toHaveBeenCalled();
    expect(spies.write_file.run).not.toHaveBeenCalled();
  });

  it('runs an escalated call once a human approves it', async () => {
    const { agent, spies, exists } = setup({ escalation: approver(true) });
    const result = await agent.run('delete /workspace/old-draft.txt');
    expect(result.status).toBe('completed');
    expect(spies.delete_file.run).toHaveBeenCalledOnce();
    expect(exists('/workspace/old-draft.txt')).toBe(false);
  });

  it('stops when an escalation is denied: the session is terminated and no later call is proposed', async () => {
    const { agent, runtime, spies, audit, exists } = setup({ escalation: approver(false) });
    const result = await agent.run('delete /workspace/old-draft.txt, then list /workspace');
    expect(result.status).toBe('refused');
    expect(result.steps).toHaveLength(1);
    expect(result.steps[0]?.error?.code).toBe('ESCALATION_DENIED');
    expect(spies.delete_file.run).not.toHaveBeenCalled();
    expect(spies.list_directory.run).not.toHaveBeenCalled();
    expect(exists('/workspace/old-draft.txt')).toBe(true);
    expect(runtime.state).toBe('TERMINATED');
    expect(audit.events.some((event) => event.type === 'escalation.denied')).toBe(true);
  });

  it('refuses an intent the task cannot vouch for, before any call', async () => {
    const { agent, spies } = setup();
    const result = await agent.run({ text: 'read /workspace/notes.txt', provenance: 'EXTERNAL_UNTRUSTED' });
    expect(result.status).toBe('refused');
    expect(result.error?.code).toBe('PROVENANCE');
    expect(result.steps).toEqual([]);
    expect(spies.read_file.run).not.toHaveBeenCalled();
  });

  it('fails with PLAN_INVALID when the planner proposes a tool that does not exist, and runs nothing', async () => {
    const planner: CallPlanner = {
      intent: () => ({ allowed_actions: ['read_file'], forbidden_actions: [], scope: 'test' }),
      next: () => ({ action_id: 'format_disk', args: {} }),
    };
    const { agent, spies } = setup({ planner });
    const result = await agent.run('anything');
    expect(result.status).toBe('failed');
    expect(result.error).toMatchObject({ code: 'PLAN_INVALID' });
    expect(spies.read_file.run).not.toHaveBeenCalled();
  });

  it('stops a planner that never finishes after maxCalls calls with PLAN_INVALID', async () => {
    const planner: CallPlanner = {
      intent: () => ({ allowed_actions: ['list_directory'], forbidden_actions: [], scope: 'test' }),
      next: () => ({ action_id: 'list_directory', args: { path: '/workspace' } }),
    };
    const { agent, spies } = setup({ planner, maxCalls: 3 });
    const result = await agent.run('loop');
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('PLAN_INVALID');
    expect(result.steps).toHaveLength(3);
    expect(spies.list_directory.run).toHaveBeenCalledTimes(3);
  });

  it('refuses a maxCalls that is not a positive whole number with PLAN_INVALID', () => {
    expect(() => setup({ maxCalls: 0 })).toThrow(expect.objectContaining({ code: 'PLAN_INVALID' }));
  });

  it('reports a planner that throws as failed with its error', async () => {
    const planner: CallPlanner = {
      intent: () => ({ allowed_actions: ['read_file'], forbidden_actions: [], scope: 'test' }),
      next: () => {
        throw new Error('model offline');
      },
    };
    const { agent } = setup({ planner });
    const result = await agent.run('anything');
    expect(result.status).toBe('failed');
    expect(result.error).toMatchObject({ code: 'INTERNAL', message: 'model offline' });
  });
});
