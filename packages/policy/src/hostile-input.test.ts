import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PolicyError } from '@ape/core';
import { describe, expect, it } from 'vitest';
import { compilePolicy, loadPolicy, validatePolicy } from './index.js';
import type { PolicyFinding } from './types.js';

function findingsOf(text: string, format: 'yaml' | 'json' = 'yaml'): readonly PolicyFinding[] {
  const result = validatePolicy({ text, format, filename: 'hostile.yaml' });
  expect(result.ok).toBe(false);
  expect(result.policy).toBeUndefined();
  return result.findings;
}

function expectLoadError(
  text: string,
  code: string,
  path?: string,
  format: 'yaml' | 'json' = 'yaml',
): PolicyError {
  let thrown: unknown;
  try {
    loadPolicy({ text, format, filename: 'hostile.yaml' });
  } catch (error) {
    thrown = error;
  }
  expect(PolicyError.isInstance(thrown)).toBe(true);
  const error = thrown as PolicyError;
  expect(error.code).toBe('POLICY_INVALID');
  const findings = error.details['findings'] as PolicyFinding[];
  expect(findings.map((finding) => finding.code)).toContain(code);
  if (path !== undefined) {
    expect(findings.find((finding) => finding.code === code)?.path).toBe(path);
    expect(error.message).toContain(path);
  }
  expect(error.message).toContain('hostile.yaml');
  return error;
}

const flowDepthBomb = '['.repeat(100_000);
const blockDepthBomb = Array.from({ length: 900 }, (_, index) => `${' '.repeat(index)}k:`).join('\n');
const sequenceDepthBomb = `${'- '.repeat(50_000)}x`;
const billionLaughs = [
  'a: &a ["x","x","x","x","x","x","x","x","x","x"]',
  ...Array.from({ length: 8 }, (_, index) => {
    const previous = String.fromCharCode(97 + index);
    const name = String.fromCharCode(98 + index);
    return `${name}: &${name} [${Array.from({ length: 10 }, () => `*${previous}`).join(',')}]`;
  }),
].join('\n');
const manyAliases = `x: &x 1\nmetadata: [${Array.from({ length: 150 }, () => '*x').join(', ')}]`;

const HOSTILE: readonly [string, string, string][] = [
  ['a flow depth bomb', flowDepthBomb, 'LIMIT_DEPTH'],
  ['a block depth bomb', blockDepthBomb, 'LIMIT_DEPTH'],
  ['a sequence depth bomb', sequenceDepthBomb, 'LIMIT_DEPTH'],
  ['a billion-laughs alias bomb', billionLaughs, 'LIMIT_NODES'],
  ['too many aliases', manyAliases, 'LIMIT_ALIASES'],
  ['an over-size text', `description: "${'x'.repeat(1024 * 1024)}"`, 'LIMIT_SIZE'],
  ['duplicate keys', 'name: a\nname: b\n', 'DUPLICATE_KEY'],
  ['a custom tag', 'name: !custom a\n', 'TAG'],
  ['a js tag', 'name: !!js/function "function(){}"\n', 'TAG'],
  ['a yaml 1.1 binary tag', 'description: !!binary aGVsbG8=\n', 'TAG'],
  ['two documents', 'name: a\n---\nname: b\n', 'MULTI_DOCUMENT'],
  ['a YAML 1.1 directive', '%YAML 1.1\n---\nname: a\n', 'DIRECTIVE'],
  ['a __proto__ key', '__proto__:\n  polluted: true\n', 'UNKNOWN_KEY'],
  [
    'too many keys in a mapping',
    `metadata:\n${Array.from({ length: 1001 }, (_, index) => `  k${index}: 1`).join('\n')}`,
    'LIMIT_KEYS',
  ],
  ['a syntax error', 'rules: [\n', 'YAML_SYNTAX'],
  ['an alias to its own ancestor', 'metadata: &a { x: *a }\n', 'YAML_SYNTAX'],
  ['a redefined anchor', 'metadata: { a: &x 1, b: &x 2, c: *x }\n', 'YAML_SYNTAX'],
];

describe('hostile input', () => {
  it.each(HOSTILE)('rejects %s with its code', (_name, text, code) => {
    expect(findingsOf(text).map((finding) => finding.code)).toContain(code);
  });

  it('survives every hostile input many times in a row in one process', () => {
    for (let round = 0; round < 10; round++) {
      for (const [, text, code] of HOSTILE) {
        const result = validatePolicy({ text });
        expect(result.ok).toBe(false);
        expect(result.findings.some((finding) => finding.code === code)).toBe(true);
      }
    }
  });

  it('survives 300 depth bombs in a row', () => {
    for (let round = 0; round < 300; round++) {
      const text = round % 3 === 0 ? flowDepthBomb : round % 3 === 1 ? sequenceDepthBomb : blockDepthBomb;
      expect(validatePolicy({ text }).findings[0]?.code).toBe('LIMIT_DEPTH');
    }
  });

  it('places a depth bomb caught before parsing at its line and column (line 1 is line 1)', () => {
    const bomb = `${'['.repeat(100)}${']'.repeat(100)}`;
    // The 65th bracket passes the default maxDepth of 64.
    expect(findingsOf(`metadata: ${bomb}\n`)[0]).toMatchObject({ code: 'LIMIT_DEPTH', line: 1, column: 75 });
    expect(findingsOf(`version: 1\nmetadata: ${bomb}\n`)[0]).toMatchObject({
      code: 'LIMIT_DEPTH',
      line: 2,
      column: 75,
    });
  });

  it('rejects a depth bomb in JSON input too', () => {
    const text = `{"metadata": ${'['.repeat(5000)}${']'.repeat(5000)}}`;
    expect(findingsOf(text, 'json').map((finding) => finding.code)).toContain('LIMIT_DEPTH');
  });

  it('rejects duplicate keys in JSON input', () => {
    expect(findingsOf('{"name": "a", "name": "b"}', 'json').map((finding) => finding.code)).toContain(
      'DUPLICATE_KEY',
    );
  });

  it('rejects YAML that is not a JSON object when the format is json', () => {
    expect(findingsOf('name: a\n', 'json').map((finding) => finding.code)).toContain('SCHEMA');
  });

  it('accepts core-schema tags such as !!str', () => {
    const policy = loadPolicy({ text: 'name: !!str policy-1\nallowed_actions: [read_file]\n' });
    expect(policy.name).toBe('policy-1');
  });

  it('reports prototype keys as unknown keys with their path and never pollutes a prototype', () => {
    const error = expectLoadError(
      '__proto__:\n  polluted: true\nconstructor: 1\n',
      'UNKNOWN_KEY',
      '$.__proto__',
    );
    expect(error.message).toContain('$.constructor');
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
  });

  it('rejects prototype keys nested inside argument schemas', () => {
    const text = [
      'rules:',
      '  - id: r',
      '    actions: [a]',
      '    effect: allow',
      '    when:',
      '      args:',
      '        type: object',
      '        properties:',
      '          prototype: { type: string }',
    ].join('\n');
    expectLoadError(text, 'UNKNOWN_KEY', '$.rules[0].when.args.properties.prototype');
  });

  it('names the line and column of a duplicate key', () => {
    const error = expectLoadError('name: a\nallowed_actions: []\nname: b\n', 'DUPLICATE_KEY');
    const finding = (error.details['findings'] as PolicyFinding[])[0]!;
    expect(finding.line).toBe(3);
    expect(error.message).toContain('hostile.yaml:3:1');
  });

  it('reports a file over the size limit before reading it', () => {
    const result = validatePolicy({ text: 'name: abc\n' }, { limits: { maxBytes: 4 } });
    expect(result.findings[0]?.code).toBe('LIMIT_SIZE');
  });

  it('honours lower limits given as options', () => {
    const text = 'metadata: { a: { b: { c: 1 } } }\n';
    expect(validatePolicy({ text }, { limits: { maxDepth: 2 } }).findings[0]?.code).toBe('LIMIT_DEPTH');
    expect(
      validatePolicy({ text: 'metadata: { a: 1, b: 2, c: 3 }' }, { limits: { maxKeysPerMapping: 2 } })
        .findings[0]?.code,
    ).toBe('LIMIT_KEYS');
    expect(
      validatePolicy({ text: 'allowed_actions: [a, b, c]' }, { limits: { maxRules: 2 } }).findings[0]?.code,
    ).toBe('LIMIT_RULES');
  });
});

describe('wrong types everywhere', () => {
  const CASES: readonly [string, string, string, string][] = [
    ['version 2', 'version: 2\n', 'SCHEMA', '$.version'],
    ['a numeric name', 'name: 5\n', 'SCHEMA', '$.name'],
    ['a list given as a string', 'allowed_actions: read_file\n', 'SCHEMA', '$.allowed_actions'],
    ['an invalid action pattern', 'forbidden_actions: ["rm -rf"]\n', 'SCHEMA', '$.forbidden_actions[0]'],
    ['three stars', 'forbidden_actions: ["a***"]\n', 'SCHEMA', '$.forbidden_actions[0]'],
    [
      'an unknown effect',
      'rules:\n  - { id: r, actions: [a], effect: permit }\n',
      'SCHEMA',
      '$.rules[0].effect',
    ],
    ['a rule without id', 'rules:\n  - { actions: [a], effect: allow }\n', 'SCHEMA', '$.rules[0]'],
    [
      'a rule with no actions',
      'rules:\n  - { id: r, actions: [], effect: allow }\n',
      'SCHEMA',
      '$.rules[0].actions',
    ],
    ['default allow', 'default: allow\n', 'SCHEMA', '$.default'],
    ['an unknown top-level key', 'allow_actions: [a]\n', 'UNKNOWN_KEY', '$.allow_actions'],
    [
      'an unknown rule key',
      'rules:\n  - { id: r, actions: [a], effect: allow, iff: {} }\n',
      'UNKNOWN_KEY',
      '$.rules[0].iff',
    ],
    [
      'an unknown provenance label',
      'rules:\n  - { id: r, actions: [a], effect: allow, when: { provenance: [ROOT] } }\n',
      'SCHEMA',
      '$.rules[0].when.provenance[0]',
    ],
    [
      'an empty when',
      'rules:\n  - { id: r, actions: [a], effect: allow, when: {} }\n',
      'SCHEMA',
      '$.rules[0].when',
    ],
    [
      'args that are not a schema object',
      'rules:\n  - { id: r, actions: [a], effect: allow, when: { args: 5 } }\n',
      'SCHEMA',
      '$.rules[0].when.args',
    ],
    [
      'a negative budget',
      'limits:\n  - { actions: [a], max_calls: -1 }\n',
      'SCHEMA',
      '$.limits[0].max_calls',
    ],
    [
      'a fractional budget',
      'limits:\n  - { actions: [a], max_calls: 1.5 }\n',
      'SCHEMA',
      '$.limits[0].max_calls',
    ],
    ['a transition that is not a list', 'tool_transitions: { a: b }\n', 'SCHEMA', '$.tool_transitions.a'],
    ['metadata that is a list', 'metadata: [1]\n', 'SCHEMA', '$.metadata'],
    [
      'a tenant that allows',
      'tenants:\n  t:\n    rules:\n      - { id: r, actions: [a], effect: allow }\n',
      'SCHEMA',
      '$.tenants.t.rules[0].effect',
    ],
    [
      'a tenant with an unknown key',
      'tenants:\n  t:\n    version: 1\n',
      'UNKNOWN_KEY',
      '$.tenants.t.version',
    ],
    ['a root that is a list', '- a\n- b\n', 'SCHEMA', '$'],
    ['an empty document', '', 'SCHEMA', '$'],
    ['a non-finite number', 'metadata: { x: .inf }\n', 'SCHEMA', '$.metadata.x'],
    [
      'an unknown format',
      'rules:\n  - { id: r, actions: [a], effect: allow, when: { args: { type: object, properties: { u: { type: string, format: uri } } } } }\n',
      'ARGS_SCHEMA',
      '$.rules[0].when.args',
    ],
    [
      'an unknown schema keyword',
      'rules:\n  - { id: r, actions: [a], effect: allow, when: { args: { type: object, requird: [x] } } }\n',
      'ARGS_SCHEMA',
      '$.rules[0].when.args.requird',
    ],
    [
      'a bad path keyword',
      'rules:\n  - { id: r, actions: [a], effect: allow, when: { args: { type: object, properties: { p: { x-ape-path: { roots: [relative] } } } } } }\n',
      'ARGS_SCHEMA',
      '$.rules[0].when.args.properties.p["x-ape-path"].roots[0]',
    ],
    [
      'a pattern with a backreference (no linear-time match)',
      'rules:\n  - { id: r, actions: [a], effect: allow, when: { args: { type: object, properties: { p: { type: string, pattern: "^(a+)\\\\1$" } } } } }\n',
      'UNSAFE_PATTERN',
      '$.rules[0].when.args.properties.p.pattern',
    ],
  ];

  it.each(CASES)('rejects %s with its code and path', (_name, text, code, path) => {
    expectLoadError(text, code, path);
  });

  it('reports several findings together', () => {
    const error = expectLoadError('version: 3\nname: 7\nbogus: 1\n', 'SCHEMA');
    const codes = (error.details['findings'] as PolicyFinding[]).map((finding) => finding.code);
    expect(codes).toEqual(expect.arrayContaining(['SCHEMA', 'UNKNOWN_KEY']));
    expect(error.message).toContain('$.version');
    expect(error.message).toContain('$.name');
    expect(error.message).toContain('$.bogus');
  });

  it('says that default-deny cannot be turned off', () => {
    expect(expectLoadError('default: allow\n', 'SCHEMA').message).toContain('cannot turn default-deny off');
  });
});

describe('compilePolicy with hostile objects', () => {
  function expectCompileError(document: unknown, code: string, path: string): void {
    let thrown: unknown;
    try {
      compilePolicy(document);
    } catch (error) {
      thrown = error;
    }
    expect(PolicyError.isInstance(thrown)).toBe(true);
    const findings = (thrown as PolicyError).details['findings'] as PolicyFinding[];
    expect(findings.find((finding) => finding.code === code)?.path).toBe(path);
  }

  it('rejects an own __proto__ key', () => {
    expectCompileError(
      JSON.parse('{"__proto__": {"x": 1}, "allowed_actions": []}'),
      'UNKNOWN_KEY',
      '$.__proto__',
    );
  });

  it('rejects accessor properties without calling them', () => {
    let called = false;
    const document = {
      get name() {
        called = true;
        return 'x';
      },
    };
    expectCompileError(document, 'SCHEMA', '$.name');
    expect(called).toBe(false);
  });

  it('rejects class instances and functions', () => {
    expectCompileError({ metadata: { when: new Date(0) } }, 'SCHEMA', '$.metadata.when');
    expectCompileError({ metadata: { run: () => 1 } }, 'SCHEMA', '$.metadata.run');
  });

  it('rejects non-finite numbers, symbols and BigInt with SCHEMA at their path', () => {
    expectCompileError({ metadata: { ratio: Number.NaN } }, 'SCHEMA', '$.metadata.ratio');
    expectCompileError({ metadata: { big: 10n } }, 'SCHEMA', '$.metadata.big');
    expectCompileError({ metadata: { tag: Symbol('x') } }, 'SCHEMA', '$.metadata.tag');
  });

  it('applies the load limits to a host object: values, keys, items and depth', () => {
    function codesAt(document: unknown, limits: Record<string, number>): [string, string][] {
      try {
        compilePolicy(document, { limits });
      } catch (error) {
        const findings = (error as PolicyError).details['findings'] as PolicyFinding[];
        expect((error as PolicyError).code).toBe('POLICY_INVALID');
        return findings.map((finding) => [finding.code, finding.path ?? '']);
      }
      throw new Error('expected the document to be refused');
    }
    const items = Array.from({ length: 20 }, (_, n) => `a${n}`);
    expect(codesAt({ allowed_actions: items }, { maxNodes: 5 })).toEqual([
      ['LIMIT_NODES', '$.allowed_actions[3]'],
    ]);
    expect(codesAt({ allowed_actions: items }, { maxKeysPerMapping: 10 })).toEqual([
      ['LIMIT_KEYS', '$.allowed_actions'],
    ]);
    expect(
      codesAt({ metadata: Object.fromEntries(items.map((item) => [item, 1])) }, { maxKeysPerMapping: 10 }),
    ).toEqual([['LIMIT_KEYS', '$.metadata']]);
    expect(codesAt({ metadata: { a: { b: { c: 1 } } } }, { maxDepth: 3 })).toEqual([
      ['LIMIT_DEPTH', '$.metadata.a.b'],
    ]);
  });

  it('skips undefined properties of a host object, as JSON.stringify does', () => {
    const policy = compilePolicy({ name: 'skips', description: undefined, allowed_actions: ['read'] });
    expect(policy.name).toBe('skips');
  });

  it('rejects a cycle as too deep', () => {
    const metadata: Record<string, unknown> = {};
    metadata['self'] = metadata;
    expect(() => compilePolicy({ metadata })).toThrow(expect.objectContaining({ code: 'POLICY_INVALID' }));
  });
});

describe('file encoding', () => {
  it('refuses a policy file that is not valid UTF-8 with ENCODING instead of decoding U+FFFD', () => {
    const directory = mkdtempSync(join(tmpdir(), 'ape-policy-utf8-'));
    try {
      const file = join(directory, 'bad.yaml');
      writeFileSync(
        file,
        Buffer.concat([Buffer.from('version: 1\nname: caf'), Buffer.from([0xe9]), Buffer.from('\n')]),
      );
      const result = validatePolicy(file);
      expect(result.ok).toBe(false);
      expect(result.findings[0]).toMatchObject({ code: 'ENCODING', file });
      const bom = join(directory, 'bom.yaml');
      writeFileSync(bom, `\uFEFFversion: 1\nname: bom\nallowed_actions: [read_file]\n`);
      expect(validatePolicy(bom).ok).toBe(true);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
