import { vi } from 'vitest';
import { canonicalJson } from '../../canonical-json.js';
import { ApeError } from '../../errors.js';
import type { AuditSink } from '../../ports/audit-sink.js';
import type { AuditEvent, Decision } from '../../types.js';
import { FakeClock } from '../../testing/fake-clock.js';
import { createFakeAuthority } from '../../testing/fake-authority.js';
import { createRecordingAuditSink } from '../../testing/recording-audit-sink.js';
import {
  createScriptedEscalationHandler,
  type ScriptedAnswer,
} from '../../testing/scripted-escalation-handler.js';
import { createStubPolicy, type StubPolicyOptions } from '../../testing/stub-policy.js';
import type { UsageStore } from '../../ports/usage-store.js';
import type { RuntimeConfig } from '../config.js';
import { createInMemoryUsageStore } from '../in-memory-usage-store.js';
import { createRuntime } from '../runtime.js';

/** The shared set-up of the runtime's unit tests (one file per topic). The intent most of them use. */
export const INTENT = Object.freeze({
  allowed_actions: ['read_file', 'write_file', 'send_email', 'deploy'],
  forbidden_actions: ['delete_file'],
  escalation_required: ['deploy'],
  scope: 'unit tests',
});

export const DECISIONS: Readonly<Record<string, Decision>> = Object.freeze({
  read_file: 'ALLOW',
  write_file: 'ALLOW',
  deploy: 'ALLOW',
  send_email: 'ESCALATE',
  delete_file: 'DENY',
});

export interface SetupOptions extends Partial<Omit<RuntimeConfig, 'policy'>> {
  readonly policy?: StubPolicyOptions;
  readonly script?: readonly ScriptedAnswer[];
  /** Give the fake authority the port's `issueSync`/`consumeSync` (the runtime then uses them). */
  readonly synchronousAuthority?: boolean;
}

/** A runtime over fakes of every port (tenant `acme`, session `session-1`) and a tool spy. */
export function setup(options: SetupOptions = {}) {
  const { policy: policyOptions, script, synchronousAuthority, ...config } = options;
  const clock = (config.clock as FakeClock | undefined) ?? new FakeClock();
  const authority = createFakeAuthority({
    tenant: 'acme',
    clock,
    synchronous: synchronousAuthority === true,
  });
  const audit = createRecordingAuditSink();
  const policy = createStubPolicy({ decisions: DECISIONS, ...policyOptions });
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

/** Sets the intent and submits a plan of `steps` (default: one read). */
export async function ready(context: Context, steps: readonly object[] = [readStep]): Promise<void> {
  await context.runtime.setIntent(INTENT, { provenance: 'USER_TRUSTED' });
  await context.runtime.submitPlan({ steps }, { provenance: 'USER_TRUSTED' });
}

/** The APE error a promise rejects with (fails the test if it resolves or rejects with something else). */
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

/**
 * A sink that notes every event it is handed and passes it on to `next` (as the adapters' wrapper
 * does), if given. With `canonicalData`, it asks for the runtime's prepared text and notes, during
 * each append, what `canonicalJson` gives for the event's data.
 */
export function createNotingAuditSink(options: { next?: AuditSink; canonicalData?: boolean } = {}) {
  const { next, canonicalData = false } = options;
  const handed: AuditEvent[] = [];
  const texts: string[] = [];
  const sink: AuditSink = {
    canonicalData,
    append(event: AuditEvent) {
      handed.push(event);
      if (canonicalData) texts.push(canonicalJson(event.data));
      return next?.append(event);
    },
    flush: async () => {
      await next?.flush();
    },
    close: async () => {
      await next?.close();
    },
  };
  return { sink, handed, texts };
}

/** A sink that, once `hold()` is called, keeps each append pending until it is settled by hand. */
export function createHoldingAuditSink() {
  const recorded: AuditEvent[] = [];
  const held: { event: AuditEvent; settle: (error?: Error) => void }[] = [];
  let holding = false;
  const sink = {
    append(event: AuditEvent): Promise<void> {
      if (!holding) {
        recorded.push(event);
        return Promise.resolve();
      }
      return new Promise<void>((resolve, reject) => {
        held.push({
          event,
          settle: (error) => {
            if (error === undefined) {
              recorded.push(event);
              resolve();
            } else {
              reject(error);
            }
          },
        });
      });
    },
    flush: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
  return {
    sink,
    held,
    recorded,
    hold: () => {
      holding = true;
    },
    release: () => {
      holding = false;
    },
  };
}

/**
 * The in-memory usage store without `begin`/`undo`, with some methods replaced: the runtime then
 * makes three separate store calls (reads the previous action, acquires, and writes the previous
 * action at consume), which the overrides can break one at a time.
 */
export function threeCallStoreWith(overrides: Partial<UsageStore> = {}): UsageStore {
  const { begin: _begin, undo: _undo, ...threeCalls } = createInMemoryUsageStore();
  return { ...threeCalls, ...overrides };
}
