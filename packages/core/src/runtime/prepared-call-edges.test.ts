import { describe, expect, it, vi } from 'vitest';
import { INTENT, readStep, ready, rejection, setup } from './__fixtures__/runtime-setup.js';
import { canonicalJson, hashCanonical, sha256 } from '../canonical-json.js';
import { fixedArgsOf, MAX_KEPT_ARGS_TEXT, prepareArgs } from './prepared-call.js';
import { defineTool } from './tool.js';

const READ = readStep.args;

describe('prepared call: the arguments', () => {
  it('refuses arguments that are a string, naming the step and action only', async () => {
    const context = setup();
    await ready(context, [{ action_id: 'read_file' }]);
    const error = await rejection(context.runtime.executeStep(0, context.tool, { args: 'a.txt' as never }));
    expect(error.code).toBe('ARGS_INVALID');
    expect(error.message).toBe('Step 0 ("read_file"): arguments must be an object.');
    expect(error.details).toEqual({ step: 0, action: 'read_file' });
    expect(context.tool).not.toHaveBeenCalled();
  });

  it('refuses arguments that are an array', async () => {
    const context = setup();
    await ready(context, [{ action_id: 'read_file' }]);
    const error = await rejection(context.runtime.executeStep(0, context.tool, { args: ['a.txt'] as never }));
    expect(error.code).toBe('ARGS_INVALID');
    expect(error.message).toContain('arguments must be an object');
    expect(context.tool).not.toHaveBeenCalled();
  });

  it('refuses arguments that are a number', () => {
    expect(() => prepareArgs(3, 'read_file', 42 as never, undefined, 'USER_TRUSTED')).toThrow(
      expect.objectContaining({ code: 'ARGS_INVALID', details: { step: 3, action: 'read_file' } }),
    );
  });

  it('refuses arguments that are not plain JSON, naming where and keeping the cause', async () => {
    const context = setup();
    await context.runtime.setIntent(INTENT, { provenance: 'USER_TRUSTED' });
    const error = await rejection(
      context.runtime.call('read_file', context.tool, { args: { path: { at: new Date(0) } } }),
    );
    expect(error.code).toBe('ARGS_INVALID');
    expect(error.message).toMatch(/^Step 0 \("read_file"\): arguments are not plain JSON: ./);
    expect(error.details).toEqual({ step: 0, action: 'read_file', path: expect.stringContaining('at') });
    expect(error.cause).toBeInstanceOf(Error);
    expect(context.tool).not.toHaveBeenCalled();
  });

  it('labels plain arguments EXTERNAL_UNTRUSTED when the declared label is not a provenance label', () => {
    const prepared = prepareArgs(0, 'read_file', { path: 'a' }, 'TRUST_ME' as never, 'USER_TRUSTED');
    expect(prepared.provenance).toBe('EXTERNAL_UNTRUSTED');
    expect(prepared.argLabels).toEqual({ '/path': 'EXTERNAL_UNTRUSTED' });
  });
});

describe('prepared call: the tool', () => {
  it('refuses a tool that is neither a function nor a defined Tool', async () => {
    const context = setup();
    await ready(context);
    const error = await rejection(
      context.runtime.executeStep(0, { id: 'read_file' } as never, { args: READ }),
    );
    expect(error.code).toBe('ACTION_INVALID');
    expect(error.message).toBe('Step 0: the tool must be a function or a Tool made with defineTool.');
    expect(error.details).toEqual({ step: 0, field: 'tool' });
  });

  it('runs a Tool whose id equals both the action and the tool_id of the step', async () => {
    const context = setup();
    await ready(context, [{ ...readStep, tool_id: 'read_file' }]);
    const readFile = defineTool({ id: 'read_file', run: () => 'contents' });
    expect((await context.runtime.executeStep(0, readFile, { args: READ })).value).toBe('contents');
  });

  it('names the tool_id of the step when a Tool does not match it', async () => {
    const context = setup();
    await ready(context, [{ ...readStep, tool_id: 'reader' }]);
    const readFile = defineTool({ id: 'read_file', run: () => 'contents' });
    const error = await rejection(context.runtime.executeStep(0, readFile, { args: READ }));
    expect(error.code).toBe('ACTION_INVALID');
    expect(error.message).toBe(
      'Step 0 was authorised for action "read_file" (tool_id "reader"); it cannot run tool "read_file".',
    );
    expect(error.details).toEqual({ step: 0, field: 'tool', expected: 'read_file', actual: 'read_file' });
  });

  it('names only the action when a step without tool_id is given another Tool', async () => {
    const context = setup();
    await context.runtime.setIntent(INTENT, { provenance: 'USER_TRUSTED' });
    const writeFile = defineTool({ id: 'write_file', run: () => 'written' });
    const error = await rejection(context.runtime.call('read_file', writeFile, { args: READ }));
    expect(error.message).toBe(
      'Step 0 was authorised for action "read_file"; it cannot run tool "write_file".',
    );
    expect(error.details).toEqual({ step: 0, field: 'tool', expected: 'read_file', actual: 'write_file' });
  });

  it('refuses arguments that do not fit the Tool schema, listing the issues', async () => {
    const context = setup();
    await ready(context, [{ action_id: 'read_file' }]);
    const run = vi.fn(() => 'contents');
    const readFile = defineTool({
      id: 'read_file',
      argsSchema: { type: 'object', required: ['path'], properties: { path: { type: 'string' } } },
      run,
    });
    const error = await rejection(context.runtime.executeStep(0, readFile, { args: { path: 7 } }));
    expect(error.code).toBe('ARGS_INVALID');
    expect(error.message).toBe(
      'Step 0 ("read_file"): arguments do not fit the tool\'s schema: $.path: must be string.',
    );
    expect(error.details).toEqual({
      step: 0,
      action: 'read_file',
      errors: [{ path: '$.path', message: 'must be string' }],
    });
    expect(run).not.toHaveBeenCalled();
  });
});

describe("prepared call: a plan step's fixed arguments", () => {
  it('keep their text up to the bound and always their hash', () => {
    const short = 'x'.repeat(MAX_KEPT_ARGS_TEXT);
    const long = `${short}x`;
    expect(fixedArgsOf(short)).toEqual({ hash: sha256(short), text: short });
    expect(fixedArgsOf(long)).toEqual({ hash: sha256(long), text: undefined });
  });

  it('give their hash only to the same text', () => {
    const fixed = fixedArgsOf(canonicalJson({ path: '/a' }));
    expect(prepareArgs(0, 'read', { path: '/a' }, 'USER_TRUSTED', 'EXTERNAL_UNTRUSTED', fixed).argsHash).toBe(
      fixed.hash,
    );
    // A forged pair (a hash that is not the text's) shows the hash is reused only for its own text.
    const forged = { hash: 'f'.repeat(64), text: '{"path":"/a"}' };
    expect(
      prepareArgs(0, 'read', { path: '/a' }, 'USER_TRUSTED', 'EXTERNAL_UNTRUSTED', forged).argsHash,
    ).toBe(forged.hash);
    expect(
      prepareArgs(0, 'read', { path: '/b' }, 'USER_TRUSTED', 'EXTERNAL_UNTRUSTED', forged).argsHash,
    ).toBe(hashCanonical({ path: '/b' }));
  });
});
