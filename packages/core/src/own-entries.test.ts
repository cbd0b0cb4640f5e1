import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical-json.js';
import { deepFreeze } from './deep-freeze.js';
import { CanonicalJsonError } from './errors.js';
import { labelOf, sourcesOf, unwrapLabeled } from './labeled.js';
import { createLabeled } from './labeled.js';
import { ownEntries } from './own-entries.js';

function errorOf(run: () => unknown): CanonicalJsonError {
  try {
    run();
  } catch (error) {
    if (CanonicalJsonError.isInstance(error)) return error as CanonicalJsonError;
    throw error;
  }
  throw new Error('expected a CanonicalJsonError');
}

describe('ownEntries', () => {
  it('reads an array by index, ignoring its own map, Symbol.iterator and other own properties', () => {
    const array: unknown[] = ['a', 'b'];
    Object.defineProperty(array, 'map', { value: () => ['x'] });
    Object.defineProperty(array, Symbol.iterator, { value: [][Symbol.iterator].bind([]) });
    Object.defineProperty(array, 'extra', { value: 'hidden', enumerable: true });
    expect(ownEntries(array)).toEqual([
      [0, 'a'],
      [1, 'b'],
    ]);
  });

  it('gives a missing array element the value undefined', () => {
    // biome-ignore lint/suspicious/noSparseArray: the hole is what is tested
    expect(ownEntries([1, , 3])).toEqual([
      [0, 1],
      [1, undefined],
      [2, 3],
    ]);
  });

  it('refuses a getter without running it, with NON_JSON_VALUE and the path', () => {
    let runs = 0;
    const object = {
      get value() {
        runs += 1;
        return 1;
      },
    };
    const error = errorOf(() => ownEntries(object, '$.args'));
    expect(error.code).toBe('NON_JSON_VALUE');
    expect(error.details['path']).toBe('$.args.value');
    expect(runs).toBe(0);
  });

  it('refuses a Proxy with NON_JSON_VALUE', () => {
    expect(errorOf(() => ownEntries(new Proxy({}, {}))).message).toContain('a Proxy');
    expect(errorOf(() => ownEntries(new Proxy([], {}))).code).toBe('NON_JSON_VALUE');
  });
});

describe('every argument reader goes through ownEntries', () => {
  const hidden = (): unknown[] => {
    const array: unknown[] = ['plain', createLabeled('x', 'EXTERNAL_UNTRUSTED', ['https://evil.example'])];
    Object.defineProperty(array, Symbol.iterator, {
      value: function* () {
        yield 'plain';
      },
    });
    Object.defineProperty(array, 'map', { value: () => ['plain'] });
    return array;
  };

  it('labelOf and sourcesOf see an element hidden from the iterator', () => {
    expect(labelOf({ list: hidden() }, 'SYSTEM_TRUSTED')).toBe('EXTERNAL_UNTRUSTED');
    expect(sourcesOf({ list: hidden() })).toEqual(['https://evil.example']);
  });

  it('unwrapLabeled copies every element, not what an own map returns', () => {
    expect(unwrapLabeled({ list: hidden() })).toEqual({ list: ['plain', 'x'] });
  });

  it('labelOf fails closed (EXTERNAL_UNTRUSTED) on a getter; unwrapLabeled and canonicalJson refuse it', () => {
    const args = { list: [] as unknown[] };
    Object.defineProperty(args.list, 0, { get: () => 'a', enumerable: true });
    expect(labelOf(args, 'SYSTEM_TRUSTED')).toBe('EXTERNAL_UNTRUSTED');
    expect(errorOf(() => unwrapLabeled(args)).details['path']).toBe('$.list[0]');
    expect(errorOf(() => canonicalJson(args)).details['path']).toBe('$.list[0]');
  });

  it('deepFreeze never runs a getter', () => {
    let runs = 0;
    const value = { nested: { a: 1 } };
    Object.defineProperty(value, 'lazy', { get: () => ++runs, enumerable: true });
    deepFreeze(value);
    expect(runs).toBe(0);
    expect(Object.isFrozen(value.nested)).toBe(true);
  });
});
