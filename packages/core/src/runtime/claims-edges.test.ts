import { describe, expect, it, vi } from 'vitest';
import { hashCanonical } from '../canonical-json.js';
import { MAX_KEPT_ARGS_TEXT } from './prepared-call.js';
import { INTENT, readStep, ready, rejection, setup } from './__fixtures__/runtime-setup.js';

const READ = readStep.args;
const twoReads = [readStep, { action_id: 'read_file' }];

async function callsSession() {
  const context = setup();
  await context.runtime.setIntent(INTENT, { provenance: 'USER_TRUSTED' });
  return context;
}

describe('claims: a terminated session', () => {
  it('refuses executeStep naming the termination', async () => {
    const context = setup();
    await ready(context);
    await context.runtime.terminate('user left');
    const error = await rejection(context.runtime.executeStep(0, context.tool, { args: READ }));
    expect(error.code).toBe('RUNTIME_STATE');
    expect(error.message).toBe('executeStep is not allowed: the session is terminated (user left).');
    expect(error.details).toEqual({ state: 'TERMINATED', operation: 'executeStep', reason: 'user left' });
    expect(context.tool).not.toHaveBeenCalled();
  });

  it('refuses gate.execute of a plan step, naming gate.execute', async () => {
    const context = setup();
    await ready(context);
    const token = await context.runtime.authorize(0, { args: READ, provenance: 'USER_TRUSTED' });
    await context.runtime.terminate('done');
    const error = await rejection(
      context.runtime.gate.execute(token, context.tool, { index: 0, args: READ }),
    );
    expect(error.details).toEqual({ state: 'TERMINATED', operation: 'gate.execute', reason: 'done' });
    expect(context.tool).not.toHaveBeenCalled();
  });

  it('refuses gate.execute of a calls-mode step, naming gate.execute', async () => {
    const context = await callsSession();
    const { token, index } = await context.runtime.authorizeCall('read_file', {
      args: READ,
      provenance: 'USER_TRUSTED',
    });
    await context.runtime.terminate('done');
    const error = await rejection(context.runtime.gate.execute(token, context.tool, { index, args: READ }));
    expect(error.details).toEqual({ state: 'TERMINATED', operation: 'gate.execute', reason: 'done' });
    expect(context.tool).not.toHaveBeenCalled();
  });
});

describe('claims: one call at a time', () => {
  it('refuses a plan step while another is in progress, naming both', async () => {
    const context = setup();
    await ready(context, twoReads);
    const running = context.runtime.executeStep(0, context.tool, { args: READ });
    const error = await rejection(context.runtime.executeStep(1, context.tool, { args: READ }));
    expect(error.code).toBe('RUNTIME_STATE');
    expect(error.message).toBe('Step 1 cannot start: step 0 is in progress.');
    expect(error.details).toEqual({ state: 'EXECUTING', operation: 'executeStep' });
    await running;
    expect(context.tool).toHaveBeenCalledTimes(1);
  });

  it('names the step whose tool is running, in both modes (not the next one)', async () => {
    const held: { release?: () => void } = {};
    const slow = () =>
      new Promise<string>((resolve) => {
        held.release = () => resolve('done');
      });
    const release = () => {
      const resolve = held.release;
      delete held.release;
      resolve?.();
    };
    const plan = setup();
    await ready(plan, twoReads);
    const runningStep = plan.runtime.executeStep(0, slow, { args: READ });
    await vi.waitFor(() => expect(held.release).toBeDefined());
    expect(plan.runtime.nextStepIndex).toBe(1);
    const refusedStep = await rejection(plan.runtime.executeStep(1, plan.tool, { args: READ }));
    expect(refusedStep.message).toBe('Step 1 cannot start: step 0 is in progress.');
    release();
    await runningStep;

    const calls = await callsSession();
    await calls.runtime.call('read_file', calls.tool, { args: READ });
    const runningCall = calls.runtime.call('read_file', slow, { args: READ });
    await vi.waitFor(() => expect(held.release).toBeDefined());
    expect(calls.runtime.nextStepIndex).toBe(2);
    const refusedCall = await rejection(calls.runtime.call('read_file', calls.tool, { args: READ }));
    expect(refusedCall.message).toBe('A call cannot start: step 1 is in progress.');
    release();
    await runningCall;
    expect(calls.tool).toHaveBeenCalledTimes(1);
  });

  it('refuses a call while another is in progress', async () => {
    const context = await callsSession();
    const running = context.runtime.call('read_file', context.tool, { args: READ });
    const error = await rejection(context.runtime.call('read_file', context.tool, { args: READ }));
    expect(error.message).toBe('A call cannot start: step 0 is in progress.');
    expect(error.details).toEqual({ state: 'EXECUTING', operation: 'call' });
    await running;
    expect(context.tool).toHaveBeenCalledTimes(1);
  });

  it('refuses gate.execute of a calls-mode step while a call is in progress', async () => {
    const context = await callsSession();
    const { token, index } = await context.runtime.authorizeCall('read_file', {
      args: READ,
      provenance: 'USER_TRUSTED',
    });
    const running = context.runtime.call('read_file', context.tool, { args: READ });
    const error = await rejection(context.runtime.gate.execute(token, context.tool, { index, args: READ }));
    expect(error.message).toBe('Step 0 cannot start: step 1 is in progress.');
    expect(error.details).toEqual({ state: 'EXECUTING', operation: 'gate.execute' });
    await running;
    expect(context.tool).toHaveBeenCalledTimes(1);
  });

  it('holds the session while gate.execute runs a calls-mode step', async () => {
    const context = await callsSession();
    const { token, index } = await context.runtime.authorizeCall('read_file', {
      args: READ,
      provenance: 'USER_TRUSTED',
    });
    const running = context.runtime.gate.execute(token, context.tool, { index, args: READ });
    const error = await rejection(context.runtime.call('read_file', context.tool, { args: READ }));
    expect(error.message).toBe('A call cannot start: step 0 is in progress.');
    await running;
    expect(context.tool).toHaveBeenCalledTimes(1);
  });
});

describe('claims: which plan step may run', () => {
  it('refuses a step before a plan is approved', async () => {
    const context = setup();
    await context.runtime.setIntent(INTENT, { provenance: 'USER_TRUSTED' });
    const error = await rejection(context.runtime.executeStep(0, context.tool, { args: READ }));
    expect(error.message).toBe('Step 0 cannot run in state INTENT_SET: no plan is approved.');
    expect(error.details).toEqual({ state: 'INTENT_SET', step: 0 });
  });

  it('refuses a step out of plan order, naming the next one', async () => {
    const context = setup();
    await ready(context, twoReads);
    const error = await rejection(context.runtime.executeStep(1, context.tool, { args: READ }));
    expect(error.message).toBe('Step 1 cannot run: steps run in plan order and the next one is 0.');
    expect(error.details).toEqual({ state: 'PLAN_APPROVED', step: 1, expected: 0 });
  });

  it('refuses a step again once every step of the plan has run', async () => {
    const context = setup();
    await ready(context);
    await context.runtime.executeStep(0, context.tool, { args: READ });
    const error = await rejection(context.runtime.executeStep(0, context.tool, { args: READ }));
    expect(error.message).toBe('Step 0 cannot run: every step of the plan (1) has run.');
    expect(error.details).toEqual({ state: 'EXECUTING', step: 0, expected: 1 });
  });

  it('refuses the step after the last one, naming the plan length', async () => {
    const context = setup();
    await ready(context);
    await context.runtime.executeStep(0, context.tool, { args: READ });
    const error = await rejection(context.runtime.executeStep(1, context.tool, { args: READ }));
    expect(error.message).toBe('Step 1 cannot run: the plan has 1 steps.');
    expect(error.details).toEqual({ state: 'EXECUTING', step: 1 });
    expect(context.tool).toHaveBeenCalledTimes(1);
  });

  it('refuses arguments other than those the plan fixed', async () => {
    const context = setup();
    await ready(context);
    const error = await rejection(
      context.runtime.executeStep(0, context.tool, { args: { path: '/etc/passwd' } }),
    );
    expect(error.code).toBe('ARGS_INVALID');
    expect(error.message).toBe(
      'Step 0 ("read_file"): arguments differ from those fixed by the approved plan.',
    );
    expect(error.details).toEqual({ step: 0, action: 'read_file', field: 'args' });
    expect(context.tool).not.toHaveBeenCalled();
  });

  it('binds the hash of the fixed arguments, short or past the kept text, and refuses others of either length', async () => {
    const long = { path: `/workspace/${'a'.repeat(MAX_KEPT_ARGS_TEXT)}.txt` };
    const context = setup();
    await ready(context, [readStep, { action_id: 'read_file', args: long }, readStep]);
    // Equal content in another key order and another object: the same canonical text.
    await context.runtime.executeStep(0, context.tool, { args: { ...READ } });
    const refused = await rejection(
      context.runtime.executeStep(1, context.tool, { args: { path: `${long.path}x` } }),
    );
    expect(refused.code).toBe('ARGS_INVALID');
    const digests = context.audit.events
      .filter((event) => event.type === 'decision.made')
      .map((event) => event.data['argsDigest']);
    expect(digests).toEqual([hashCanonical(READ)]);
    expect(context.tool).toHaveBeenCalledTimes(1);

    const again = setup();
    await ready(again, [readStep, { action_id: 'read_file', args: long }]);
    await again.runtime.executeStep(0, again.tool, { args: READ });
    await again.runtime.executeStep(1, again.tool, { args: { ...long } });
    const bound = again.audit.events
      .filter((event) => event.type === 'decision.made')
      .map((event) => event.data['argsDigest']);
    expect(bound).toEqual([hashCanonical(READ), hashCanonical(long)]);
    expect(again.tool).toHaveBeenCalledTimes(2);
  });
});

describe('claims: calls mode', () => {
  it('refuses a call before the intent is set', async () => {
    const context = setup();
    const error = await rejection(context.runtime.call('read_file', context.tool, { args: READ }));
    expect(error.message).toBe('call is not allowed in state INITIALIZED: set the intent first.');
    expect(error.details).toEqual({ state: 'INITIALIZED', operation: 'call' });
  });

  it('refuses gate.execute of an index no call was authorised at', async () => {
    const context = await callsSession();
    const { token } = await context.runtime.authorizeCall('read_file', {
      args: READ,
      provenance: 'USER_TRUSTED',
    });
    const error = await rejection(
      context.runtime.gate.execute(token, context.tool, { index: 5, args: READ }),
    );
    expect(error.message).toBe('Step 5 cannot run: no call was authorised at that index.');
    expect(error.details).toEqual({ state: 'EXECUTING', step: 5 });
    expect(context.tool).not.toHaveBeenCalled();
  });

  it('refuses an action id that is not one, naming the call index', async () => {
    const context = await callsSession();
    const error = await rejection(context.runtime.call('bad id!', context.tool, { args: READ }));
    expect(error.code).toBe('ACTION_INVALID');
    expect(error.message).toBe(
      `Call 0: "bad id!" is not an action id (letters, digits, '_', '.', ':', '-'; at most 128).`,
    );
    expect(error.details).toEqual({ step: 0, field: 'actionId' });
  });
});
