import { PassThrough } from 'node:stream';
import { AuthorityManager } from '@ape/authority';
import type { AuditEvent, EscalationHandler } from '@ape/core';
import { ApeError, createInMemoryAuditSink, createRuntime } from '@ape/core';
import { CallbackEscalation, ConsoleEscalation, DenyAllEscalation, QueueEscalation } from '@ape/escalation';
import { compilePolicy } from '@ape/policy';
import { describe, expect, it, vi } from 'vitest';

// The escalation path end to end, as a host wires it: the real runtime of @ape/core, a compiled
// @ape/policy, the @ape/authority token manager and each @ape/escalation handler, all built packages.

const policy = compilePolicy({
  version: 1,
  name: 'escalation-e2e',
  allowed_actions: ['read_file'],
  escalation_required: ['deploy_production'],
});

const intent = {
  allowed_actions: ['deploy_production', 'read_file'],
  forbidden_actions: [],
  scope: 'escalation end-to-end tests',
};

const plan = {
  steps: [
    { action_id: 'deploy_production', args: { target: 'production' } },
    { action_id: 'read_file', args: { path: '/workspace/a.txt' } },
  ],
};

async function session(escalation?: EscalationHandler) {
  const audit = createInMemoryAuditSink();
  const runtime = createRuntime({
    tenant: 'acme',
    policy,
    authority: new AuthorityManager({ tenant: 'acme' }),
    audit,
    ...(escalation === undefined ? {} : { escalation }),
  });
  await runtime.setIntent(intent, { provenance: 'USER_TRUSTED' });
  await runtime.submitPlan(plan, { provenance: 'USER_TRUSTED' });
  const deploy = vi.fn(() => 'deployed');
  const read = vi.fn(() => 'contents');
  const deployStep = () =>
    runtime.executeStep(0, deploy, { args: { target: 'production' }, provenance: 'USER_TRUSTED' });
  return { audit, runtime, deploy, read, deployStep };
}

function types(events: readonly AuditEvent[]): string[] {
  return events.map((event) => event.type);
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return ApeError.isInstance(error) ? error.code : 'not an ApeError';
  }
  return 'resolved';
}

async function expectDeniedAndTerminated(context: Awaited<ReturnType<typeof session>>): Promise<void> {
  const { audit, runtime, deploy, read } = context;
  expect(deploy).not.toHaveBeenCalled();
  expect(runtime.state).toBe('TERMINATED');
  expect(types(audit.events)).toEqual(
    expect.arrayContaining([
      'escalation.requested',
      'escalation.denied',
      'token.revoked',
      'session.terminated',
    ]),
  );
  expect(types(audit.events)).not.toContain('escalation.approved');
  expect(await codeOf(runtime.executeStep(1, read, { args: { path: '/workspace/a.txt' } }))).toBe(
    'RUNTIME_STATE',
  );
  expect(read).not.toHaveBeenCalled();
}

describe('escalation through the real runtime', () => {
  it('runs the step after a queue approval and resumes executing', async () => {
    const queue = new QueueEscalation({ timeoutMs: 10_000 });
    const context = await session(queue);
    const pending = context.deployStep();
    await vi.waitFor(() => expect(queue.pending()).toHaveLength(1));
    expect(context.runtime.state).toBe('ESCALATION_REQUIRED');
    expect(context.deploy).not.toHaveBeenCalled();
    const [escalation] = queue.pending();
    expect(escalation?.request).toMatchObject({ tenant: 'acme', stepIndex: 0, action: 'deploy_production' });
    queue.approve(escalation?.id ?? '', { approver: 'alice@example.com', reason: 'release 1.2' });
    const output = await pending;
    expect(output.value).toBe('deployed');
    expect(context.deploy).toHaveBeenCalledTimes(1);
    expect(context.runtime.state).toBe('EXECUTING');
    const approved = context.audit.events.find((event) => event.type === 'escalation.approved');
    expect(approved?.data).toMatchObject({ approver: 'alice@example.com', provenance: 'USER_TRUSTED' });
    await context.runtime.executeStep(1, context.read, { args: { path: '/workspace/a.txt' } });
    expect(context.read).toHaveBeenCalledTimes(1);
  });

  it('terminates the session and never runs the tool when the queue denies', async () => {
    const queue = new QueueEscalation({ timeoutMs: 10_000 });
    const context = await session(queue);
    const pending = context.deployStep();
    await vi.waitFor(() => expect(queue.pending()).toHaveLength(1));
    queue.deny(queue.pending()[0]?.id ?? '', { approver: 'alice@example.com', reason: 'not today' });
    expect(await codeOf(pending)).toBe('ESCALATION_DENIED');
    await expectDeniedAndTerminated(context);
  });

  it('denies with the default handler when none is configured', async () => {
    const context = await session();
    expect(await codeOf(context.deployStep())).toBe('ESCALATION_DENIED');
    await expectDeniedAndTerminated(context);
  });

  it('denies with DenyAllEscalation, recording "deny-all" as the approver', async () => {
    const context = await session(new DenyAllEscalation());
    expect(await codeOf(context.deployStep())).toBe('ESCALATION_DENIED');
    await expectDeniedAndTerminated(context);
    const denied = context.audit.events.find((event) => event.type === 'escalation.denied');
    expect(denied?.data).toMatchObject({ approver: 'deny-all' });
  });

  it('refuses an approval labelled EXTERNAL_UNTRUSTED: data never grants authority', async () => {
    const decide = () => ({
      approved: true,
      approver: 'email-parser',
      provenance: 'EXTERNAL_UNTRUSTED' as const,
    });
    const context = await session(new CallbackEscalation({ decide }));
    const pending = context.deployStep();
    await expect(pending).rejects.toMatchObject({
      code: 'ESCALATION_DENIED',
      details: { reason: 'untrusted_approval' },
    });
    await expectDeniedAndTerminated(context);
  });

  it('refuses a callback approval whose provenance is missing (normalised to EXTERNAL_UNTRUSTED)', async () => {
    const decide = () => ({ approved: true, approver: 'bot' }) as never;
    const context = await session(new CallbackEscalation({ decide }));
    await expect(context.deployStep()).rejects.toMatchObject({ details: { reason: 'untrusted_approval' } });
    await expectDeniedAndTerminated(context);
  });

  it('terminates the session when the callback throws', async () => {
    const decide = () => {
      throw new Error('approval service down');
    };
    const context = await session(new CallbackEscalation({ decide }));
    expect(await codeOf(context.deployStep())).toBe('ESCALATION_DENIED');
    await expectDeniedAndTerminated(context);
    const denied = context.audit.events.find((event) => event.type === 'escalation.denied');
    expect(String(denied?.data['reason'])).toMatch(/approval service down/);
  });

  it('terminates the session when the callback times out', async () => {
    const context = await session(
      new CallbackEscalation({ decide: () => new Promise<boolean>(() => {}), timeoutMs: 5 }),
    );
    expect(await codeOf(context.deployStep())).toBe('ESCALATION_DENIED');
    await expectDeniedAndTerminated(context);
    const denied = context.audit.events.find((event) => event.type === 'escalation.denied');
    expect(denied?.data).toMatchObject({ approver: 'timeout' });
  });

  it('runs the step after a "y" at a terminal', async () => {
    const input = Object.assign(new PassThrough(), { isTTY: true });
    input.write('y\n');
    const context = await session(
      new ConsoleEscalation({ input, output: new PassThrough(), approver: 'alice' }),
    );
    expect((await context.deployStep()).value).toBe('deployed');
    expect(context.deploy).toHaveBeenCalledTimes(1);
  });

  it('terminates the session when the terminal is not a TTY, even with a "y" piped in', async () => {
    const input = new PassThrough();
    input.write('y\n');
    const context = await session(new ConsoleEscalation({ input, output: new PassThrough() }));
    expect(await codeOf(context.deployStep())).toBe('ESCALATION_DENIED');
    await expectDeniedAndTerminated(context);
  });

  it('empties the queue when the session is terminated while an approval is pending', async () => {
    const queue = new QueueEscalation({ timeoutMs: 10_000 });
    const context = await session(queue);
    const pending = context.deployStep();
    await vi.waitFor(() => expect(queue.pending()).toHaveLength(1));
    const id = queue.pending()[0]?.id ?? '';
    await context.runtime.terminate('operator stopped the agent');
    expect(await codeOf(pending)).toBe('ESCALATION_DENIED');
    expect(queue.pending()).toEqual([]);
    expect(() => queue.approve(id, { approver: 'alice' })).toThrow(
      expect.objectContaining({ code: 'RUNTIME_STATE' }),
    );
    expect(context.deploy).not.toHaveBeenCalled();
  });
});
