import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkTemplate, parsePath, resolveTemplate, valueAt } from './references.js';

describe('parsePath', () => {
  it('reads a root, property names and indexes', () => {
    expect(parsePath('out[1].emails[0].id')).toEqual({
      ok: true,
      path: { root: 'out', segments: [1, 'emails', 0, 'id'] },
    });
    expect(parsePath('state')).toEqual({ ok: true, path: { root: 'state', segments: [] } });
  });

  it('refuses names that reach a prototype and anything that is not the path syntax', () => {
    for (const text of [
      'out[0].__proto__',
      'state.constructor',
      'prototype',
      'out[0]..a',
      'out[-1]',
      'out[0]["a"]',
      'a.b()',
      '',
    ]) {
      expect(parsePath(text).ok, text).toBe(false);
    }
  });
});

describe('valueAt', () => {
  it('never returns inherited properties, whatever the name', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.constantFrom('toString', 'constructor', 'hasOwnProperty', '__proto__', 'valueOf'),
          fc.string(),
        ),
        (name) => {
          const plain = {};
          expect(valueAt(plain, [name])).toBeUndefined();
          expect(valueAt([], [name])).toBeUndefined();
        },
      ),
    );
  });

  it('indexes arrays only, and objects only by own name', () => {
    expect(valueAt({ a: [10, 20] }, ['a', 1])).toBe(20);
    expect(valueAt({ a: [10, 20] }, ['a', 2])).toBeUndefined();
    expect(valueAt({ a: { 0: 'x' } }, ['a', 0])).toBeUndefined();
  });
});

describe('resolveTemplate', () => {
  const outputs = [{ value: [{ id: '7', body: 'Pay 102.30 EUR to UK12' }] }, undefined];

  it('copies referenced values and names the calls they came from', () => {
    expect(resolveTemplate({ to: { $ref: 'out[0][0].id' }, note: 'plain' }, outputs)).toEqual({
      ok: true,
      value: { to: '7', note: 'plain' },
      copiedFrom: [0],
    });
    expect(resolveTemplate('plain', outputs)).toEqual({ ok: true, value: 'plain', copiedFrom: [] });
  });

  it('joins $concat parts as text', () => {
    const resolved = resolveTemplate(
      { $concat: ['id ', { $ref: 'out[0][0].id' }, ' n=', 3, ' ', { $ref: 'out[0][0]' }] },
      outputs,
    );
    expect(resolved).toEqual({
      ok: true,
      value: 'id 7 n=3 {"body":"Pay 102.30 EUR to UK12","id":"7"}',
      copiedFrom: [0],
    });
  });

  it('extracts a value only when the referenced text contains it', () => {
    expect(resolveTemplate({ $extract: { from: 'out[0][0].body', value: 102.3 } }, outputs)).toEqual({
      ok: true,
      value: 102.3,
      copiedFrom: [0],
    });
    expect(resolveTemplate({ $extract: { from: 'out[0][0].body', value: 'DE00' } }, outputs).ok).toBe(false);
  });

  it('cannot resolve a reference to a call without output or to a missing path', () => {
    expect(resolveTemplate({ $ref: 'out[1].id' }, outputs)).toEqual({
      ok: false,
      reason: 'call 1 produced no output',
    });
    expect(resolveTemplate({ $ref: 'out[0][3].id' }, outputs).ok).toBe(false);
    expect(resolveTemplate({ $ref: 'state.files' }, outputs).ok).toBe(false);
  });
});

describe('checkTemplate', () => {
  it('accepts references to earlier calls', () => {
    expect(
      checkTemplate(
        { a: { $ref: 'out[0].x' }, b: { $extract: { from: 'out[1]', value: 'v' } } },
        2,
        '$.args',
      ),
    ).toEqual([]);
  });

  it('names every malformed special value and reference to the call itself or a later one', () => {
    expect(
      checkTemplate(
        {
          self: { $ref: 'out[2].x' },
          root: { $ref: 'state.files' },
          mixed: { $ref: 'out[0]', extra: 1 },
          unknown: { $eval: 'x' },
          concat: { $concat: [] },
          extract: { $extract: { from: 'out[0]' } },
        },
        2,
        '$.args',
      ),
    ).toEqual([
      '$.args.self.$ref: call 2 can only refer to earlier calls (0..1)',
      '$.args.root.$ref: must start with out[<call index>]',
      '$.args.mixed: a special value is exactly { "$ref": path }, { "$concat": [parts] } or { "$extract": { from, value } }',
      '$.args.unknown: a special value is exactly { "$ref": path }, { "$concat": [parts] } or { "$extract": { from, value } }',
      '$.args.concat.$concat: must be a non-empty array',
      '$.args.extract.$extract: must be { "from": "out[i].path", "value": string or number }',
    ]);
  });
});
