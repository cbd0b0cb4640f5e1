import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  forgetCanonicalText,
  hashCanonical,
  MAX_CANONICAL_DEPTH,
  rememberCanonicalText,
  sha256,
} from './canonical-json.js';
import { ApeError } from './errors.js';

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return ApeError.isInstance(error) ? error.code : 'NOT_AN_APE_ERROR';
  }
  return undefined;
}

describe('canonicalJson', () => {
  it('sorts keys at every level and drops whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}',
    );
  });

  it('sorts keys by UTF-16 code units, not locale', () => {
    expect(canonicalJson({ b: 1, B: 2, é: 3, a: 4, '10': 5, '9': 6 })).toBe(
      '{"10":5,"9":6,"B":2,"a":4,"b":1,"é":3}',
    );
  });

  it('prints numbers as ECMAScript does and -0 as 0', () => {
    expect(canonicalJson([1, 1.5, -0, 1e21, 1e-7, 0.1])).toBe('[1,1.5,0,1e+21,1e-7,0.1]');
  });

  it('escapes strings, including lone surrogates, deterministically', () => {
    expect(canonicalJson('a"b\\c\n\u0000\ud800')).toBe('"a\\"b\\\\c\\n\\u0000\\ud800"');
  });

  it('omits object properties whose value is undefined', () => {
    expect(canonicalJson({ a: undefined, b: 1 })).toBe('{"b":1}');
  });

  it('accepts objects without a prototype and keeps a "__proto__" key as data', () => {
    const bare = Object.create(null) as Record<string, unknown>;
    bare['x'] = 1;
    expect(canonicalJson(bare)).toBe('{"x":1}');
    expect(canonicalJson(JSON.parse('{"__proto__":{"polluted":true}}'))).toBe(
      '{"__proto__":{"polluted":true}}',
    );
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it.each([
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['a function', () => 1],
    ['a BigInt', 10n],
    ['a symbol', Symbol('s')],
    ['undefined at the top', undefined],
    ['undefined in an array', [1, undefined]],
    ['a Date', new Date(0)],
    ['a Map', new Map()],
    ['a class instance', new (class Point {})()],
    ['a sparse array', Object.assign(new Array(3), { 0: 1, 2: 3 })],
    ['a symbol-keyed property', { [Symbol('k')]: 1 }],
  ])('rejects %s with NON_JSON_VALUE', (_name, value) => {
    expect(codeOf(() => canonicalJson(value))).toBe('NON_JSON_VALUE');
  });

  it('rejects cycles naming the path', () => {
    const cyclic: Record<string, unknown> = { a: { b: {} } };
    (cyclic['a'] as Record<string, Record<string, unknown>>)['b']!['c'] = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow(/\$\.a\.b\.c: a cycle/);
  });

  it('accepts a repeated (non-cyclic) reference', () => {
    const shared = { x: 1 };
    expect(canonicalJson({ a: shared, b: shared })).toBe('{"a":{"x":1},"b":{"x":1}}');
  });

  it('refuses nesting deeper than the limit instead of overflowing the stack', () => {
    let deep: unknown = 1;
    for (let index = 0; index < MAX_CANONICAL_DEPTH + 1; index++) deep = [deep];
    expect(codeOf(() => canonicalJson(deep))).toBe('NON_JSON_VALUE');
    let bomb: unknown = 1;
    for (let index = 0; index < 100_000; index++) bomb = { a: bomb };
    expect(codeOf(() => canonicalJson(bomb))).toBe('NON_JSON_VALUE');
  });

  it('round-trips through JSON.parse to the same text (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = canonicalJson(value);
        expect(canonicalJson(JSON.parse(text))).toBe(text);
      }),
      { numRuns: 500 },
    );
  });

  it('equals a plain sorted-key serialiser on any JSON value (property)', () => {
    const reference = (value: unknown): string => {
      if (Array.isArray(value)) return `[${value.map(reference).join(',')}]`;
      if (typeof value === 'object' && value !== null) {
        const keys = Object.keys(value).sort();
        const record = value as Record<string, unknown>;
        return `{${keys
          .filter((key) => record[key] !== undefined)
          .map((key) => `${JSON.stringify(key)}:${reference(record[key])}`)
          .join(',')}}`;
      }
      return JSON.stringify(value);
    };
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(canonicalJson(value)).toBe(reference(value));
      }),
      { numRuns: 500 },
    );
  });

  it('prints every finite number as JSON.stringify does, alone and inside containers (property)', () => {
    const finite = fc.oneof(
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.integer(),
      fc.constantFrom(-0, 0, 5e-324, 1e21, 1e-7, 123e-20, Number.MAX_VALUE, -Number.MAX_SAFE_INTEGER),
    );
    fc.assert(
      fc.property(finite, (value) => {
        expect(canonicalJson(value)).toBe(JSON.stringify(value));
        expect(canonicalJson([value, { n: value }])).toBe(
          `[${JSON.stringify(value)},{"n":${JSON.stringify(value)}}]`,
        );
      }),
      { numRuns: 1000 },
    );
    expect(canonicalJson(-0)).toBe('0');
  });

  it('quotes any string as JSON.stringify does, as a value and as a key, however it was built (property)', () => {
    // Code units that need an escape, surrogates (lone and paired) and plain text, in any mix.
    const unit = fc.oneof(
      fc.constantFrom('"', '\\', '\n', '\u0000', '\u001f', '\u007f', '\ud800', '\udfff', '😀', 'é', 'a'),
      fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)),
    );
    const text = fc.array(unit, { maxLength: 40 }).map((units) => units.join(''));
    fc.assert(
      fc.property(text, text, (head, tail) => {
        const joined = head + tail; // a concatenated string
        const sliced = `xx${joined}yy`.slice(2, 2 + joined.length); // a slice of another
        for (const value of [head, joined, sliced]) {
          expect(canonicalJson(value)).toBe(JSON.stringify(value));
          expect(canonicalJson({ [value]: value })).toBe(
            `{${JSON.stringify(value)}:${JSON.stringify(value)}}`,
          );
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('names the path of a nested failure, in arrays and objects alike', () => {
    expect(() => canonicalJson({ a: [1, { b: Number.NaN }] })).toThrow(/at \$\.a\[1\]\.b: the number NaN/);
    expect(() => canonicalJson({ list: Object.assign(new Array(2), { 0: 1 }) })).toThrow(
      /at \$\.list\[1\]: a hole in an array/,
    );
    const getter = Object.defineProperty({ x: { y: 1 } }, 'z', { get: () => 1, enumerable: true });
    expect(() => canonicalJson({ outer: getter })).toThrow(/at \$\.outer\.z: an accessor property/);
  });

  it('refuses a Proxy without running its traps', () => {
    let trapped = 0;
    const proxy = new Proxy(
      { a: 1 },
      {
        getPrototypeOf(target) {
          trapped++;
          return Object.getPrototypeOf(target);
        },
        ownKeys(target) {
          trapped++;
          return Reflect.ownKeys(target);
        },
      },
    );
    expect(codeOf(() => canonicalJson({ inner: proxy }))).toBe('NON_JSON_VALUE');
    expect(() => canonicalJson({ inner: proxy })).toThrow(/at \$\.inner: a Proxy/);
    expect(trapped).toBe(0);
  });

  it('gives the same hash whatever the key order (property)', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (record) => {
        const reversed = Object.fromEntries(Object.entries(record).reverse());
        expect(hashCanonical(reversed)).toBe(hashCanonical(record));
      }),
      { numRuns: 500 },
    );
  });
});

describe('rememberCanonicalText and forgetCanonicalText', () => {
  // A deliberately different text makes it visible whether canonicalJson answered from the slot.
  it('answers with the held text for that object only, and walks it again once forgotten', () => {
    const value = Object.freeze({ a: 1 });
    rememberCanonicalText(value, '"held"');
    try {
      expect(canonicalJson(value)).toBe('"held"');
      expect(canonicalJson({ a: 1 })).toBe('{"a":1}');
      expect(canonicalJson([value])).toBe('[{"a":1}]');
    } finally {
      forgetCanonicalText(value);
    }
    expect(canonicalJson(value)).toBe('{"a":1}');
  });

  it('holds one object: a later one replaces it, and forgetting another leaves it', () => {
    const first = Object.freeze({ n: 1 });
    const second = Object.freeze({ n: 2 });
    rememberCanonicalText(first, '"first"');
    rememberCanonicalText(second, '"second"');
    forgetCanonicalText(first);
    expect(canonicalJson(first)).toBe('{"n":1}');
    expect(canonicalJson(second)).toBe('"second"');
    forgetCanonicalText(second);
    expect(canonicalJson(second)).toBe('{"n":2}');
  });

  it('answers nothing for undefined while the slot is empty', () => {
    expect(codeOf(() => canonicalJson(undefined))).toBe('NON_JSON_VALUE');
  });
});

describe('sha256', () => {
  it('hashes UTF-8 text to lower-case hex', () => {
    expect(sha256('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256('é')).toBe(sha256('\u00e9'));
    expect(hashCanonical({ a: 1 })).toBe(sha256('{"a":1}'));
  });
});
