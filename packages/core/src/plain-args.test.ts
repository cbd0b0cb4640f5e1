import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { argumentLabels } from './argument-labels.js';
import { canonicalJson } from './canonical-json.js';
import { deepFreeze } from './deep-freeze.js';
import { createLabeled, labelOf, sourcesOf, unwrapLabeled } from './labeled.js';
import { combineLabels, PROVENANCE_LABELS } from './labels.js';
import { copyPlainArgs, LabelMaps } from './plain-args.js';
import { prepareArgs } from './runtime/prepared-call.js';
import type { ProvenanceLabel } from './types.js';

/** The general path the single walk stands in for. */
function general(args: Record<string, unknown>, label: ProvenanceLabel) {
  return {
    copy: deepFreeze(unwrapLabeled<Record<string, unknown>>(args)),
    argLabels: argumentLabels(args, label),
    provenance: labelOf(args, label),
  };
}

function isDeepFrozen(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return true;
  return Object.isFrozen(value) && Object.values(value).every(isDeepFrozen);
}

const label = fc.constantFrom(...PROVENANCE_LABELS);
// Keys that look like pointers, escapes, prototype names and array indices included.
const key = fc.oneof(
  fc.string(),
  fc.constantFrom('__proto__', 'constructor', 'a/b', '~0', '~1', '0', '', 'toString'),
);
const plainValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.string(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    tie('object'),
  ),
  object: fc
    .array(fc.tuple(key, fc.oneof(tie('value'), fc.constant(undefined))), { maxLength: 5 })
    .map((entries) => {
      const object: Record<string, unknown> = {};
      for (const [name, item] of entries) {
        Object.defineProperty(object, name, {
          value: item,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return object;
    }),
})).object;

describe('copyPlainArgs', () => {
  it('gives what the general path gives for any arguments without a labelled value (property)', () => {
    fc.assert(
      fc.property(plainValue, label, (args, plainLabel) => {
        const fast = copyPlainArgs(args, plainLabel);
        expect(fast).toBeDefined();
        const expected = general(args, plainLabel);
        expect(fast!.copy).toEqual(expected.copy);
        expect(Object.keys(fast!.copy)).toEqual(Object.keys(expected.copy));
        expect(canonicalJson(fast!.copy)).toBe(canonicalJson(expected.copy));
        expect(isDeepFrozen(fast!.copy)).toBe(true);
        expect(fast!.argLabels === undefined ? undefined : { ...fast!.argLabels }).toEqual(
          expected.argLabels === undefined ? undefined : { ...expected.argLabels },
        );
        if (fast!.argLabels !== undefined) {
          expect(Object.isFrozen(fast!.argLabels)).toBe(true);
          expect(Object.getPrototypeOf(fast!.argLabels)).toBeNull();
          expect(Object.keys(fast!.argLabels)).toEqual(Object.keys(expected.argLabels!));
        }
        expect(fast!.sawPlain ? combineLabels(plainLabel) : combineLabels()).toBe(expected.provenance);
      }),
      { numRuns: 500 },
    );
  });

  it('gives prepareArgs the same call the general path gives (property)', () => {
    fc.assert(
      fc.property(plainValue, label, (args, plainLabel) => {
        let prepared: ReturnType<typeof prepareArgs>;
        try {
          prepared = prepareArgs(0, 'act', args, plainLabel, 'EXTERNAL_UNTRUSTED');
        } catch {
          // Numbers canonical JSON refuses never reach here (no NaN or infinity generated).
          throw new Error('prepareArgs refused plain arguments');
        }
        const expected = general(args, plainLabel);
        expect(prepared.args).toEqual(expected.copy);
        expect(prepared.argsText).toBe(canonicalJson(expected.copy));
        expect(prepared.provenance).toBe(expected.provenance);
        expect(prepared.sources).toEqual(sourcesOf(args));
      }),
      { numRuns: 300 },
    );
  });

  it('shares one frozen label map between calls of the same shape and label, and only then', () => {
    const first = copyPlainArgs({ path: '/a', mode: 'r' }, 'USER_TRUSTED')!.argLabels!;
    const second = copyPlainArgs({ path: '/b', mode: 'w' }, 'USER_TRUSTED')!.argLabels!;
    expect(second).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(Object.getPrototypeOf(first)).toBeNull();
    expect({ ...first }).toEqual({ '/path': 'USER_TRUSTED', '/mode': 'USER_TRUSTED' });
    // Another label, another key order, another shape: another map.
    const untrusted = copyPlainArgs({ path: '/a', mode: 'r' }, 'EXTERNAL_UNTRUSTED')!.argLabels!;
    expect({ ...untrusted }).toEqual({ '/path': 'EXTERNAL_UNTRUSTED', '/mode': 'EXTERNAL_UNTRUSTED' });
    expect(Object.keys(copyPlainArgs({ mode: 'r', path: '/a' }, 'USER_TRUSTED')!.argLabels!)).toEqual([
      '/mode',
      '/path',
    ]);
    expect(Object.keys(copyPlainArgs({ path: ['/a', '/b'] }, 'USER_TRUSTED')!.argLabels!)).toEqual([
      '/path/0',
      '/path/1',
    ]);
  });

  it('never gives one list of pointers the label map of another, whatever characters the keys hold', () => {
    // Joined with a separator, these lists would read alike; each must get its own pointers.
    const shapes: Record<string, unknown>[] = [
      { a: 1, b: 1 },
      { 'a /b': 1 },
      { 'a 2:/b': 1 },
      { 'a\n/b': 1 },
      { a: { b: 1 } },
      { 'a/b': 1 },
    ];
    for (let round = 0; round < 2; round++) {
      for (const shape of shapes) {
        const labels = copyPlainArgs(shape, 'SYSTEM_TRUSTED')!.argLabels!;
        expect({ ...labels }).toEqual({ ...argumentLabels(shape, 'SYSTEM_TRUSTED') });
      }
    }
  });

  it('stays right past the bound of kept label maps', () => {
    for (let index = 0; index < 2100; index++) {
      const args = { [`k${index}`]: index, long: 'x' };
      const labels = copyPlainArgs(args, 'USER_TRUSTED')!.argLabels!;
      expect(Object.keys(labels)).toEqual([`/k${index}`, '/long']);
    }
    // A map of pointers too long to keep is built for each call, equal all the same.
    const wide = { ['k'.repeat(600)]: 1 };
    const once = copyPlainArgs(wide, 'USER_TRUSTED')!.argLabels!;
    const again = copyPlainArgs(wide, 'USER_TRUSTED')!.argLabels!;
    expect(again).not.toBe(once);
    expect(again).toEqual(once);
  });

  it('keeps `__proto__` an own property of the copy and never runs an inherited setter', () => {
    const args = JSON.parse('{"__proto__":{"polluted":true},"a":1}') as Record<string, unknown>;
    const fast = copyPlainArgs(args, 'USER_TRUSTED')!;
    expect(Object.hasOwn(fast.copy, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(fast.copy)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect({ ...fast.argLabels }).toEqual({ '/__proto__/polluted': 'USER_TRUSTED', '/a': 'USER_TRUSTED' });
  });

  it('labels an empty argument object as plain and a tree of empty containers as not', () => {
    expect(copyPlainArgs({}, 'SYSTEM_TRUSTED')).toEqual({ copy: {}, argLabels: undefined, sawPlain: true });
    expect(copyPlainArgs({ a: {}, b: [] }, 'SYSTEM_TRUSTED')).toEqual({
      copy: { a: {}, b: [] },
      argLabels: undefined,
      sawPlain: false,
    });
    expect(labelOf({ a: {}, b: [] }, 'SYSTEM_TRUSTED')).toBe('EXTERNAL_UNTRUSTED');
  });

  // Each of these takes the general path, which labels, copies or refuses it as before.
  const cases: readonly [string, () => Record<string, unknown>][] = [
    ['a labelled value', () => ({ to: createLabeled('x', 'USER_TRUSTED') })],
    ['a labelled value deep inside', () => ({ a: [{ b: createLabeled(1, 'EXTERNAL_UNTRUSTED') }] })],
    [
      'a getter',
      () =>
        Object.defineProperty({}, 'a', {
          get: () => 1,
          enumerable: true,
        }) as Record<string, unknown>,
    ],
    ['a Proxy', () => ({ a: new Proxy({}, {}) })],
    ['a class instance', () => ({ when: new Date(0) })],
    ['a symbol key', () => ({ [Symbol('s')]: 1, a: 1 }) as Record<string, unknown>],
    ['a hole', () => ({ a: holey() })],
    ['undefined in an array', () => ({ a: [undefined] })],
    ['NaN', () => ({ a: Number.NaN })],
    ['Infinity', () => ({ a: Number.POSITIVE_INFINITY })],
    ['a function', () => ({ a: () => 1 })],
    ['a BigInt', () => ({ a: 1n })],
    ['deep nesting', () => nest(70)],
  ];
  it.each(cases)('leaves %s to the general path', (_name, make) => {
    expect(copyPlainArgs(make(), 'USER_TRUSTED')).toBeUndefined();
  });

  it('leaves arrays nested past the walk to the general path, which refuses them past 256 levels', () => {
    let deep: unknown = 1;
    for (let level = 0; level < 300; level++) deep = [deep];
    expect(copyPlainArgs({ deep }, 'USER_TRUSTED')).toBeUndefined();
    let refusal: unknown;
    try {
      prepareArgs(0, 'act', { deep }, 'USER_TRUSTED', 'EXTERNAL_UNTRUSTED');
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toMatchObject({
      code: 'ARGS_INVALID',
      message: 'Step 0 ("act"): arguments are not plain JSON: Arguments nested deeper than 256 levels.',
    });
  });

  it('never reads a getter (the general path refuses it)', () => {
    let reads = 0;
    const args = Object.defineProperty({ b: 2 }, 'a', {
      get: () => {
        reads++;
        return 1;
      },
      enumerable: true,
    }) as Record<string, unknown>;
    expect(copyPlainArgs(args, 'USER_TRUSTED')).toBeUndefined();
    expect(reads).toBe(0);
  });
});

function nest(depth: number): Record<string, unknown> {
  let value: Record<string, unknown> = { leaf: 1 };
  for (let level = 0; level < depth; level++) value = { a: value };
  return value;
}

/** `[1, <hole>, 3]`, written without a sparse array literal. */
function holey(): unknown[] {
  const array = [1];
  array[2] = 3;
  return array;
}

describe('LabelMaps', () => {
  const U = 'USER_TRUSTED';
  const S = 'SYSTEM_TRUSTED';

  it('keeps one map per label and list of pointers, counting a root per label and a node per pointer', () => {
    const maps = new LabelMaps(100);
    const a = maps.of(['/a'], U);
    expect(maps.nodes).toBe(2);
    expect(maps.of(['/a'], U)).toBe(a);
    const ab = maps.of(['/a', '/b'], U);
    expect(maps.nodes).toBe(3);
    expect({ ...ab }).toEqual({ '/a': U, '/b': U });
    expect(maps.of(['/b', '/a'], U)).not.toBe(ab);
    expect(maps.nodes).toBe(5);
    expect(maps.of(['/a'], S)).not.toBe(a);
    expect(maps.nodes).toBe(7);
    expect(maps.of(['/a', '/b'], U)).toBe(ab);
    expect(maps.of(['/a'], U)).toBe(a);
    expect(maps.nodes).toBe(7);
    // A prefix of a kept list gets its own map once asked for.
    const prefix = new LabelMaps(100);
    prefix.of(['/x', '/y'], U);
    const x = prefix.of(['/x'], U);
    expect({ ...x }).toEqual({ '/x': U });
    expect(prefix.of(['/x'], U)).toBe(x);
    expect(prefix.nodes).toBe(3);
  });

  it('starts again exactly when a new list would pass the bound, and never for a kept one', () => {
    const maps = new LabelMaps(6);
    const a = maps.of(['/a'], U); // root + 1 = 2
    maps.of(['/b'], U); // 3
    maps.of(['/c'], U); // 4
    maps.of(['/d'], U); // 4 + 1 + 1 = 6, not past 6: 5
    expect(maps.nodes).toBe(5);
    expect(maps.of(['/a'], U)).toBe(a);
    // Kept lists are found however full the tree is.
    expect(maps.nodes).toBe(5);
    maps.of(['/e'], U); // 5 + 1 + 1 = 7: the tree starts again, then root + 1
    expect(maps.nodes).toBe(2);
    const again = maps.of(['/a'], U);
    expect(again).not.toBe(a);
    expect(again).toEqual(a);
    expect(maps.nodes).toBe(3);
    // A list of two pointers needs room for three nodes.
    const two = new LabelMaps(4);
    two.of(['/a'], U); // 2
    two.of(['/b', '/c'], U); // 2 + 2 + 1 = 5 > 4: starts again, then 3
    expect(two.nodes).toBe(3);
  });

  it('builds, and does not keep, maps of too many pointers or with a pointer too long', () => {
    const maps = new LabelMaps(100, 2, 4);
    const two = maps.of(['/a', '/b'], U);
    expect(maps.of(['/a', '/b'], U)).toBe(two);
    const three = maps.of(['/a', '/b', '/c'], U);
    expect(maps.of(['/a', '/b', '/c'], U)).not.toBe(three);
    expect(Object.keys(three)).toEqual(['/a', '/b', '/c']);
    const nodes = maps.nodes;
    const atLimit = maps.of(['/abc'], U);
    expect(maps.of(['/abc'], U)).toBe(atLimit);
    expect(maps.nodes).toBe(nodes + 1);
    const tooLong = maps.of(['/abcd'], U);
    expect(maps.of(['/abcd'], U)).not.toBe(tooLong);
    expect({ ...tooLong }).toEqual({ '/abcd': U });
    expect(maps.nodes).toBe(nodes + 1);
    for (const map of [two, three, atLimit, tooLong]) {
      expect(Object.isFrozen(map)).toBe(true);
      expect(Object.getPrototypeOf(map)).toBeNull();
    }
  });
});
