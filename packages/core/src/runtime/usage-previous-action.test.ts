import { describe, expect, it, vi } from 'vitest';
import type { UsageBeginRequest, UsageBeginResult, UsageLimit, UsageStore } from '../ports/usage-store.js';
import type { ActionRequest, Decision } from '../types.js';
import { INTENT, rejection, setup } from './__fixtures__/runtime-setup.js';
import { createInMemoryUsageStore } from './in-memory-usage-store.js';

// Attacks on `tool_transitions`: the stored previous action must always be an action that ran. A
// rule `read_file -> send_email` forbidden is bypassed if a refused call's action is left (or put
// back) as the previous action, so every test ends with send_email, whose tool must not run.

const ARGS = { path: '/workspace/a.txt' };
const LINEAGE_KEY = 'acme\u0000lineage\u0000conn-1\u0000previous';
const budget: UsageLimit = { id: 'budget', max: 100, scope: 'lineage' };

/** `read_file -> send_email` is forbidden; write_file is always denied. */
const transitions = (request: ActionRequest): Decision =>
  request.action === 'send_email'
    ? request.session?.previousAction === 'read_file'
      ? 'DENY'
      : 'ALLOW'
    : request.action === 'read_file'
      ? 'ALLOW'
      : 'DENY';

/** A session of lineage conn-1 over `store`; its tools are spies. */
async function session(store: UsageStore, sessionId: string, usageTimeoutMs?: number) {
  const limits = { read_file: [budget], write_file: [budget], send_email: [budget] };
  const context = setup({
    usage: store,
    lineage: 'conn-1',
    sessionId,
    policy: { decide: transitions, limits },
    ...(usageTimeoutMs === undefined ? {} : { usageTimeoutMs }),
  });
  await context.runtime.setIntent(INTENT, { provenance: 'USER_TRUSTED' });
  const sendEmail = vi.fn((args: Readonly<Record<string, unknown>>) => ({ echoed: args }));
  const call = (action: string) =>
    context.runtime.call(action, action === 'send_email' ? sendEmail : context.tool, {
      args: ARGS,
      provenance: 'USER_TRUSTED',
    });
  return { ...context, call, sendEmail };
}

/** Lets pending promise callbacks and timers of zero delay run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

async function until(condition: () => boolean): Promise<void> {
  for (let attempt = 0; attempt < 1_000 && !condition(); attempt++) await settle();
  expect(condition()).toBe(true);
}

describe('the previous action is always an action that ran', () => {
  it('refuses send_email after read_file when two refused calls of the lineage interleave (their undos in begin order)', async () => {
    const base = createInMemoryUsageStore();
    // begin runs at once in the store; its answer waits until the test hands it over, so the two
    // calls' begins and undos interleave: begin A, begin B, undo A, undo B.
    const held: (() => void)[] = [];
    const holding: UsageStore = {
      ...base,
      begin: (request: UsageBeginRequest) => {
        const answer = base.begin!(request);
        return new Promise<UsageBeginResult>((resolve) => held.push(() => resolve(answer)));
      },
    };
    const first = await session(base, 'session-1');
    await first.call('read_file');
    const a = await session(holding, 'session-a');
    const b = await session(holding, 'session-b');
    const refusedA = rejection(a.call('write_file'));
    const refusedB = rejection(b.call('write_file'));
    await until(() => held.length === 2);
    expect(base.previousAction(LINEAGE_KEY)).toBe('write_file');
    held[0]!();
    expect((await refusedA).code).toBe('POLICY_DENY');
    held[1]!();
    expect((await refusedB).code).toBe('POLICY_DENY');
    expect(base.previousAction(LINEAGE_KEY)).toBe('read_file');
    const attacker = await session(base, 'session-c');
    expect((await rejection(attacker.call('send_email'))).code).toBe('POLICY_DENY');
    expect(attacker.sendEmail).not.toHaveBeenCalled();
  });

  for (const order of [
    'the undo reaches the store first',
    'the late begin reaches the store first',
  ] as const) {
    it(`refuses send_email after read_file when a timed-out begin of a refused call runs late (${order})`, async () => {
      const base = createInMemoryUsageStore();
      let late: (() => void) | undefined;
      const undos: unknown[] = [];
      // begin never answers; the store applies it only when the test says so (or, in the second
      // order, just before the runtime's undo, as Redis runs one connection's commands in order).
      const stalled: UsageStore = {
        ...base,
        begin: (request: UsageBeginRequest) => {
          late = () => base.begin!(request);
          return new Promise<UsageBeginResult>(() => undefined);
        },
        undo: (request) => {
          undos.push(request);
          if (order === 'the late begin reaches the store first') late?.();
          return base.undo!(request);
        },
      };
      const first = await session(base, 'session-1');
      await first.call('read_file');
      const timedOut = await session(stalled, 'session-a', 20);
      const error = await rejection(timedOut.call('write_file'));
      expect(error.code).toBe('POLICY_DENY');
      expect(error.details['code']).toBe('USAGE_STORE_FAILURE');
      expect(undos).toEqual([{ written: { key: LINEAGE_KEY, version: expect.any(String) } }]);
      if (order === 'the undo reaches the store first') late!();
      expect(base.previousAction(LINEAGE_KEY)).toBe('read_file');
      const attacker = await session(base, 'session-c');
      expect((await rejection(attacker.call('send_email'))).code).toBe('POLICY_DENY');
      expect(attacker.sendEmail).not.toHaveBeenCalled();
    });
  }

  it('sends no undo when a begin that writes nothing fails (a token kept by authorizeCall)', async () => {
    const base = createInMemoryUsageStore();
    const undo = vi.fn(base.undo!);
    const failing: UsageStore = { ...base, begin: () => Promise.reject(new Error('down')), undo };
    const { runtime } = await session(failing, 'session-a');
    const error = await rejection(
      runtime.authorizeCall('read_file', { args: ARGS, provenance: 'USER_TRUSTED' }),
    );
    expect(error.details['code']).toBe('USAGE_STORE_FAILURE');
    expect(undo).not.toHaveBeenCalled();
  });
});
