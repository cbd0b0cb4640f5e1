import { describe, expect, it } from 'vitest';
import { FakeClock } from '../testing/fake-clock.js';
import { createFakeAuthority } from '../testing/fake-authority.js';
import { createStubPolicy } from '../testing/stub-policy.js';
import type { AdapterFramework } from './conversation-api.js';
import { ConversationThread } from './conversation-thread.js';
import { resolveAdapterOptions } from './options.js';
import { TaintTracker } from './provenance.js';
import { createAdapterHandle } from './threads.js';

type TestCall = { readonly input: unknown };

const FRAMEWORK: AdapterFramework<TestCall> = {
  name: 'Test',
  approver: 'ape-test',
  rethrowToolErrors: true,
  inputOf: (call) => call.input,
  messagesOf: () => undefined,
  run: async () => 'ran',
};

class TestThread extends ConversationThread<TestCall, 'callId'> {
  wrap(name: string): void {
    this.wrappedTools.register(name, undefined);
  }
  expects(id: string, name: string, input: unknown): boolean {
    return this.conversation.expectsEscalation(id, name, input, undefined);
  }
}

function handle() {
  const clock = new FakeClock();
  const options = resolveAdapterOptions('createApeTest', {
    tenant: 'acme',
    policy: createStubPolicy({ decisions: { send_email: 'ESCALATE' } }),
    authority: createFakeAuthority({ tenant: 'acme', clock }),
    clock,
  });
  return createAdapterHandle<TestThread>(
    options,
    (lineage, context) =>
      new TestThread(lineage, context, {
        framework: FRAMEWORK,
        idField: 'callId',
        scope: 'test',
        taint: (minLength, trusted) => new TaintTracker(minLength, trusted),
      }),
  );
}

describe('ConversationThread', () => {
  it("lists held escalations under the framework's id field", () => {
    const thread = handle().thread('thread-1');
    thread.wrap('send_email');
    expect(thread.expects('call-1', 'send_email', { to: 'bob' })).toBe(true);
    expect(thread.pendingApprovals()).toEqual([
      expect.objectContaining({ callId: 'call-1', action: 'send_email', answered: false }),
    ]);
  });

  it('ends once, forgets its escalations and leaves the registry, so the lineage opens a new thread', async () => {
    const ape = handle();
    const thread = ape.thread('thread-1');
    thread.wrap('send_email');
    thread.expects('call-1', 'send_email', {});
    await thread.end();
    await thread.end();
    expect(thread.pendingApprovals()).toEqual([]);
    expect(ape.thread('thread-1')).not.toBe(thread);
  });
});
