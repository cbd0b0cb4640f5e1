import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { childPath } from './findings.js';
import { loadPolicy } from './index.js';
import { sameJson } from './__fixtures__/same-json.js';
import { DEFAULT_POLICY_LIMITS } from './limits.js';
import { readBlockYaml } from './read-block-yaml.js';
import { readComposedYaml, readPolicyText } from './read-text.js';
import type { ReadResult } from './source-offsets.js';
import type { PolicyLimits } from './types.js';

const POLICIES = join(import.meta.dirname, '..', '..', '..', 'policies');

function quick(text: string, limits: Partial<PolicyLimits> = {}): ReadResult | undefined {
  return readBlockYaml(text, { ...DEFAULT_POLICY_LIMITS, ...limits });
}

function full(text: string, limits: Partial<PolicyLimits> = {}): ReadResult {
  return readComposedYaml(text, undefined, { ...DEFAULT_POLICY_LIMITS, ...limits });
}

/** Every value's path in `value` with its location, and every key's (`path#key`), in document order. */
function locations(result: ReadResult): Array<[string, unknown]> {
  if (!result.ok) throw new Error('not read');
  const out: Array<[string, unknown]> = [];
  const pending: Array<[string, unknown]> = [['$', result.value]];
  while (pending.length > 0) {
    const [path, value] = pending.pop()!;
    out.push([path, result.sourceMap.locate(path)]);
    if (Array.isArray(value)) {
      for (const [index, entry] of value.entries()) pending.push([childPath(path, index), entry]);
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, entry] of Object.entries(value)) {
        out.push([`${childPath(path, key)}#key`, result.sourceMap.locate(`${childPath(path, key)}#key`)]);
        pending.push([childPath(path, key), entry]);
      }
    }
  }
  return out;
}

/**
 * The reader's contract: it declines, or it reads the text exactly as the full path does (which
 * must then accept it), down to the location of every value and key.
 */
function agrees(text: string, limits: Partial<PolicyLimits> = {}): boolean {
  const ours = quick(text, limits);
  if (ours === undefined) return true;
  const theirs = full(text, limits);
  if (!ours.ok || !theirs.ok) {
    throw new Error(`the quick reader answered where the full path refuses:\n${text}`);
  }
  if (!sameJson(ours.value, theirs.value)) {
    throw new Error(
      `different values:\n${text}\n${JSON.stringify(ours.value)}\n${JSON.stringify(theirs.value)}`,
    );
  }
  expect(locations(ours)).toEqual(locations(theirs));
  return true;
}

describe('readBlockYaml: the quick reader of block YAML', () => {
  it('reads every shipped policy and policy test file as the full path does, in their own style and in block style', () => {
    const files = readdirSync(POLICIES).filter((name) => name.endsWith('.yaml'));
    expect(files.length).toBeGreaterThan(10);
    // As written: most use flow lists (`[a, b]`) somewhere, which it leaves to the full path.
    for (const name of files) expect(agrees(readFileSync(join(POLICIES, name), 'utf8'))).toBe(true);
    expect(quick(readFileSync(join(POLICIES, 'example_policy.yaml'), 'utf8'))?.ok).toBe(true);
    // The same documents written in block style only: it reads all but the two with empty lists
    // (`[]`, a flow list) and block scalars (`|`).
    const declined: string[] = [];
    for (const name of files) {
      const block = stringify(parse(readFileSync(join(POLICIES, name), 'utf8')), {
        lineWidth: 0,
        collectionStyle: 'block',
      });
      if (quick(block) === undefined) declined.push(name);
      expect(agrees(block)).toBe(true);
    }
    expect(declined).toEqual(['human_in_loop.test.yaml', 'human_in_loop.yaml']);
  });

  it('reads the common shapes, with the locations the full path gives', () => {
    const text = [
      '# a policy',
      'version: 1',
      'name: "shapes"   # trailing comment',
      'allowed_actions:',
      '- fs.read',
      "- 'it''s'",
      'rules:',
      '  - action: fs.write',
      '    effect: allow',
      '    limits:',
      '      max: 10',
      '      ratio: 0.5',
      '      strict: TRUE',
      '      none: ~',
      '  -',
      '    action: net.get',
      '',
      'nested:',
      '    deeper:',
      '        - -3',
      '        - /workspace/**',
      'last: _x',
    ].join('\n');
    const ours = quick(text);
    expect(ours?.ok).toBe(true);
    expect(agrees(text)).toBe(true);
    if (ours?.ok !== true) return;
    expect(JSON.parse(JSON.stringify(ours.value))).toEqual({
      version: 1,
      name: 'shapes',
      allowed_actions: ['fs.read', "it's"],
      rules: [
        { action: 'fs.write', effect: 'allow', limits: { max: 10, ratio: 0.5, strict: true, none: null } },
        { action: 'net.get' },
      ],
      nested: { deeper: [-3, '/workspace/**'] },
      last: '_x',
    });
    expect(ours.sourceMap.locate('$.rules[1].action#key')).toEqual({ line: 16, column: 5 });
    expect(ours.sourceMap.locate('$.rules[1].action')).toEqual({ line: 16, column: 13 });
    expect(ours.sourceMap.locate('$.allowed_actions[1]')).toEqual({ line: 6, column: 3 });
  });

  it.each([
    ['a flow list', 'a: [1, 2]\n'],
    ['a flow map', 'a: {b: 1}\n'],
    ['an anchor and an alias', 'a: &x 1\nb: *x\n'],
    ['a tag', 'a: !!str 1\n'],
    ['a block scalar', 'a: |\n  text\n'],
    ['an explicit key', '? a\n: 1\n'],
    ['a document marker', '---\na: 1\n'],
    ['a directive', '%YAML 1.2\n---\na: 1\n'],
    ['a second document', 'a: 1\n---\nb: 2\n'],
    ['a byte-order mark', '\uFEFFa: 1\n'],
    ['a tab before a value', 'a:\t1\n'],
    ['a plain scalar over two lines', 'a: one\n  two\n'],
    ['a quoted scalar over two lines', 'a: "one\n  two"\n'],
    ['an escape in double quotes', 'a: "\\u0041"\n'],
    ['a character outside printable ASCII', 'a: caf\u00e9\n'],
    ['an empty value', 'a:\nb: 1\n'],
    ['an empty value at the end', 'a: 1\nb:\n'],
    ['an empty entry', '- \n- a\n'],
    ['null as a key', 'null: 1\n'],
    ['a boolean as a key', 'true: 1\n'],
    ['a number the core schema reads otherwise', 'a: 0x1F\n'],
    ['a leading zero', 'a: 007\n'],
    ['an exponent', 'a: 1e3\n'],
    ['infinity', 'a: .inf\n'],
    ['a number as a key', '1: a\n'],
    ['a duplicate key', 'a: 1\na: 2\n'],
    ['a prototype key', '__proto__: 1\n'],
    ['a scalar document', 'just text\n'],
    ['an empty document', '# nothing\n'],
    ['a compact nested list', '- - a\n'],
    ['a mapping in a mapping on one line', 'a: b: c\n'],
    ['a line indented too far', 'a: 1\n  b: 2\n'],
    ['a line between two indents', 'a:\n    b: 1\n  c: 2\n'],
    ['a list where a mapping was', 'a: 1\n- b\n'],
    ['a CR alone', 'a: 1\rb: 2\n'],
  ])('declines %s, which the full path reads', (_name, text) => {
    expect(quick(text)).toBeUndefined();
  });

  it('reads CRLF line ends as the full path does', () => {
    const text = 'a: 1\r\nb:\r\n  - x\r\n';
    expect(quick(text)?.ok).toBe(true);
    expect(agrees(text)).toBe(true);
  });

  it('declines text over a limit, so the full path reports it', () => {
    const list = `a:\n${Array.from({ length: 20 }, (_, index) => `  - v${index}`).join('\n')}\n`;
    expect(quick(list)?.ok).toBe(true);
    expect(quick(list, { maxKeysPerMapping: 19 })).toBeUndefined();
    expect(quick(list, { maxKeysPerMapping: 20 })?.ok).toBe(true);
    expect(agrees(list, { maxKeysPerMapping: 20, maxNodes: 22 })).toBe(true);
    expect(quick(list, { maxNodes: 21 })).toBeUndefined();
    expect(quick(list, { maxNodes: 22 })?.ok).toBe(true);
    const deep = 'a:\n  b:\n    c: 1\n';
    expect(quick(deep, { maxDepth: 2 })).toBeUndefined();
    expect(quick(deep, { maxDepth: 3 })?.ok).toBe(true);
    expect(agrees(deep, { maxDepth: 3 })).toBe(true);
    for (const limits of [{ maxKeysPerMapping: 19 }, { maxNodes: 21 }]) {
      const result = readPolicyText(list, 'yaml', 'p.yaml', { ...DEFAULT_POLICY_LIMITS, ...limits });
      expect(result.ok).toBe(false);
    }
    const result = readPolicyText(deep, 'yaml', 'p.yaml', { ...DEFAULT_POLICY_LIMITS, maxDepth: 2 });
    expect(result.ok ? [] : result.findings.map((finding) => finding.code)).toContain('LIMIT_DEPTH');
  });

  it('counts entries, not comment lines, against the entries limit (both paths)', () => {
    // A comment indented like the entries after a mapping's last one is a token item of its own.
    const text = 'a:\n  x: 1\n  y: 2\n  z: 3\n  # a note\nb: 1\n';
    expect(full(text, { maxKeysPerMapping: 3 }).ok).toBe(true);
    expect(agrees(text, { maxKeysPerMapping: 3 })).toBe(true);
    const over = full(text, { maxKeysPerMapping: 2 });
    expect(over.ok ? [] : over.findings.map((finding) => [finding.code, finding.message])).toEqual([
      ['LIMIT_KEYS', 'a collection with 3 entries, over the limit of 2'],
    ]);
  });

  it('gives the full path the findings of text it declines', () => {
    const result = readPolicyText('a: 1\na: 2\n', 'yaml', 'p.yaml', DEFAULT_POLICY_LIMITS);
    expect(result.ok ? [] : result.findings.map((finding) => [finding.code, finding.line])).toEqual([
      ['DUPLICATE_KEY', 2],
    ]);
  });

  it('loads a large policy to the same decisions as its JSON form', () => {
    const actions = Array.from({ length: 2_000 }, (_, index) => `tool.${index}`);
    const yaml = `version: 1\nname: large\nallowed_actions:\n${actions.map((action) => `  - "${action}"`).join('\n')}\n`;
    const limits = { maxKeysPerMapping: 10_000 };
    expect(quick(yaml, limits)?.ok).toBe(true);
    const fromYaml = loadPolicy({ text: yaml, filename: 'large.yaml' }, { limits });
    const fromJson = loadPolicy(
      {
        text: JSON.stringify({ version: 1, name: 'large', allowed_actions: actions }),
        filename: 'large.json',
      },
      { limits },
    );
    expect(fromYaml.digest).toBe(fromJson.digest);
  });
});

/** Scalars as written that the quick reader reads. */
const SIMPLE_SCALARS = [
  'fs.read',
  'tool.*',
  '/workspace/**',
  '_x',
  'a b',
  'a:b',
  'a#b',
  'x-ape-path',
  '^https://',
  '$x',
  '(x)',
  '<x>',
  '=x',
  '"quoted"',
  '"a: b # c"',
  '""',
  "''",
  "'it''s'",
  "'a'''",
  "'#'",
  '0',
  '1',
  '-1',
  '1.5',
  '-2.25',
  'true',
  'False',
  'NULL',
  'null',
  '~',
  'yes',
  'on',
];

/** Scalars as written that the core schema reads as something else, or that are not one-line scalars. */
const TRICKY_SCALARS = [
  'a #b',
  'a: b',
  '"a\\tb"',
  '"a\\"b"',
  '-0',
  '007',
  '1.',
  '.5',
  '1e3',
  '0x1F',
  '0o17',
  '+1',
  '12345678901234567',
  '.inf',
  '-.inf',
  '.nan',
  '@x',
  '`x',
  '%x',
  '-x',
  ':x',
  '?x',
  '.x',
  '+x',
  '~x',
  '!t x',
  '!!str 1',
  '&a x',
  '*a',
  '[1, 2]',
  '{a: 1}',
  '|',
  '>',
  '? x',
  '- x',
  'café',
  'a\tb',
  '"tab\there"',
  '-',
  ':',
  '#',
  ' ',
  '',
];

const scalar = fc.oneof(
  { arbitrary: fc.constantFrom(...SIMPLE_SCALARS), weight: 15 },
  { arbitrary: fc.constantFrom(...TRICKY_SCALARS), weight: 1 },
);
const keyText = fc.oneof(
  {
    arbitrary: fc.constantFrom('a', 'b', 'rules', 'action', 'effect', '"q"', "'s'", 'a b', '"a: b"'),
    weight: 20,
  },
  { arbitrary: fc.constantFrom('1', 'true', '__proto__', 'constructor'), weight: 1 },
  { arbitrary: scalar, weight: 1 },
);

type Tree =
  | { kind: 'scalar'; text: string }
  | { kind: 'map'; entries: Array<[string, Tree]> }
  | { kind: 'seq'; entries: Tree[] };

/** Trees of block collections and scalars; `unique` draws each mapping's keys without repeats. */
function trees(unique: boolean): fc.Arbitrary<Tree> {
  return fc.letrec<{ tree: Tree }>((tie) => ({
    tree: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      scalar.map((text) => ({ kind: 'scalar' as const, text })),
      (unique
        ? fc.uniqueArray(fc.tuple(keyText, tie('tree')), {
            minLength: 1,
            maxLength: 4,
            selector: ([key]) => key,
          })
        : fc.array(fc.tuple(keyText, tie('tree')), { minLength: 1, maxLength: 4 })
      ).map((entries) => ({ kind: 'map' as const, entries })),
      fc
        .array(tie('tree'), { minLength: 1, maxLength: 4 })
        .map((entries) => ({ kind: 'seq' as const, entries })),
    ),
  })).tree;
}

const tree = trees(false);
const collection = trees(true).filter((root) => root.kind !== 'scalar');

/** How a tree is written: indents, where lists sit under keys, compact entries, comments and blank lines. */
interface Style {
  readonly step: number;
  readonly seqSameIndent: boolean;
  readonly compact: boolean;
  readonly comments: boolean;
  readonly blank: boolean;
  /** What goes between a collection's first two entries when `blank`: an empty, white or comment line. */
  readonly filler: string;
  readonly spacing: string;
  readonly rootIndent: number;
}

const style: fc.Arbitrary<Style> = fc.record({
  step: fc.integer({ min: 1, max: 4 }),
  seqSameIndent: fc.boolean(),
  compact: fc.boolean(),
  comments: fc.boolean(),
  blank: fc.boolean(),
  filler: fc.constantFrom('', '   ', '# c', '      # deeper', '\t'),
  spacing: fc.constantFrom(' ', ' ', '  ', '   ', ' \t'),
  rootIndent: fc.constantFrom(0, 0, 0, 1, 2),
});

/** Writes `node` as block YAML lines at `indent`. */
function render(node: Tree, indent: number, how: Style, out: string[]): void {
  const pad = ' '.repeat(indent);
  const tail = how.comments ? '  # note' : '';
  if (node.kind === 'scalar') {
    out.push(`${pad}${node.text}${tail}`);
    return;
  }
  for (const [index, entry] of node.entries.entries()) {
    if (how.blank && index === 1) out.push(how.filler);
    if (node.kind === 'map') {
      const [key, value] = entry as [string, Tree];
      if (value.kind === 'scalar') {
        out.push(`${pad}${key}:${how.spacing}${value.text}${tail}`);
      } else {
        out.push(`${pad}${key}:${how.comments ? ' # open' : ''}`);
        const inner = value.kind === 'seq' && how.seqSameIndent ? indent : indent + how.step;
        render(value, inner, how, out);
      }
      continue;
    }
    const value = entry as Tree;
    if (value.kind === 'scalar') {
      out.push(`${pad}-${how.spacing}${value.text}${tail}`);
    } else if (value.kind === 'map' && how.compact) {
      const lines: string[] = [];
      render(value, indent + 2, how, lines);
      out.push(`${pad}- ${lines[0]!.slice(indent + 2)}`, ...lines.slice(1));
    } else {
      out.push(`${pad}-`);
      render(value, indent + how.step, how, out);
    }
  }
}

/** Edits that break or bend the text: one character inserted, removed or replaced. */
const edit = fc.tuple(
  fc.nat(),
  fc.constantFrom('insert', 'remove', 'replace'),
  fc.constantFrom(
    ' ',
    '\t',
    '\n',
    '-',
    ':',
    '#',
    '"',
    "'",
    '&',
    '*',
    '!',
    '[',
    '{',
    '|',
    '>',
    '?',
    'a',
    '1',
    '\r',
  ),
);

describe('readBlockYaml agrees with the full path', () => {
  it('for block YAML written in any style (property)', () => {
    fc.assert(
      fc.property(
        fc.oneof({ arbitrary: collection, weight: 4 }, { arbitrary: tree, weight: 1 }),
        style,
        (root, how) => {
          const lines: string[] = [];
          render(root, how.rootIndent, how, lines);
          return agrees(`${lines.join('\n')}\n`);
        },
      ),
      { numRuns: 3_000 },
    );
  });

  it('for block YAML under small limits: it reads only what the full path accepts (property)', () => {
    const limits = fc.record({
      maxDepth: fc.integer({ min: 1, max: 6 }),
      maxKeysPerMapping: fc.integer({ min: 1, max: 5 }),
      maxNodes: fc.integer({ min: 1, max: 40 }),
    });
    fc.assert(
      fc.property(collection, style, limits, (root, how, small) => {
        const lines: string[] = [];
        render(root, how.rootIndent, how, lines);
        return agrees(`${lines.join('\n')}\n`, small);
      }),
      { numRuns: 3_000 },
    );
  });

  it('for block YAML with one character inserted, removed or replaced (property)', () => {
    fc.assert(
      fc.property(collection, style, edit, (root, how, [at, kind, character]) => {
        const lines: string[] = [];
        render(root, how.rootIndent, how, lines);
        const text = `${lines.join('\n')}\n`;
        const position = at % (text.length + 1);
        const edited =
          kind === 'insert'
            ? text.slice(0, position) + character + text.slice(position)
            : kind === 'remove'
              ? text.slice(0, position) + text.slice(position + 1)
              : text.slice(0, position) + character + text.slice(position + 1);
        return agrees(edited);
      }),
      { numRuns: 3_000 },
    );
  });

  it('for any text made of the characters YAML cares about (property)', () => {
    const soup = fc
      .array(
        fc.constantFrom(
          ' ',
          ' ',
          '  ',
          '\n',
          '\n',
          '- ',
          ': ',
          ':',
          '-',
          '#',
          '"',
          "'",
          "''",
          'a',
          'b',
          'key',
          '1',
          '0.5',
          'true',
          '~',
          '\t',
          '\r\n',
          '[',
          ']',
          '{',
          '}',
          ',',
          '&x',
          '*x',
          '!',
          '|',
          '>',
          '?',
          '%',
          '@',
          '---',
          '...',
          '\\',
          'é',
          '\r',
          '\u0000',
          '\u000c',
          '\u001b',
          '\u0085',
          '\u2028',
          '\ufeff',
          '\ud800',
        ),
        { maxLength: 60 },
      )
      .map((parts) => parts.join(''));
    fc.assert(
      fc.property(soup, (text) => agrees(text)),
      { numRuns: 5_000 },
    );
  });

  it('reads the plain shape it is for (property)', () => {
    const word = fc
      .stringMatching(/^[a-z_][a-z0-9_.*/-]{0,12}$/)
      .filter((text) => !/^(?:null|true|false)$/.test(text));
    const plain: fc.Arbitrary<Tree> = fc.letrec<{ tree: Tree }>((tie) => ({
      tree: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        fc
          .oneof(
            word,
            word.map((text) => `"${text}"`),
            fc.integer().map(String),
          )
          .map((text) => ({
            kind: 'scalar' as const,
            text,
          })),
        fc
          .uniqueArray(fc.tuple(word, tie('tree')), { minLength: 1, maxLength: 4, selector: ([key]) => key })
          .map((entries) => ({ kind: 'map' as const, entries })),
        fc
          .array(tie('tree'), { minLength: 1, maxLength: 4 })
          .map((entries) => ({ kind: 'seq' as const, entries })),
      ),
    })).tree;
    fc.assert(
      fc.property(
        plain.filter((root) => root.kind !== 'scalar'),
        style.filter((how) => !how.spacing.includes('\t') && how.filler !== '\t'),
        (root, how) => {
          const lines: string[] = [];
          render(root, how.rootIndent, how, lines);
          const text = `${lines.join('\n')}\n`;
          expect(quick(text)?.ok).toBe(true);
          return agrees(text);
        },
      ),
      { numRuns: 1_000 },
    );
  });
});
