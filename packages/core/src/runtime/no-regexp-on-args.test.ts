import { afterEach, describe, expect, it } from 'vitest';
import { INTENT, ready, setup } from './__fixtures__/runtime-setup.js';

/**
 * No argument value may reach `RegExp.prototype.exec` or `test` on the gate's path: a backtracking
 * engine must never see an argument (policy patterns run on the linear-time engine, in
 * `@ape/policy`), and the attack battery's pattern rows count any such call as a successful attack.
 * This pins the runtime's own part: copying, labelling, hashing, serialising and recording a call.
 */
const SENTINEL = 'sentinel "quoted" \\ value\nwith a line break and ünïcödé';
const { exec, test } = RegExp.prototype;
const seen: string[] = [];

function watchRegExps(): void {
  const note = (input: unknown): void => {
    if (typeof input === 'string' && input.includes('sentinel')) seen.push(input);
  };
  RegExp.prototype.exec = function watchedExec(this: RegExp, input: string) {
    note(input);
    return exec.call(this, input);
  };
  RegExp.prototype.test = function watchedTest(this: RegExp, input: string) {
    note(input);
    return test.call(this, input);
  };
}

afterEach(() => {
  RegExp.prototype.exec = exec;
  RegExp.prototype.test = test;
  seen.length = 0;
});

describe('the gate and argument values', () => {
  const args = { path: SENTINEL, nested: { items: [SENTINEL, 7, true, null] }, [SENTINEL]: 'as a key' };

  it('never passes an argument to a RegExp in a plan step', async () => {
    const context = setup({ auditArgs: ['path'] });
    await ready(context, [{ action_id: 'read_file', args }]);
    watchRegExps();
    await context.runtime.executeStep(0, context.tool, { args, provenance: 'USER_TRUSTED' });
    expect(context.tool).toHaveBeenCalledTimes(1);
    expect(seen).toEqual([]);
  });

  it('never passes an argument to a RegExp in a calls-mode call', async () => {
    const context = setup();
    await context.runtime.setIntent(INTENT, { provenance: 'USER_TRUSTED' });
    watchRegExps();
    await context.runtime.call('read_file', context.tool, { args, provenance: 'USER_TRUSTED' });
    await context.runtime.call('read_file', context.tool, { args, provenance: 'EXTERNAL_UNTRUSTED' });
    expect(context.tool).toHaveBeenCalledTimes(2);
    expect(seen).toEqual([]);
  });
});
