import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadPolicy, validatePolicy } from './index.js';
import { sameJson } from './__fixtures__/same-json.js';
import { DEFAULT_POLICY_LIMITS } from './limits.js';
import { readJsonText } from './read-json.js';
import type { PolicyFinding, PolicyLimits } from './types.js';

const POLICIES = join(import.meta.dirname, '..', '..', '..', 'policies');

function read(text: string, limits: Partial<PolicyLimits> = {}) {
  return readJsonText(text, 'policy.json', { ...DEFAULT_POLICY_LIMITS, ...limits });
}

/** The findings of text the reader refuses (it must refuse it). */
function refused(text: string, limits: Partial<PolicyLimits> = {}): readonly PolicyFinding[] {
  const result = read(text, limits);
  if (result.ok) throw new Error(`accepted: ${text.slice(0, 80)}`);
  return result.findings;
}

/** The value of text the reader accepts (it must accept it). */
function accepted(text: string, limits: Partial<PolicyLimits> = {}): unknown {
  const result = read(text, limits);
  if (!result.ok) throw new Error(result.findings.map((finding) => finding.message).join('; '));
  return result.value;
}

/** The source map of text the reader accepts (it must accept it). */
function sourceMapOf(text: string) {
  const result = read(text);
  if (!result.ok) throw new Error(result.findings.map((finding) => finding.message).join('; '));
  return result.sourceMap;
}

/** JSON values without the keys the reader refuses on purpose (prototype keys). */
const jsonValue = fc
  .jsonValue()
  .filter((value) => !/"(__proto__|constructor|prototype)":/.test(JSON.stringify(value)));

describe('readJsonText: the values JSON.parse gives, for every JSON object', () => {
  it('reads any JSON object, compact or indented, as JSON.parse does (prototype-free objects)', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string(), jsonValue),
        fc.constantFrom(undefined, 1, 2, '\t'),
        (root, indent) => {
          const document = Object.fromEntries(
            Object.entries(root).filter(([key]) => !['__proto__', 'constructor', 'prototype'].includes(key)),
          );
          const text = JSON.stringify(document, null, indent);
          expect(sameJson(accepted(text, { maxDepth: 1000, maxNodes: 1e7 }), JSON.parse(text), 'any')).toBe(
            true,
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keeps -0, exponents, escapes, lone surrogates and non-BMP text exactly', () => {
    const text =
      '{"a": -0, "b": 1E+2, "c": -0.5e-3, "d": "\\u00e9\\n\\t\\"\\\\\\/", "e": "\\ud800", "f": "😀", "g": [true, false, null]}';
    const value = accepted(text);
    expect(sameJson(value, JSON.parse(text), 'any')).toBe(true);
    expect(Object.is((value as { a: number }).a, -0)).toBe(true);
  });

  it('accepts what JSON.parse accepts and refuses what it refuses, on mutated documents', () => {
    const alphabet = fc.constantFrom(...'{}[]:,"\\ \n\t-+.0123456789eEtrufalsn/\'#x\u0000\u001f'.split(''));
    const mutated = fc
      .tuple(
        fc.dictionary(fc.string({ maxLength: 4 }), jsonValue, { maxKeys: 4 }),
        fc.array(fc.tuple(fc.nat(), fc.constantFrom('delete', 'insert', 'replace'), alphabet), {
          minLength: 1,
          maxLength: 3,
        }),
      )
      .map(([root, edits]) => {
        let text = JSON.stringify(root);
        for (const [at, how, character] of edits) {
          const index = at % (text.length + 1);
          if (how === 'delete') text = text.slice(0, index) + text.slice(index + 1);
          else if (how === 'insert') text = text.slice(0, index) + character + text.slice(index);
          else text = text.slice(0, index) + character + text.slice(index + 1);
        }
        return text;
      });
    fc.assert(
      fc.property(mutated, (text) => {
        let theirs: unknown;
        let parses = true;
        try {
          theirs = JSON.parse(text);
        } catch {
          parses = false;
        }
        const ours = read(text, { maxDepth: 1000, maxNodes: 1e7 });
        if (!parses) {
          // JSON.parse refuses it: so does the reader, with a syntax finding (or the root check).
          expect(ours.ok).toBe(false);
          if (!ours.ok) {
            const codes = ours.findings.map((finding) => finding.code);
            expect(codes.some((code) => code === 'JSON_SYNTAX' || code === 'SCHEMA')).toBe(true);
          }
        } else if (ours.ok) {
          expect(sameJson(ours.value, theirs, 'any')).toBe(true);
        } else {
          // Valid JSON that the reader refuses on purpose, and only for these reasons.
          for (const finding of ours.findings) {
            expect(['DUPLICATE_KEY', 'UNKNOWN_KEY', 'SCHEMA']).toContain(finding.code);
          }
          if (ours.findings.some((finding) => finding.code === 'SCHEMA')) {
            const rootIsObject = typeof theirs === 'object' && theirs !== null && !Array.isArray(theirs);
            expect(!rootIsObject || /\d[eE]\+?\d{3}/.test(text)).toBe(true);
          }
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('readJsonText: refusals, each with its code, line, column and path', () => {
  const cases: readonly [string, string, string, number, number, string | undefined, RegExp][] = [
    [
      'a trailing comma',
      '{"a": 1,}',
      'JSON_SYNTAX',
      1,
      9,
      undefined,
      /expected a key in double quotes; found "}"/,
    ],
    ['a trailing comma in an array', '{"a": [1,\n]}', 'JSON_SYNTAX', 2, 1, undefined, /expected a value/],
    ['single quotes', "{'a': 1}", 'JSON_SYNTAX', 1, 2, undefined, /expected a key in double quotes/],
    ['an unquoted key (YAML flow style)', '{version: 1}', 'JSON_SYNTAX', 1, 2, undefined, /double quotes/],
    ['a comment', '{"a": 1 // no\n}', 'JSON_SYNTAX', 1, 9, undefined, /expected "," or "}"/],
    [
      'a hash comment',
      '{"a": 1}\n# no',
      'JSON_SYNTAX',
      2,
      1,
      undefined,
      /unexpected text after the JSON object/,
    ],
    ['a missing colon', '{"a" 1}', 'JSON_SYNTAX', 1, 6, undefined, /expected ":" after a key/],
    ['a control character in a string', '{"a": "x\ty"}', 'JSON_SYNTAX', 1, 9, undefined, /control character/],
    ['an invalid escape', '{"a": "\\x41"}', 'JSON_SYNTAX', 1, 8, undefined, /invalid escape/],
    ['a short unicode escape', '{"a": "\\u12"}', 'JSON_SYNTAX', 1, 8, undefined, /invalid escape/],
    ['an unterminated string', '{"a": "abc', 'JSON_SYNTAX', 1, 7, undefined, /without its closing quote/],
    ['a leading zero', '{"a": 01}', 'JSON_SYNTAX', 1, 8, undefined, /expected "," or "}"/],
    ['a bare minus', '{"a": -}', 'JSON_SYNTAX', 1, 7, undefined, /invalid number/],
    ['a plus sign', '{"a": +1}', 'JSON_SYNTAX', 1, 7, undefined, /expected a value/],
    ['NaN', '{"a": NaN}', 'JSON_SYNTAX', 1, 7, undefined, /expected a value/],
    ['a truncated literal', '{"a": tru}', 'JSON_SYNTAX', 1, 7, undefined, /expected a value/],
    ['a missing closing brace', '{"a": 1', 'JSON_SYNTAX', 1, 8, undefined, /found the end of the text/],
    ['two objects', '{}{}', 'JSON_SYNTAX', 1, 3, undefined, /unexpected text after/],
    ['an array at the root', '[1]', 'SCHEMA', 1, 1, '$', /must be one object/],
    ['YAML', 'name: a\n', 'SCHEMA', 1, 1, '$', /must be one object/],
    ['nothing', '  \n', 'SCHEMA', 2, 1, '$', /must be one object/],
    ['an infinite number', '{"a": {"b": 1e400}}', 'SCHEMA', 1, 13, '$.a.b', /numbers must be finite/],
  ];
  for (const [name, text, code, line, column, path, message] of cases) {
    it(`refuses ${name}`, () => {
      const [finding] = refused(text);
      expect(finding).toMatchObject({ severity: 'error', code, line, column, file: 'policy.json' });
      expect(finding?.path).toBe(path);
      expect(finding?.message).toMatch(message);
    });
  }

  it('refuses a key written twice, also when escapes spell the same key, and names the first line', () => {
    const findings = refused('{\n  "name": "a",\n  "n\\u0061me": "b"\n}');
    expect(findings).toEqual([
      expect.objectContaining({
        code: 'DUPLICATE_KEY',
        line: 3,
        column: 3,
        path: '$.name',
        message: 'the key "name" appears twice in this object (first on line 2). Keep one.',
      }),
    ]);
  });

  it('refuses prototype keys as unknown keys, reports every one, and never touches a prototype', () => {
    const findings = refused('{"__proto__": {"polluted": true}, "a": {"constructor": 1, "prototype": 2}}');
    expect(findings.map((finding) => [finding.code, finding.path])).toEqual([
      ['UNKNOWN_KEY', '$.__proto__'],
      ['UNKNOWN_KEY', '$.a.constructor'],
      ['UNKNOWN_KEY', '$.a.prototype'],
    ]);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('refuses nesting past maxDepth at the collection that passes it', () => {
    const [finding] = refused('{"a": {"b": [1]}}', { maxDepth: 2 });
    expect(finding).toMatchObject({ code: 'LIMIT_DEPTH', path: '$.a.b', line: 1, column: 13 });
    expect(accepted('{"a": {"b": 1}}', { maxDepth: 2 })).toBeDefined();
  });

  it('reads a depth bomb without recursion: refused by the default limit, and read when the limit allows it', () => {
    const depth = 200_000;
    const bomb = `{"m": ${'['.repeat(depth)}${']'.repeat(depth)}}`;
    expect(refused(bomb)[0]?.code).toBe('LIMIT_DEPTH');
    let value = (accepted(bomb, { maxDepth: depth + 1, maxNodes: depth + 2 }) as { m: unknown }).m;
    let levels = 0;
    while (Array.isArray(value)) {
      levels += 1;
      value = value[0];
    }
    expect(levels).toBe(depth);
  });

  it('refuses a collection with more entries than maxKeysPerMapping, object or array', () => {
    expect(refused('{"a": 1, "b": 2, "c": 3}', { maxKeysPerMapping: 2 })[0]).toMatchObject({
      code: 'LIMIT_KEYS',
      path: '$',
      column: 18,
    });
    expect(refused('{"a": [1, 2, 3]}', { maxKeysPerMapping: 2 })[0]).toMatchObject({
      code: 'LIMIT_KEYS',
      path: '$.a',
    });
    expect(accepted('{"a": [1, 2]}', { maxKeysPerMapping: 2 })).toBeDefined();
  });

  it('refuses more values than maxNodes', () => {
    expect(refused('{"a": [1, 2, 3]}', { maxNodes: 4 })[0]).toMatchObject({
      code: 'LIMIT_NODES',
      path: '$.a[2]',
    });
    expect(accepted('{"a": [1, 2]}', { maxNodes: 4 })).toBeDefined();
  });
});

describe('readJsonText: positions and what else a file may hold', () => {
  it('skips a leading byte-order mark and any JSON whitespace (CRLF line ends too)', () => {
    expect(accepted('\ufeff\r\n\t {"a": 1}\r\n')).toEqual(Object.assign(Object.create(null), { a: 1 }));
  });

  it('places values and keys by line and column, with CRLF line ends', () => {
    const map = sourceMapOf(
      '{\r\n  "name": "x",\r\n  "allowed_actions": [\r\n    "a",\r\n    "b"\r\n  ]\r\n}',
    );
    expect(map.locate('$')).toEqual({ line: 1, column: 1 });
    expect(map.locate('$.name')).toEqual({ line: 2, column: 11 });
    expect(map.locate('$.name#key')).toEqual({ line: 2, column: 3 });
    expect(map.locate('$.allowed_actions[1]')).toEqual({ line: 5, column: 5 });
    expect(map.locate('$.missing')).toBeUndefined();
  });

  it('places array entries by index at any depth, and keys that look like indexes by their key', () => {
    const map = sourceMapOf('{"a": [[1, 2],\n {"b": 3}],\n "x[1]": 5, "y": {"0": [4]}}');
    expect(map.locate('$.a')).toEqual({ line: 1, column: 7 });
    expect(map.locate('$.a[0]')).toEqual({ line: 1, column: 8 });
    expect(map.locate('$.a[0][1]')).toEqual({ line: 1, column: 12 });
    expect(map.locate('$.a[1]')).toEqual({ line: 2, column: 2 });
    expect(map.locate('$.a[1].b')).toEqual({ line: 2, column: 8 });
    expect(map.locate('$["x[1]"]')).toEqual({ line: 3, column: 10 });
    expect(map.locate('$.y["0"][0]')).toEqual({ line: 3, column: 25 });
    for (const missing of ['$.a[2]', '$.a[01]', '$.a[-1]', '$.a[0][2]', '$.y[0]', '$.z[0]', '$.a[x]']) {
      expect(map.locate(missing)).toBeUndefined();
    }
  });

  it('builds objects without a prototype and keeps key order', () => {
    const value = accepted('{"b": {"d": 1, "c": 2}, "a": []}') as Record<string, Record<string, number>>;
    expect(Object.getPrototypeOf(value)).toBeNull();
    expect(Object.getPrototypeOf(value['b'])).toBeNull();
    expect(Object.keys(value)).toEqual(['b', 'a']);
    expect(Object.keys(value['b'] ?? {})).toEqual(['d', 'c']);
  });
});

describe('JSON policies through loadPolicy and validatePolicy', () => {
  const shipped = readdirSync(POLICIES).filter(
    (name) => name.endsWith('.yaml') && !name.endsWith('.test.yaml'),
  );

  it('compile every shipped policy written as JSON to the same policy (digest and rules) as its YAML', () => {
    expect(shipped.length).toBeGreaterThanOrEqual(7);
    for (const name of shipped) {
      const yamlText = readFileSync(join(POLICIES, name), 'utf8');
      const fromYaml = loadPolicy({ text: yamlText, filename: name });
      const jsonText = JSON.stringify(parseYaml(yamlText), null, 2);
      const fromJson = loadPolicy({
        text: jsonText,
        format: 'json',
        filename: name.replace(/yaml$/, 'json'),
      });
      expect(fromJson.digest).toBe(fromYaml.digest);
      // The same rows, each placed on its own line of its own file.
      const withoutLine = (rows: ReturnType<typeof fromYaml.explain>) =>
        rows.map(({ line: _line, ...row }) => row);
      expect(withoutLine(fromJson.explain())).toEqual(withoutLine(fromYaml.explain()));
      const lines = jsonText.split('\n').length;
      fromJson.explain().forEach((row, index) => {
        expect(row.line === undefined).toBe(fromYaml.explain()[index]?.line === undefined);
        if (row.line !== undefined) expect(row.line).toBeGreaterThan(1);
        if (row.line !== undefined) expect(row.line).toBeLessThan(lines);
      });
    }
  });

  it('report a JSON syntax error as a finding with file, line and column, never a throw', () => {
    const validation = validatePolicy({ text: '{\n  "version": 1,\n}', format: 'json', filename: 'p.json' });
    expect(validation.ok).toBe(false);
    expect(validation.findings).toEqual([
      expect.objectContaining({ code: 'JSON_SYNTAX', file: 'p.json', line: 3, column: 1 }),
    ]);
  });

  it('place a rule of a JSON policy on its line (findings of the compiler use the JSON positions)', () => {
    const validation = validatePolicy({
      text: '{\n  "version": 1,\n  "allowed_actions": ["read_file"],\n  "forbidden_actions": ["read_file"]\n}',
      format: 'json',
      filename: 'p.json',
    });
    const conflict = validation.findings.find((finding) => finding.path?.startsWith('$.forbidden_actions'));
    expect(conflict?.line).toBe(4);
  });
});
