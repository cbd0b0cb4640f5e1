import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ape, createScratch, expectNoStackTrace } from './run-ape.js';

/**
 * Policy authoring through the built binary: `ape test` (issue 17, item 1) and the messages of
 * `ape validate` for the mistakes authors make most (item 2), pinned word for word.
 */
let scratch: ReturnType<typeof createScratch>;

beforeAll(() => {
  scratch = createScratch();
  writeFileSync(
    join(scratch.path, 'mail.yaml'),
    'version: 1\nallowed_actions: [read_file]\nforbidden_actions: [delete_file]\nrules:\n  - { id: untrusted-mail, actions: [send_email], effect: escalate, when: { provenance: [EXTERNAL_UNTRUSTED] } }\n',
  );
});
afterAll(() => scratch.remove());

function run(...args: string[]) {
  return ape(args, { cwd: scratch.path });
}

function write(name: string, text: string): void {
  writeFileSync(join(scratch.path, name), text);
}

describe('ape test', () => {
  it('runs every shipped policy test in policies/ and passes', () => {
    const result = ape(['test', 'policies/']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const files = readdirSync(join(import.meta.dirname, '..', '..', 'policies')).filter((name) =>
      name.endsWith('.test.yaml'),
    ).length;
    expect(files).toBeGreaterThanOrEqual(7);
    expect(result.stdout).toMatch(new RegExp(`^\\d+ passed, 0 failed \\(${files} files\\)$`, 'm'));
  });

  it('exits 0 for a passing file, with one PASS line per case', () => {
    write(
      'mail.test.yaml',
      "cases:\n  - name: reads are allowed\n    request: { action: read_file }\n    expect: { decision: ALLOW, rules: ['allowed_actions[0]'] }\n  - name: untrusted mail needs a human\n    request: { action: send_email, provenance: EXTERNAL_UNTRUSTED }\n    expect: { decision: ESCALATE, rules: [untrusted-mail] }\n",
    );
    const result = run('test', 'mail.test.yaml');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      'mail.test.yaml (policy mail.yaml)\n  PASS reads are allowed (line 2)\n  PASS untrusted mail needs a human (line 5)\n\n2 passed, 0 failed (1 file)\n',
    );
  });

  it('exits 1 for a failing file and says what the policy answered', () => {
    write(
      'mail.test.yaml',
      'cases:\n  - name: trusted mail is allowed\n    request: { action: send_email }\n    expect: { decision: ALLOW }\n',
    );
    const result = run('test', '--junit', 'report.xml');
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      '  FAIL trusted mail is allowed (line 2): expected ALLOW, got DENY [default]: No rule allows "send_email" for this call (conditions of untrusted-mail not met); denied by default.\n',
    );
    expect(readFileSync(join(scratch.path, 'report.xml'), 'utf8')).toContain('failures="1" errors="0"');
    const json = JSON.parse(run('test', '--json').stdout);
    expect(json).toMatchObject({ ok: false, passed: 0, failed: 1, errors: 0 });
    expect(json.files[0].cases[0].actual).toMatchObject({ decision: 'DENY', rules: ['default'] });
  });

  it('exits 2 for a malformed test file, naming the line and the misspelt key', () => {
    write(
      'mail.test.yaml',
      'cases:\n  - name: one\n    request: { action: read_file, provenanse: USER_TRUSTED }\n    expect: { decision: ALLOW }\n',
    );
    const result = run('test', 'mail.test.yaml');
    expect(result.code).toBe(2);
    expectNoStackTrace(result);
    expect(result.stdout).toBe(
      'ERROR mail.test.yaml: cannot run\n  mail.test.yaml:3:35: error UNKNOWN_KEY unknown key "provenanse"; did you mean "provenance"? at $.cases[0].request.provenanse\n\n0 passed, 0 failed, 1 file could not run (1 file)\n',
    );
  });
});

/** The ten mistakes authors make most, each with the exact line `ape validate` prints for it. */
const MISTAKES: readonly (readonly [string, string, string])[] = [
  [
    'a misspelt top-level key',
    'version: 1\nforbiden_actions: [delete_file]\n',
    'p.yaml:2:1: error UNKNOWN_KEY unknown key "forbiden_actions"; did you mean "forbidden_actions"? at $.forbiden_actions',
  ],
  [
    'a misspelt rule key',
    'version: 1\nrules:\n  - id: r\n    actions: [read_file]\n    efect: allow\n',
    'p.yaml:5:5: error UNKNOWN_KEY unknown key "efect"; did you mean "effect"? at $.rules[0].efect',
  ],
  [
    'an action id missing from the catalogue',
    'version: 1\nactions: [read_file, write_file]\nallowed_actions: [read_fille]\n',
    'p.yaml:3:19: error LINT_UNKNOWN_ACTION "read_fille" is not in the action catalogue ($.actions); did you mean "read_file"? at $.allowed_actions[0] [allowed_actions[0]]',
  ],
  [
    'a wrong effect',
    'version: 1\nrules:\n  - id: r\n    actions: [read_file]\n    effect: denny\n',
    'p.yaml:5:13: error SCHEMA must be one of "allow", "deny", "escalate"; did you mean "deny"? at $.rules[0].effect',
  ],
  [
    'a bad glob',
    'version: 1\nallowed_actions: ["fs.***"]\n',
    'p.yaml:2:19: error SCHEMA text "fs.***" is not a valid action id or glob: use letters, digits, "_", ".", ":" and "-", starting with a letter, digit or "_", at most 128 characters; "*" matches within one "."-separated part, "**" across parts, "***" is not allowed at $.allowed_actions[0]',
  ],
  [
    'a regular expression that cannot run in linear time',
    'version: 1\nrules:\n  - id: r\n    actions: [read_file]\n    effect: allow\n    when:\n      args:\n        properties:\n          path: { type: string, pattern: "^(a)\\\\1$" }\n',
    'UNSAFE_PATTERN',
  ],
  [
    'a wrong type name in when.args',
    'version: 1\nrules:\n  - id: r\n    actions: [read_file]\n    effect: allow\n    when:\n      args:\n        properties:\n          path: { type: strng }\n',
    'p.yaml:9:25: error ARGS_SCHEMA "strng" is not a JSON Schema type; did you mean "string"? (types: string, number, integer, boolean, object, array, null) at $.rules[0].when.args.properties.path.type [r]',
  ],
  [
    'an unknown keyword in an argument schema',
    'version: 1\nrules:\n  - id: r\n    actions: [read_file]\n    effect: allow\n    when:\n      args:\n        type: object\n        requird: [path]\n',
    'p.yaml:9:9: error ARGS_SCHEMA unknown keyword "requird" in an argument schema; did you mean "required"? at $.rules[0].when.args.requird [r]',
  ],
  [
    'a duplicate key',
    'version: 1\nallowed_actions: [read_file]\nallowed_actions: [list_dir]\n',
    'DUPLICATE_KEY',
  ],
  [
    'a missing required field',
    'version: 1\nrules:\n  - id: r\n    effect: allow\n',
    'p.yaml:3:5: error SCHEMA missing required field "actions" at $.rules[0]',
  ],
  [
    'a list written as a single value',
    'version: 1\nallowed_actions: read_file\n',
    'p.yaml:2:18: error SCHEMA must be a list, not text "read_file" at $.allowed_actions',
  ],
];

describe('ape validate messages', () => {
  it.each(MISTAKES)('reports %s in plain words at its line and column', (_name, text, expected) => {
    write('p.yaml', text);
    const result = run('validate', 'p.yaml');
    expect(result.code).toBe(1);
    expectNoStackTrace(result);
    const lines = result.stdout.trimEnd().split('\n');
    if (expected.startsWith('p.yaml:')) expect(lines).toContain(expected);
    else expect(lines[0]).toMatch(new RegExp(`^p\\.yaml:\\d+:\\d+: error ${expected} `));
  });

  it('reports all three mistakes of one file in one run, each at its own line', () => {
    write(
      'three.yaml',
      'version: 1\nactions: [read_file, send_email]\nforbiden_actions: [send_email]\nrules:\n  - id: read\n    actions: [read_fille]\n    effect: allow\n    when:\n      args:\n        type: object\n        properties:\n          path: { typ: string }\n',
    );
    const result = run('validate', 'three.yaml');
    expect(result.code).toBe(1);
    expect(result.stdout).toBe(
      [
        'three.yaml:3:1: error UNKNOWN_KEY unknown key "forbiden_actions"; did you mean "forbidden_actions"? at $.forbiden_actions',
        'three.yaml:12:19: error ARGS_SCHEMA unknown keyword "typ" in an argument schema; did you mean "type"? at $.rules[0].when.args.properties.path.typ [read]',
        'three.yaml:6:15: error LINT_UNKNOWN_ACTION "read_fille" is not in the action catalogue ($.actions); did you mean "read_file"? at $.rules[0].actions[0] [read]',
        'invalid three.yaml: 3 errors',
        '',
      ].join('\n'),
    );
  });
});
