import { isLabeled } from '@ape/core';
import { describe, expect, it } from 'vitest';
import { labeled, withPlainLabel } from './derive.js';
import { tainted, untrusted } from './labeled-value.js';
import { parseLabel } from './labels.js';

/** `depth` plain objects nested in one another. */
function nested(depth: number): Record<string, unknown> {
  let value: Record<string, unknown> = {};
  for (let level = 1; level < depth; level++) value = { inner: value };
  return value;
}

describe('labelled values: copy limits', () => {
  it('copies 257 nested levels and refuses 258, naming the depth', () => {
    expect(isLabeled(tainted(nested(257), 'USER_TRUSTED'))).toBe(true);
    expect(() => tainted(nested(258), 'USER_TRUSTED')).toThrow(
      expect.objectContaining({
        code: 'NON_JSON_VALUE',
        message: 'A labelled value is nested deeper than 256 levels.',
        details: { depth: 257 },
      }),
    );
  });

  it('refuses a cycle as a cycle (not as depth), naming where it closes', () => {
    const loop: Record<string, unknown> = { name: 'a' };
    loop['self'] = { back: loop };
    expect(() => untrusted(loop, 'https://x.example')).toThrow(
      expect.objectContaining({
        code: 'NON_JSON_VALUE',
        message: 'A labelled value contains a cycle; labelled values must be trees.',
        details: { depth: 2 },
      }),
    );
  });

  it('copies arrays as frozen arrays of copies, and keeps class instances by reference', () => {
    const inner = [2, { three: 3 }];
    const source = [1, inner];
    const when = new Date(0);
    const value = tainted({ list: source, when }, 'USER_TRUSTED').value;
    expect(value.list).toEqual([1, [2, { three: 3 }]]);
    expect(Array.isArray(value.list)).toBe(true);
    expect(value.list).not.toBe(source);
    expect(value.list[1]).not.toBe(inner);
    expect(Object.isFrozen(value.list[1])).toBe(true);
    expect(value.when).toBe(when);
    expect(Object.isFrozen(when)).toBe(false);
  });

  it('labels untrusted input EXTERNAL_UNTRUSTED with its source', () => {
    expect(untrusted('page', 'https://x.example')).toMatchObject({
      label: 'EXTERNAL_UNTRUSTED',
      sources: ['https://x.example'],
    });
  });
});

describe('template tags', () => {
  it('joins every literal part in order, cooked (escapes applied), around the values', () => {
    const a = untrusted('A', 'a');
    const b = untrusted('B', 'b');
    expect(labeled`x${a}\t-${b}\n`.value).toBe('xA\t-B\n');
    expect(withPlainLabel('USER_TRUSTED')`<${'p'}|${'q'}>`.value).toBe('<p|q>');
  });

  it('refuses a forged strings array whose parts do not match the values, or that has no raw parts', () => {
    const parts = (list: string[], raw: unknown) =>
      Object.assign([...list], { raw }) as unknown as TemplateStringsArray;
    expect(() => labeled(parts(['a', 'b', 'c'], ['a', 'b', 'c']), 'only one value')).toThrow(
      expect.objectContaining({ code: 'PROVENANCE', details: { reason: 'not_a_template' } }),
    );
    expect(() => labeled(parts(['a', 'b'], undefined), 'x')).toThrow(
      expect.objectContaining({ code: 'PROVENANCE', details: { reason: 'not_a_template' } }),
    );
    expect(labeled(parts(['a', 'b'], ['a', 'b']), 'x').value).toBe('axb');
  });

  it('refuses to be called as a plain function, saying why', () => {
    expect(() => labeled('text' as unknown as TemplateStringsArray)).toThrow(
      expect.objectContaining({
        code: 'PROVENANCE',
        details: { reason: 'not_a_template' },
        message: expect.stringContaining('labeled is a template tag'),
      }),
    );
  });
});

describe('parseLabel', () => {
  it('quotes bad text of 64 characters whole and cuts longer text at 64', () => {
    const exact = 'x'.repeat(64);
    expect(() => parseLabel(exact)).toThrow(
      expect.objectContaining({ message: expect.stringContaining(`"${exact}":`) }),
    );
    expect(() => parseLabel(`${exact}y`)).toThrow(
      expect.objectContaining({ message: expect.stringContaining(`"${exact}...":`) }),
    );
  });
});
