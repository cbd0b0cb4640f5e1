import { describe, expect, it } from 'vitest';
import { FakeClock } from '../testing/fake-clock.js';
import { createFakeAuthority } from '../testing/fake-authority.js';
import { createRecordingAuditSink } from '../testing/recording-audit-sink.js';
import { createScriptedEscalationHandler } from '../testing/scripted-escalation-handler.js';
import { createStubPolicy } from '../testing/stub-policy.js';
import { createInMemoryUsageStore } from '../runtime/in-memory-usage-store.js';
import { defineTool } from '../runtime/tool.js';
import { resolveAdapterOptions } from './options.js';
import { adapterIntent, createSerialQueue, startAdapterSession } from './session.js';

function parameters(intent = adapterIntent(undefined, ['read_file'], 'adapter test')) {
  const clock = new FakeClock();
  const audit = createRecordingAuditSink();
  const options = resolveAdapterOptions('createApeTest', {
    tenant: 'acme',
    policy: createStubPolicy({ decisions: { read_file: 'ALLOW' } }),
    authority: createFakeAuthority({ tenant: 'acme', clock }),
    clock,
    mode: 'enforce',
    escalationTimeoutMs: 1_000,
    auditArgs: ['path'],
  });
  return {
    audit,
    parameters: {
      options,
      usage: createInMemoryUsageStore(),
      audit,
      lineage: 'thread-1',
      continuesSession: 'conversation:thread-1',
      outputLabelOf: () => 'SYSTEM_TRUSTED' as const,
      escalation: createScriptedEscalationHandler([]),
      intent,
    },
  };
}

describe('startAdapterSession', () => {
  it('opens a calls-mode session in the lineage, with the intent set and outputs labelled in the audit', async () => {
    const { audit, parameters: given } = parameters();
    const runtime = await startAdapterSession(given);
    expect(runtime.state).not.toBe('TERMINATED');
    expect(runtime.intent?.allowed_actions).toEqual(['read_file']);
    const tool = defineTool({ id: 'read_file', outputLabel: 'SYSTEM_TRUSTED', run: () => 'text' });
    const result = await runtime.call('read_file', tool, { args: { path: 'a' } });
    expect(result.value).toBe('text');
    const executed = audit.ofType('tool.executed');
    expect(executed[0]?.data['outputLabel']).toBe('SYSTEM_TRUSTED');
    await runtime.terminate('done');
  });

  it('terminates the session and rethrows when the intent cannot be set', async () => {
    const { audit, parameters: given } = parameters({
      allowed_actions: ['not an action id!'],
      forbidden_actions: [],
      scope: 'broken',
    });
    await expect(startAdapterSession(given)).rejects.toMatchObject({ code: 'INTENT_INVALID' });
    expect(audit.types()).toContain('session.terminated');
  });
});

describe('adapterIntent', () => {
  it('allows every wrapped tool and forbids nothing by default', () => {
    expect(adapterIntent(undefined, new Set(['a', 'b']).keys(), 'scope')).toEqual({
      allowed_actions: ['a', 'b'],
      forbidden_actions: [],
      scope: 'scope',
    });
  });

  it("keeps the host's intent where it says something", () => {
    expect(
      adapterIntent(
        {
          allowed_actions: ['a'],
          forbidden_actions: ['b'],
          escalation_required: ['a'],
          scope: 'mine',
          description: 'why',
        },
        ['ignored'],
        'scope',
      ),
    ).toEqual({
      allowed_actions: ['a'],
      forbidden_actions: ['b'],
      escalation_required: ['a'],
      scope: 'mine',
      description: 'why',
    });
  });
});

describe('createSerialQueue', () => {
  it('runs tasks one at a time in order, and a failed task does not stop the next', async () => {
    const queue = createSerialQueue();
    const order: string[] = [];
    let release: () => void = () => undefined;
    const first = queue.enqueue(
      () =>
        new Promise<string>((resolve) => {
          order.push('first started');
          release = () => resolve('first');
        }),
    );
    const second = queue.enqueue(async () => {
      order.push('second started');
      throw new Error('second failed');
    });
    const third = queue.enqueue(async () => {
      order.push('third started');
      return 'third';
    });
    await Promise.resolve();
    expect(order).toEqual(['first started']);
    release();
    await expect(first).resolves.toBe('first');
    await expect(second).rejects.toThrow('second failed');
    await expect(third).resolves.toBe('third');
    expect(order).toEqual(['first started', 'second started', 'third started']);
  });

  it('starts a task at once on an idle queue, and turns a task that throws into a rejection', async () => {
    const queue = createSerialQueue();
    const order: string[] = [];
    const first = queue.enqueue(async () => {
      order.push('first started');
      return 'first';
    });
    expect(order).toEqual(['first started']);
    await expect(first).resolves.toBe('first');
    const throwing = queue.enqueue((): Promise<string> => {
      throw new Error('thrown');
    });
    await expect(throwing).rejects.toThrow('thrown');
    await Promise.resolve();
    const after = queue.enqueue(async () => 'after');
    await expect(after).resolves.toBe('after');
  });
});
