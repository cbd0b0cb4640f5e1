import { describe, expect, it } from 'vitest';
import { validatePolicy } from './load.js';
import type { PolicyFinding } from './types.js';

function findingsOf(text: string): PolicyFinding[] {
  const validation = validatePolicy({ text, filename: 'p.yaml' });
  expect(validation.ok).toBe(false);
  return [...validation.findings];
}

function only(findings: readonly PolicyFinding[], code: string): PolicyFinding {
  const matching = findings.filter((finding) => finding.code === code);
  expect(matching, JSON.stringify(findings)).toHaveLength(1);
  return matching[0]!;
}

describe('validate reports every finding in one run', () => {
  it('accepts JSON Schema annotations in argument schemas (as MCP tool schemas carry them)', () => {
    const validation = validatePolicy({
      filename: 'p.yaml',
      text: [
        'version: 1',
        'rules:',
        '  - id: read',
        '    actions: [read_file]',
        '    effect: allow',
        '    when:',
        '      args:',
        '        type: object',
        '        title: Read a file',
        '        properties:',
        "          path: { type: string, description: 'the file', default: a.txt, examples: [a.txt] }",
        '          head: { type: number, deprecated: true, readOnly: false, $comment: lines }',
        '',
      ].join('\n'),
    });
    expect(validation.findings.filter((finding) => finding.severity === 'error')).toEqual([]);
  });

  it('reports a schema error, an argument-schema error and a lint error together, each at its own line', () => {
    const findings = findingsOf(
      [
        'version: 1', // 1
        'actions: [read_file, send_email]', // 2
        'forbiden_actions: [delete_file]', // 3
        'rules:', // 4
        '  - id: read', // 5
        '    actions: [read_fille]', // 6
        '    effect: allow', // 7
        '    when:', // 8
        '      args:', // 9
        '        type: object', // 10
        '        properties:', // 11
        '          path: { typ: string }', // 12
        '',
      ].join('\n'),
    );
    const unknownKey = only(findings, 'UNKNOWN_KEY');
    expect(unknownKey).toMatchObject({ line: 3, column: 1, path: '$.forbiden_actions' });
    expect(unknownKey.message).toBe('unknown key "forbiden_actions"; did you mean "forbidden_actions"?');
    const keyword = only(findings, 'ARGS_SCHEMA');
    expect(keyword).toMatchObject({ line: 12, column: 19, path: '$.rules[0].when.args.properties.path.typ' });
    expect(keyword.message).toBe('unknown keyword "typ" in an argument schema; did you mean "type"?');
    const action = only(findings, 'LINT_UNKNOWN_ACTION');
    expect(action).toMatchObject({ line: 6, path: '$.rules[0].actions[0]' });
    expect(action.message).toBe(
      '"read_fille" is not in the action catalogue ($.actions); did you mean "read_file"?',
    );
  });

  it('reports every bad keyword of one argument schema, not only the first', () => {
    const findings = findingsOf(
      'rules:\n  - id: r\n    actions: [a]\n    effect: allow\n    when:\n      args:\n        type: object\n        requird: [x]\n        properties:\n          p: { type: strng }\n          q: { minLength: "3" }\n',
    );
    const argsFindings = findings.filter((finding) => finding.code === 'ARGS_SCHEMA');
    expect(argsFindings.map((finding) => finding.path)).toEqual(['$.rules[0].when.args.requird']);
    // Unknown keywords first; once they are fixed, the values are checked against the meta-schema.
    const fixed = findingsOf(
      'rules:\n  - id: r\n    actions: [a]\n    effect: allow\n    when:\n      args:\n        type: object\n        properties:\n          p: { type: strng }\n          q: { minLength: "3" }\n',
    );
    const values = fixed.filter((finding) => finding.code === 'ARGS_SCHEMA');
    expect(values.map((finding) => [finding.path, finding.line])).toEqual(
      expect.arrayContaining([
        ['$.rules[0].when.args.properties.p.type', 9],
        ['$.rules[0].when.args.properties.q.minLength', 10],
      ]),
    );
    expect(values.find((finding) => finding.path?.endsWith('.type'))?.message).toBe(
      '"strng" is not a JSON Schema type; did you mean "string"? (types: string, number, integer, boolean, object, array, null)',
    );
    expect(values.find((finding) => finding.path?.endsWith('.minLength'))?.message).toContain(
      'must be a whole number, not text "3"',
    );
  });

  it('points an unknown option of x-ape-path at the option, with a hint', () => {
    const findings = findingsOf(
      'rules:\n  - id: r\n    actions: [a]\n    effect: allow\n    when:\n      args:\n        properties:\n          p: { x-ape-path: { roots: [/w], exclued: [/w/.ssh] } }\n',
    );
    const finding = only(findings, 'ARGS_SCHEMA');
    expect(finding.path).toBe('$.rules[0].when.args.properties.p["x-ape-path"].exclued');
    expect(finding.message).toBe('unknown option "exclued" of x-ape-path; did you mean "exclude"?');
    expect(finding.line).toBe(8);
  });

  it('words schema errors in plain words, with a hint for a misspelt effect', () => {
    const findings = findingsOf('rules:\n  - id: r\n    actions: [a]\n    effect: denny\n');
    expect(only(findings, 'SCHEMA').message).toBe(
      'must be one of "allow", "deny", "escalate"; did you mean "deny"?',
    );
    const list = findingsOf('allowed_actions: read_file\n');
    expect(only(list, 'SCHEMA').message).toBe('must be a list, not text "read_file"');
  });

  it('says what a valid action pattern is instead of printing the regular expression', () => {
    const findings = findingsOf('allowed_actions: ["fs.***", "read file"]\n');
    const messages = findings.map((finding) => finding.message);
    expect(messages).toHaveLength(2);
    for (const message of messages) {
      expect(message).toMatch(/is not a valid action id or glob: use letters, digits/);
      expect(message).not.toContain('^(');
    }
  });

  it('lists the known keys when none is close to an unknown one', () => {
    const findings = findingsOf('rules:\n  - id: r\n    actions: [a]\n    effect: allow\n    bogus: 1\n');
    expect(only(findings, 'UNKNOWN_KEY').message).toBe(
      'unknown key "bogus" (known keys: id, description, actions, effect, when, reason)',
    );
  });

  it('still reports a missing required field and the lint of the other rules', () => {
    const findings = findingsOf(
      'allowed_actions: [a]\nforbidden_actions: [a]\nrules:\n  - { id: r, actions: [b] }\n',
    );
    expect(only(findings, 'SCHEMA')).toMatchObject({
      path: '$.rules[0]',
      message: 'missing required field "effect"',
    });
    expect(only(findings, 'LINT_CONFLICT').line).toBe(2);
  });

  it("says which type a keyword needs, at the schema that lacks it, instead of ajv's strict-types text", () => {
    const findings = findingsOf(
      'rules:\n  - id: r\n    actions: [a]\n    effect: allow\n    when:\n      args:\n        type: object\n        properties:\n          path: { pattern: "^/w" }\n',
    );
    const finding = only(findings, 'ARGS_SCHEMA');
    expect(finding).toMatchObject({ path: '$.rules[0].when.args.properties.path', line: 9 });
    expect(finding.message).toBe('"pattern" only applies to strings: add "type: string" to this schema');
  });
});
