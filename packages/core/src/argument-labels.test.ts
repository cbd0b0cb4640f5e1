import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { argumentLabels, escapeJsonPointer } from './argument-labels.js';
import { createLabeled, labelOf } from './labeled.js';
import { PROVENANCE_LABELS, trustRank } from './labels.js';
import type { ProvenanceLabel } from './types.js';

describe('argumentLabels', () => {
  it('labels each leaf by JSON pointer: labelled values their own label, plain leaves the declared one', () => {
    const labels = argumentLabels(
      {
        to: createLabeled('boss@example.com', 'USER_TRUSTED'),
        body: createLabeled('summary of the page', 'EXTERNAL_UNTRUSTED', ['https://evil.example']),
        subject: 'Weekly',
        items: [{ url: createLabeled('https://a.example', 'EXTERNAL_UNTRUSTED') }, 7, null, true],
      },
      'SYSTEM_TRUSTED',
    );
    expect({ ...labels }).toEqual({
      '/to': 'USER_TRUSTED',
      '/body': 'EXTERNAL_UNTRUSTED',
      '/subject': 'SYSTEM_TRUSTED',
      '/items/0/url': 'EXTERNAL_UNTRUSTED',
      '/items/1': 'SYSTEM_TRUSTED',
      '/items/2': 'SYSTEM_TRUSTED',
      '/items/3': 'SYSTEM_TRUSTED',
    });
    expect(Object.isFrozen(labels)).toBe(true);
    expect(Object.getPrototypeOf(labels)).toBeNull();
  });

  it('gives every leaf of a labelled object or array its label, and the least trusted one when labels nest', () => {
    const labels = argumentLabels(
      {
        message: createLabeled(
          { to: createLabeled('x@example.com', 'EXTERNAL_UNTRUSTED'), cc: ['a@example.com'] },
          'USER_TRUSTED',
        ),
        wrapped: createLabeled(createLabeled('text', 'EXTERNAL_UNTRUSTED'), 'SYSTEM_TRUSTED'),
      },
      'SYSTEM_TRUSTED',
    );
    expect({ ...labels }).toEqual({
      '/message/to': 'EXTERNAL_UNTRUSTED',
      '/message/cc/0': 'USER_TRUSTED',
      '/wrapped': 'EXTERNAL_UNTRUSTED',
    });
  });

  it('holds no entry for empty arrays and objects, nor for properties whose value is undefined', () => {
    const labels = argumentLabels({ tags: [], options: {}, gone: undefined, id: 1 }, 'USER_TRUSTED');
    expect({ ...labels }).toEqual({ '/id': 'USER_TRUSTED' });
    expect(argumentLabels({ tags: [] }, 'USER_TRUSTED')).toBeUndefined();
  });

  it('is undefined for a call without arguments', () => {
    expect(argumentLabels({}, 'USER_TRUSTED')).toBeUndefined();
  });

  it('is undefined past 256 levels of nesting', () => {
    let deep: unknown = 'leaf';
    for (let level = 0; level < 300; level++) deep = [deep];
    expect(argumentLabels({ deep }, 'USER_TRUSTED')).toBeUndefined();
  });

  it('treats an unknown label on a forged labelled value as EXTERNAL_UNTRUSTED', () => {
    const forged = { value: 'x', label: 'ROOT' as unknown as ProvenanceLabel, sources: [] };
    Object.defineProperty(forged, Symbol.for('ape.labeled'), { value: true });
    expect(argumentLabels({ to: forged }, 'SYSTEM_TRUSTED')?.['/to']).toBe('EXTERNAL_UNTRUSTED');
  });

  it('refuses a getter inside the arguments with the code of the canonical-JSON reader', () => {
    const args = {};
    Object.defineProperty(args, 'to', { get: () => 'x', enumerable: true });
    expect(() => argumentLabels(args, 'USER_TRUSTED')).toThrow(
      expect.objectContaining({ code: 'NON_JSON_VALUE' }),
    );
  });

  it('escapes ~ and / in names (RFC 6901), so a name cannot read as another pointer', () => {
    expect(escapeJsonPointer('a/b~c')).toBe('a~1b~0c');
    expect(escapeJsonPointer('plain')).toBe('plain');
    const labels = argumentLabels(
      { '/to': createLabeled('evil@example.com', 'EXTERNAL_UNTRUSTED'), to: 'boss@example.com' },
      'USER_TRUSTED',
    );
    expect({ ...labels }).toEqual({ '/~1to': 'EXTERNAL_UNTRUSTED', '/to': 'USER_TRUSTED' });
  });

  const label = fc.constantFrom(...PROVENANCE_LABELS);
  const leaf = fc.oneof(fc.string({ maxLength: 4 }), fc.integer(), fc.boolean(), fc.constant(null));
  const labelledTree = fc.letrec<{ tree: unknown }>((tie) => ({
    tree: fc.oneof(
      { depthSize: 'small' },
      leaf,
      fc.tuple(tie('tree'), label).map(([value, own]) => createLabeled(value, own)),
      fc.array(tie('tree'), { maxLength: 3 }),
      fc.dictionary(fc.string({ maxLength: 4 }), tie('tree'), { maxKeys: 3 }),
    ),
  })).tree;

  it('never labels the call more trusted than any of its leaves (property)', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ maxLength: 4 }), labelledTree, { minKeys: 1, maxKeys: 4 }),
        label,
        (args, declared) => {
          const labels = argumentLabels(args, declared);
          const effective = labelOf(args, declared);
          const values = Object.values(labels ?? {});
          for (const value of values) expect(trustRank(value)).toBeGreaterThanOrEqual(trustRank(effective));
        },
      ),
    );
  });

  it('gives plain leaves exactly the declared label, never more (property)', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ maxLength: 4 }), leaf, { minKeys: 1, maxKeys: 5 }),
        label,
        (args, declared) => {
          for (const value of Object.values(argumentLabels(args, declared) ?? {}))
            expect(value).toBe(declared);
        },
      ),
    );
  });

  it('names only pointers built from the structure: adding a property named like a pointer never changes the others (property)', () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.string({ maxLength: 4 }).filter((key) => !key.includes('/')),
          labelledTree,
          { maxKeys: 4 },
        ),
        fc.string({ maxLength: 4 }),
        label,
        (args, suffix, declared) => {
          const before = { ...(argumentLabels(args, declared) ?? {}) };
          const forgedName = `/${suffix}`;
          const after = argumentLabels(
            { ...args, [forgedName]: createLabeled('x', 'EXTERNAL_UNTRUSTED') },
            declared,
          );
          for (const [pointer, value] of Object.entries(before)) expect(after?.[pointer]).toBe(value);
          expect(after?.[`/~1${escapeJsonPointer(suffix)}`]).toBe('EXTERNAL_UNTRUSTED');
        },
      ),
    );
  });
});
