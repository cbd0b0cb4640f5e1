import { vi } from 'vitest';
import { ApeError } from '../../errors.js';
import type { AuditEvent, Decision } from '../../types.js';
import { FakeClock } from '../../testing/fake-clock.js';
import { createFakeAuthority } from '../../testing/fake-authority.js';
import { createRecordingAuditSink } from '../../testing/recording-audit-sink.js';
import {
  createScriptedEscalationHandler,
  type ScriptedAnswer,
} from '../../testing/scripted-escalation-handler.js';
import { createStubPolicy, type StubPolicyOptions } from '../../testing/stub-policy.js';
import { createRuntime, type RuntimeConfig } from '../runtime.js';

/** The shared set-up of the runtime's unit tests (one file per topic). */
export const intent = {
  allowed_actions: ['read_file', 'write_file', 'send_email', 'deploy'],
  forbidden_actions: ['delete_file'],
  escalation_required: ['deploy'],
  scope: 'unit tests',
};

export const decisions: Record<string, Decision> = {
  read_file: 'ALLOW',
  write_file: 'ALLOW',
  deploy: 'ALLOW',
  send_email: 'ESCALATE',
  delete_file: 'DENY',
};

export interface SetupOptions extends Partial<Omit<RuntimeConfig, 'policy'>> {
  policy?: StubPolicyOptions;
  script?: readonly ScriptedAnswer[];
}

export function setup(options: SetupOptions = {}) {
  const { policy: policyOptions, script, ...config } = options;
  const clock = new FakeClock();
  const authority = createFakeAuthority({ tenant: 'acme', clock });
  const audit = createRecordingAuditSink();
  const policy = createStubPolicy({ decisions, ...policyOptions });
  const escalation = createScriptedEscalationHandler(script ?? []);
  const tool = vi.fn((args: Readonly<Record<string, unknown>>) => ({ echoed: args }));
  const runtime = createRuntime({
    tenant: 'acme',
    policy,
    authority,
    audit,
    clock,
    escalation,
    sessionId: 'session-1',
    ...config,
  });
  return { clock, authority, audit, policy, escalation, tool, runtime };
}

export type Context = ReturnType<typeof setup>;

export const readStep = { action_id: 'read_file', args: { path: '/workspace/a.txt' } };

export async function ready(context: Context, steps: readonly object[] = [readStep]): Promise<void> {
  await context.runtime.setIntent(intent, { provenance: 'USER_TRUSTED' });
  await context.runtime.submitPlan({ steps }, { provenance: 'USER_TRUSTED' });
}

export async function rejection(promise: Promise<unknown>): Promise<ApeError> {
  try {
    await promise;
  } catch (error) {
    if (ApeError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

export function dataOf(
  events: readonly AuditEvent[],
  type: string,
): readonly Readonly<Record<string, unknown>>[] {
  return events.filter((event) => event.type === type).map((event) => event.data);
}
