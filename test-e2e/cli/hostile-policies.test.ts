import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ape, createScratch, expectNoStackTrace, expectOneLineError } from './run-ape.js';

/**
 * Malformed and hostile policy files: a finding about the input, so exit 1, with a short message
 * naming the problem, never a stack trace, never a hang.
 */
function aliasBomb(): string {
  let text = 'a: &a [x, x, x, x, x, x, x, x, x]\n';
  let previous = 'a';
  for (let level = 1; level <= 12; level++) {
    text += `l${level}: &l${level} [${Array(9).fill(`*${previous}`).join(', ')}]\n`;
    previous = `l${level}`;
  }
  return text;
}

const files: Readonly<Record<string, string>> = {
  'yaml-syntax.yaml': 'version: 1\nallowed_actions: [read_file\nrules: {\n',
  'unknown-key.yaml': 'version: 1\nallowed_actions: [read_file]\nallow_everything: true\n',
  'proto-key.yaml': 'version: 1\n__proto__:\n  allowed_actions: ["**"]\n',
  'nested-proto.yaml':
    'version: 1\nrules:\n  - id: r\n    actions: [a]\n    effect: allow\n    when:\n      args: { __proto__: { polluted: true } }\n',
  'constructor-key.yaml': 'version: 1\nconstructor: { prototype: { polluted: true } }\n',
  'deep-nesting.yaml': `${'['.repeat(5000)}\n`,
  'deep-mapping.yaml': Array.from({ length: 300 }, (_, depth) => `${'  '.repeat(depth)}k${depth}:`).join(
    '\n',
  ),
  'alias-bomb.yaml': aliasBomb(),
  'duplicate-keys.yaml': 'version: 1\nallowed_actions: [read_file]\nallowed_actions: [delete_file]\n',
  'huge.yaml': `# ${'x'.repeat(2 * 1024 * 1024)}\nversion: 1\n`,
  'wrong-version.yaml': 'version: 2\n',
  'bad-effect.yaml': 'version: 1\nrules:\n  - { id: r, actions: [a], effect: maybe }\n',
  'lint-conflict.yaml': 'version: 1\nallowed_actions: [read_file]\nforbidden_actions: [read_file]\n',
  'custom-tag.yaml': 'version: 1\nallowed_actions: !!js/function "function () {}"\n',
  'two-documents.yaml': 'version: 1\n---\nversion: 1\n',
  'not-a-mapping.yaml': '- read_file\n- write_file\n',
  'binary.yaml': '\u0000\u0001\u0002\u00ff\ufffe',
  'bad.json': '{"version": 1, "allowed_actions": [}',
};

let scratch: ReturnType<typeof createScratch>;

beforeAll(() => {
  scratch = createScratch();
  for (const [name, text] of Object.entries(files)) writeFileSync(join(scratch.path, name), text);
});
afterAll(() => scratch.remove());

describe('ape validate on hostile policy files', () => {
  it.each(Object.keys(files))('%s exits 1 with a short finding and no stack trace', (name) => {
    const result = ape(['validate', name], { cwd: scratch.path });
    expect(result.code).toBe(1);
    expectNoStackTrace(result);
    expect(result.stderr).toBe('');
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines.length).toBeLessThanOrEqual(12);
    expect(lines[0]).toMatch(new RegExp(`^${name.replace('.', '\\.')}(:\\d+:\\d+)?: error [A-Z_]+ `));
    for (const line of lines) expect(line.length).toBeLessThan(600);
  });

  it.each(Object.keys(files))('%s gives ok: false in --json', (name) => {
    const result = ape(['validate', name, '--json'], { cwd: scratch.path });
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout);
    expect(report.ok).toBe(false);
    expect(report.files[0].ok).toBe(false);
    expect(
      report.files[0].findings.some((finding: { severity: string }) => finding.severity === 'error'),
    ).toBe(true);
  });

  it.each(['simulate', 'explain'])('%s refuses a hostile policy with exit 1 and one line', (command) => {
    for (const name of ['proto-key.yaml', 'deep-nesting.yaml', 'alias-bomb.yaml', 'huge.yaml']) {
      const args = command === 'simulate' ? [command, name, 'read_file'] : [command, name];
      const result = ape(args, { cwd: scratch.path });
      expectOneLineError(result, 1);
      expect(result.stderr).toMatch(/^ape: invalid policy: /);
      expect(result.stdout).toBe('');
    }
  });

  it('names the specific problem of each attack', () => {
    const codeOf = (name: string): string[] =>
      JSON.parse(ape(['validate', name, '--json'], { cwd: scratch.path }).stdout).files[0].findings.map(
        (finding: { code: string }) => finding.code,
      );
    expect(codeOf('yaml-syntax.yaml')).toContain('YAML_SYNTAX');
    expect(codeOf('unknown-key.yaml')).toContain('UNKNOWN_KEY');
    expect(codeOf('deep-nesting.yaml')).toContain('LIMIT_DEPTH');
    expect(codeOf('duplicate-keys.yaml')).toContain('DUPLICATE_KEY');
    expect(codeOf('huge.yaml')).toContain('LIMIT_SIZE');
    expect(codeOf('lint-conflict.yaml')).toContain('LINT_CONFLICT');
    expect(codeOf('alias-bomb.yaml').some((code) => code.startsWith('LIMIT_'))).toBe(true);
  });

  it('reports every file when several are given, and exits 1 if any is invalid', () => {
    writeFileSync(join(scratch.path, 'fine.yaml'), 'version: 1\nallowed_actions: [read_file]\n');
    const result = ape(['validate', 'fine.yaml', 'unknown-key.yaml'], { cwd: scratch.path });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('valid fine.yaml');
    expect(result.stdout).toContain('invalid unknown-key.yaml');
  });
});
