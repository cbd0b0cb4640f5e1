import { describe, expect, it, vi } from 'vitest';
import { createInMemoryUsageStore } from '../runtime/in-memory-usage-store.js';
import { FakeClock } from '../testing/fake-clock.js';
import { createFakeAuthority } from '../testing/fake-authority.js';
import { createRecordingAuditSink } from '../testing/recording-audit-sink.js';
import { createStubPolicy } from '../testing/stub-policy.js';
import type { ProvenanceLabel } from '../types.js';
import { AdapterConversation } from './conversation.js';
import type { AdapterFramework } from './conversation-api.js';
import { type AdapterOptions, resolveAdapterOptions } from './options.js';
import { TaintTracker } from './provenance.js';
import { ToolLabels } from './threads.js';

/** A call of the test framework: its arguments and the tool that runs it. */
interface TestCall {
  readonly input: unknown;
  readonly tool: (args: Readonly<Record<string, unknown>>) => Promise<unknown>;
}

const WORDING = Object.freeze({
  idField: 'callId',
  nameField: 'name',
  inputField: 'input',
  request: 'The test request',
  inputDiffers: "The test request's input differs",
  answerOnly: 'answer only what this thread asked.',
  noAnswer: 'no answer was recorded.',
});

function framework(overrides: Partial<AdapterFramework<TestCall>> = {}): AdapterFramework<TestCall> {
  return {
    name: 'Test',
    approver: 'ape-test',
    approvals: WORDING,
    rethrowToolErrors: true,
    inputOf: (call) => call.input,
    messagesOf: () => undefined,
    run: (call, args) => call.tool(args),
    ...overrides,
  };
}

function open(
  given: Partial<AdapterOptions> = {},
  testFramework: AdapterFramework<TestCall> = framework(),
  labels: Readonly<Record<string, ProvenanceLabel>> = {},
) {
  const clock = new FakeClock();
  const audit = createRecordingAuditSink();
  const options = resolveAdapterOptions('createApeTest', {
    tenant: 'acme',
    policy: createStubPolicy({
      decisions: { read_file: 'ALLOW', send_email: 'ESCALATE', delete_file: 'DENY' },
    }),
    authority: createFakeAuthority({ tenant: 'acme', clock }),
    clock,
    escalationTimeoutMs: 1_000,
    ...given,
  });
  const tools = new ToolLabels();
  for (const name of ['read_file', 'send_email', 'delete_file']) tools.register(name, labels[name]);
  const conversation = new AdapterConversation(
    {
      lineage: 'thread-1',
      context: { options, usage: createInMemoryUsageStore(), audit },
      taint: new TaintTracker(options.dataflowMinLength, tools.trusted),
      tools,
      continuesSession: 'conversation:thread-1',
      scope: 'test conversation',
    },
    testFramework,
  );
  return { conversation, audit };
}

describe('AdapterConversation', () => {
  it('runs an allowed call through the gate and taints the conversation with its untrusted output', async () => {
    const { conversation, audit } = open();
    const tool = vi.fn(async () => 'file text');
    const outcome = await conversation.perform('call-1', 'read_file', { input: { path: 'a' }, tool });
    expect(outcome).toEqual({ ran: true, value: 'file text' });
    expect(tool).toHaveBeenCalledWith({ path: 'a' });
    expect(conversation.tainted).toBe(true);
    expect(conversation.lastAction).toBe('read_file');
    expect(audit.ofType('tool.executed')[0]?.data['outputLabel']).toBe('EXTERNAL_UNTRUSTED');
    await conversation.end('done');
  });

  it('does not taint the conversation with the output of a tool declared trusted', async () => {
    const { conversation } = open({}, framework(), { read_file: 'SYSTEM_TRUSTED' });
    await conversation.perform('call-1', 'read_file', { input: {}, tool: async () => 'text' });
    expect(conversation.tainted).toBe(false);
    await conversation.end('done');
  });

  it('refuses a denied call with the denial text and never runs its tool', async () => {
    const { conversation } = open();
    const tool = vi.fn(async () => 'deleted');
    const outcome = await conversation.perform('call-1', 'delete_file', { input: { path: 'a' }, tool });
    expect(outcome.ran).toBe(false);
    expect(outcome.ran === false && outcome.text).toMatch(/^APE denied delete_file: /);
    expect(tool).not.toHaveBeenCalled();
    await conversation.end('done');
  });

  it('throws the APE error instead with onDeny throw (POLICY_DENY), tool not run', async () => {
    const { conversation } = open({ onDeny: 'throw' });
    const tool = vi.fn(async () => 'deleted');
    await expect(conversation.perform('call-1', 'delete_file', { input: {}, tool })).rejects.toMatchObject({
      code: 'POLICY_DENY',
    });
    expect(tool).not.toHaveBeenCalled();
    await conversation.end('done');
  });

  it("rethrows a tool's own error when the framework asks, and refuses it otherwise", async () => {
    const failing = async (): Promise<unknown> => {
      throw new TypeError('disk on fire');
    };
    const rethrowing = open().conversation;
    await expect(rethrowing.perform('call-1', 'read_file', { input: {}, tool: failing })).rejects.toThrow(
      'disk on fire',
    );
    expect(rethrowing.tainted).toBe(true);
    const refusing = open({}, framework({ rethrowToolErrors: false })).conversation;
    const outcome = await refusing.perform('call-1', 'read_file', { input: {}, tool: failing });
    expect(outcome.ran === false && outcome.text).toContain('(TypeError)');
    await Promise.all([rethrowing.end('done'), refusing.end('done')]);
  });

  it('lets an error the framework passes through reach it untouched', async () => {
    const control = new Error('graph interrupt');
    const { conversation } = open(
      {},
      framework({
        admit: () => {
          throw control;
        },
        passesThrough: (error) => error === control,
      }),
    );
    const tool = vi.fn(async () => 'text');
    await expect(conversation.perform('call-1', 'read_file', { input: {}, tool })).rejects.toBe(control);
    expect(tool).not.toHaveBeenCalled();
    await conversation.end('done');
  });

  it('holds a predicted escalation and runs the exact call once a human approved it', async () => {
    const { conversation, audit } = open();
    expect(conversation.expectsEscalation('call-1', 'read_file', { path: 'a' }, undefined)).toBe(false);
    expect(conversation.expectsEscalation('call-2', 'send_email', { to: 'bob' }, undefined)).toBe(true);
    expect(conversation.holds('call-2')).toBe(true);
    expect(conversation.expectsEscalation('call-2', 'send_email', { to: 'eve' }, undefined)).toBe(false);
    expect(conversation.pendingApprovals('callId')).toEqual([
      expect.objectContaining({
        callId: 'call-2',
        action: 'send_email',
        args: { to: 'bob' },
        answered: false,
      }),
    ]);
    const pending = conversation.matching('call-2', 'send_email', { to: 'bob' }, { approver: 'alice' });
    conversation.approve(pending, { approver: 'alice' });
    const tool = vi.fn(async () => 'sent');
    const outcome = await conversation.perform('call-2', 'send_email', { input: { to: 'bob' }, tool });
    expect(outcome).toEqual({ ran: true, value: 'sent' });
    expect(conversation.holds('call-2')).toBe(false);
    expect(audit.ofType('escalation.approved')[0]?.data['approver']).toBe('alice');
    await conversation.end('done');
  });

  it('refuses an answer for a call it does not hold, another tool, other arguments or a second time (UNAUTHORIZED_ACTION)', () => {
    const { conversation } = open();
    conversation.expectsEscalation('call-2', 'send_email', { to: 'bob' }, undefined);
    const answer = { approver: 'alice' };
    const refusal = (id: string | undefined, name: unknown, input: unknown) => {
      try {
        conversation.matching(id, name, input, answer);
        return undefined;
      } catch (error) {
        return error as { code: string; details: Record<string, unknown> };
      }
    };
    expect(refusal('call-9', 'send_email', { to: 'bob' })).toMatchObject({
      code: 'UNAUTHORIZED_ACTION',
      details: { field: 'callId' },
    });
    expect(refusal(undefined, 'send_email', { to: 'bob' })?.code).toBe('UNAUTHORIZED_ACTION');
    expect(refusal('call-2', 'read_file', { to: 'bob' })?.details['field']).toBe('name');
    expect(refusal('call-2', 'send_email', { to: 'eve' })?.details['field']).toBe('input');
    conversation.approve(conversation.matching('call-2', 'send_email', { to: 'bob' }, answer), answer);
    expect(refusal('call-2', 'send_email', { to: 'bob' })?.details['reason']).toBe('answered');
    expect(() => conversation.matching('call-2', 'send_email', { to: 'bob' }, { approver: '' })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
  });

  it('records a human denial at the gate, which ends the session; the next call opens a new one', async () => {
    const { conversation, audit } = open();
    await conversation.perform('call-1', 'read_file', { input: {}, tool: async () => 'text' });
    const first = conversation.sessionId;
    conversation.expectsEscalation('call-2', 'send_email', { to: 'bob' }, undefined);
    const answer = { approver: 'alice', reason: 'no' };
    await conversation.deny(conversation.matching('call-2', 'send_email', { to: 'bob' }, answer), answer);
    expect(conversation.holds('call-2')).toBe(false);
    expect(audit.ofType('escalation.denied').at(-1)?.data['approver']).toBe('alice');
    await conversation.perform('call-3', 'read_file', { input: {}, tool: async () => 'text' });
    expect(conversation.sessionId).not.toBe(first);
    await conversation.end('done');
  });

  it('refuses every call after it ended, and answers to a framework without approvals with RUNTIME_STATE', async () => {
    const { conversation } = open();
    await conversation.end('done');
    expect(conversation.ended).toBe(true);
    const tool = vi.fn(async () => 'text');
    const outcome = await conversation.perform('call-1', 'read_file', { input: {}, tool });
    expect(outcome.ran === false && outcome.text).toContain('was ended');
    expect(tool).not.toHaveBeenCalled();
    const { approvals: _none, ...withoutApprovals } = framework();
    const bare = open({}, withoutApprovals).conversation;
    expect(() => bare.matching('call-1', 'send_email', {}, { approver: 'alice' })).toThrow(
      expect.objectContaining({ code: 'RUNTIME_STATE' }),
    );
  });

  it('ends only the session with endSession: the next call opens a new one in the same lineage', async () => {
    const { conversation } = open();
    await conversation.perform('call-1', 'read_file', { input: {}, tool: async () => 'text' });
    const first = conversation.sessionId;
    await conversation.endSession('restart');
    expect(conversation.sessionId).toBeUndefined();
    const outcome = await conversation.perform('call-2', 'read_file', { input: {}, tool: async () => 'x' });
    expect(outcome.ran).toBe(true);
    expect(conversation.sessionId).not.toBe(first);
    await conversation.end('done');
  });
});

describe('ToolLabels', () => {
  it('records output labels, lists declared-trusted tools live and defaults to EXTERNAL_UNTRUSTED', () => {
    const tools = new ToolLabels();
    expect(tools.register('read_file', 'SYSTEM_TRUSTED')).toBe('SYSTEM_TRUSTED');
    expect(tools.trusted.has('read_file')).toBe(true);
    tools.register('read_file', undefined);
    expect(tools.trusted.has('read_file')).toBe(false);
    expect(tools.labelOf('read_file')).toBe('EXTERNAL_UNTRUSTED');
    expect(tools.labelOf('unknown')).toBe('EXTERNAL_UNTRUSTED');
    expect([...tools.names()]).toEqual(['read_file']);
    expect(() => tools.register('not an id!', undefined)).toThrow(
      expect.objectContaining({ code: 'ACTION_INVALID' }),
    );
  });
});
