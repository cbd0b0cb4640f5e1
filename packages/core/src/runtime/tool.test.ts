import { describe, expect, it } from 'vitest';
import { defineTool, isTool } from './tool.js';

describe('defineTool', () => {
  it('returns a frozen tool with the default output label EXTERNAL_UNTRUSTED', () => {
    const tool = defineTool({ id: 'read_file', run: () => 'x' });
    expect(Object.isFrozen(tool)).toBe(true);
    expect(tool.outputLabel).toBe('EXTERNAL_UNTRUSTED');
    expect(isTool(tool)).toBe(true);
    expect(isTool({ ...tool })).toBe(false);
    expect(isTool(() => 1)).toBe(false);
  });

  it('checks arguments against the schema compiled once', () => {
    const tool = defineTool({
      id: 'write_file',
      argsSchema: { type: 'object', required: ['path'], properties: { path: { type: 'string' } } },
      run: () => undefined,
    });
    expect(tool.checkArgs({ path: '/a' })).toEqual([]);
    expect(tool.checkArgs({})).toEqual([{ path: '$', message: 'missing required field "path"' }]);
  });

  it('accepts any arguments without a schema', () => {
    expect(defineTool({ id: 'noop', run: () => undefined }).checkArgs({ anything: true })).toEqual([]);
  });

  it('refuses an invalid JSON Schema with ARGS_INVALID', () => {
    expect(() => defineTool({ id: 'bad', argsSchema: { type: 'nonsense' }, run: () => undefined })).toThrow(
      expect.objectContaining({ code: 'ARGS_INVALID' }),
    );
  });

  it('refuses a missing id, a missing run or an unknown output label with ACTION_INVALID', () => {
    for (const definition of [
      { id: '', run: () => undefined },
      { id: 'x', run: 'no' },
      { id: 'x', run: () => undefined, outputLabel: 'TRUSTED' },
    ]) {
      expect(() => defineTool(definition as unknown as Parameters<typeof defineTool>[0])).toThrow(
        expect.objectContaining({ code: 'ACTION_INVALID' }),
      );
    }
  });
});
