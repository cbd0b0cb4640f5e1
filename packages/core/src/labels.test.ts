import { describe, expect, it } from 'vitest';
import { createLabeled, isLabeled, labelOf, sourcesOf, unwrapLabeled } from './labeled.js';
import { combineLabels, isAtLeast, isProvenanceLabel, trustRank } from './labels.js';

describe('provenance labels', () => {
  it('orders SYSTEM_TRUSTED > USER_TRUSTED > EXTERNAL_UNTRUSTED', () => {
    expect(trustRank('SYSTEM_TRUSTED')).toBeGreaterThan(trustRank('USER_TRUSTED'));
    expect(trustRank('USER_TRUSTED')).toBeGreaterThan(trustRank('EXTERNAL_UNTRUSTED'));
    expect(isAtLeast('USER_TRUSTED', 'USER_TRUSTED')).toBe(true);
    expect(isAtLeast('EXTERNAL_UNTRUSTED', 'USER_TRUSTED')).toBe(false);
  });

  it('combines to the least trusted and fails closed on empty or unknown', () => {
    expect(combineLabels('SYSTEM_TRUSTED', 'USER_TRUSTED')).toBe('USER_TRUSTED');
    expect(combineLabels('SYSTEM_TRUSTED')).toBe('SYSTEM_TRUSTED');
    expect(combineLabels()).toBe('EXTERNAL_UNTRUSTED');
    expect(combineLabels('SYSTEM_TRUSTED', 'system_trusted')).toBe('EXTERNAL_UNTRUSTED');
    expect(isProvenanceLabel('SYSTEM_TRUSTED ')).toBe(false);
    expect(isAtLeast('ROOT', 'EXTERNAL_UNTRUSTED')).toBe(false);
  });
});

describe('labelled values', () => {
  const web = createLabeled('rm -rf /', 'EXTERNAL_UNTRUSTED', ['https://evil.example/page']);
  const user = createLabeled('notes.txt', 'USER_TRUSTED', ['user']);

  it('are frozen and recognised by brand; an unknown label becomes EXTERNAL_UNTRUSTED', () => {
    expect(Object.isFrozen(web)).toBe(true);
    expect(isLabeled(web)).toBe(true);
    expect(isLabeled({ value: 1, label: 'SYSTEM_TRUSTED', sources: [] })).toBe(false);
    expect(createLabeled(1, 'ADMIN').label).toBe('EXTERNAL_UNTRUSTED');
  });

  it('have exactly value, label and sources as own properties; no copy keeps the brand', () => {
    expect(Reflect.ownKeys(web)).toEqual(['value', 'label', 'sources']);
    expect(Object.getOwnPropertySymbols(web)).toEqual([]);
    expect(Object.isFrozen(Object.getPrototypeOf(web))).toBe(true);
    expect(isLabeled({ ...web })).toBe(false);
    expect(isLabeled(structuredClone(web))).toBe(false);
    expect(isLabeled(JSON.parse(JSON.stringify(web)))).toBe(false);
    expect(isLabeled(Object.assign({}, web))).toBe(false);
    // The brand on the prototype cannot be removed or overwritten.
    const prototype = Object.getPrototypeOf(web) as Record<symbol, unknown>;
    expect(() => {
      prototype[Symbol.for('ape.labeled')] = false;
    }).toThrow(TypeError);
    expect(isLabeled(web)).toBe(true);
  });

  it('keep string sources, deduplicated in first-seen order, frozen', () => {
    const cases: [readonly unknown[], readonly string[]][] = [
      [[], []],
      [['a'], ['a']],
      [[7], []],
      [
        ['b', 'a', 'b', 3, 'c', 'a'],
        ['b', 'a', 'c'],
      ],
      [['x', 'x'], ['x']],
    ];
    for (const [given, expected] of cases) {
      const { sources } = createLabeled('v', 'USER_TRUSTED', given as string[]);
      expect(sources).toEqual(expected);
      expect(Object.isFrozen(sources)).toBe(true);
    }
    expect(createLabeled('v', 'USER_TRUSTED').sources).toEqual([]);
    // The caller's array is neither kept nor frozen.
    const mine = ['page'];
    const value = createLabeled('v', 'USER_TRUSTED', mine);
    expect(value.sources).not.toBe(mine);
    expect(Object.isFrozen(mine)).toBe(false);
    mine.push('later');
    expect(value.sources).toEqual(['page']);
  });

  it('labelOf walks nested objects and arrays and takes the least trusted', () => {
    expect(labelOf({ a: { b: [user] } }, 'SYSTEM_TRUSTED')).toBe('USER_TRUSTED');
    expect(labelOf({ a: [{ deep: [web] }], b: user }, 'SYSTEM_TRUSTED')).toBe('EXTERNAL_UNTRUSTED');
    expect(labelOf({ path: 'plain' }, 'USER_TRUSTED')).toBe('USER_TRUSTED');
    expect(labelOf({ path: 'plain' })).toBe('EXTERNAL_UNTRUSTED');
    expect(labelOf({}, 'SYSTEM_TRUSTED')).toBe('SYSTEM_TRUSTED');
    expect(labelOf({ only: user }, 'SYSTEM_TRUSTED')).toBe('USER_TRUSTED');
  });

  it('looks inside labelled values: a trusted wrapper never hides an untrusted value', () => {
    const laundered = createLabeled({ inner: web }, 'SYSTEM_TRUSTED', ['host']);
    expect(labelOf({ body: laundered }, 'SYSTEM_TRUSTED')).toBe('EXTERNAL_UNTRUSTED');
    expect(labelOf({ body: createLabeled({ text: 'plain inside' }, 'USER_TRUSTED') }, 'SYSTEM_TRUSTED')).toBe(
      'USER_TRUSTED',
    );
    expect(sourcesOf({ body: laundered })).toEqual(['host', 'https://evil.example/page']);
  });

  it('unwraps labelled values into plain JSON without touching the input', () => {
    const args = {
      path: user,
      list: [web, 'x'],
      nested: { value: createLabeled({ inner: web }, 'USER_TRUSTED') },
    };
    expect(unwrapLabeled(args)).toEqual({
      path: 'notes.txt',
      list: ['rm -rf /', 'x'],
      nested: { value: { inner: 'rm -rf /' } },
    });
    expect(args.path).toBe(user);
    expect(sourcesOf(args)).toEqual(['user', 'https://evil.example/page']);
  });
});
