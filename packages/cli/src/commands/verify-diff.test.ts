import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTempDirectory, run } from '../__fixtures__/test-io.js';
import { EXIT_CODES } from '../exit-codes.js';

const STRICT = `version: 1
name: strict
allowed_actions: [list_dir]
forbidden_actions: [delete_file]
escalation_required: [deploy]
`;

// `delete_file` moves from forbidden to allowed: more permissive.
const LOOSE = `version: 1
name: loose
allowed_actions: [list_dir, delete_file]
escalation_required: [deploy]
`;

// `list_dir` is no longer allowed: less permissive.
const TIGHT = `version: 1
name: tight
forbidden_actions: [delete_file, list_dir]
escalation_required: [deploy]
`;

/** A policy allowing `fetch` when its `url` argument matches `schema` (YAML flow style). */
function fetchPolicy(schema: string): string {
  return `version: 1
name: fetch
rules:
  - id: fetch
    actions: [fetch]
    effect: allow
    when:
      args: { type: object, required: [url], properties: { url: ${schema} } }
`;
}

let temp: ReturnType<typeof createTempDirectory>;
beforeAll(() => {
  temp = createTempDirectory();
  writeFileSync(join(temp.path, 'strict.yaml'), STRICT);
  writeFileSync(join(temp.path, 'strict-copy.yaml'), STRICT.replace('name: strict', 'name: strict-copy'));
  writeFileSync(join(temp.path, 'loose.yaml'), LOOSE);
  writeFileSync(join(temp.path, 'tight.yaml'), TIGHT);
  writeFileSync(join(temp.path, 'invalid.yaml'), 'version: 1\nname: bad\nallowed_actions: 7\n');
  writeFileSync(join(temp.path, 'deny-delete.yaml'), 'always_deny: [delete_file]\n');
  writeFileSync(join(temp.path, 'deny-list.yaml'), 'always_deny: [list_dir]\nmust_escalate: [deploy]\n');
  writeFileSync(join(temp.path, 'bad-assertions.yaml'), 'always_deny: [delete_file]\nsurprise: true\n');
  writeFileSync(join(temp.path, 'a-file'), 'not a directory\n');
  writeFileSync(
    join(temp.path, 'hosts-pair.yaml'),
    fetchPolicy('{ type: string, x-ape-url: { schemes: [https], hosts: [a.example, b.example] } }'),
  );
  writeFileSync(
    join(temp.path, 'hosts-either.yaml'),
    fetchPolicy(
      '{ anyOf: [{ type: string, x-ape-url: { schemes: [https], hosts: [a.example] } }, { type: string, x-ape-url: { schemes: [https], hosts: [b.example] } }] }',
    ),
  );
});
afterAll(() => temp.remove());

function ape(...args: string[]) {
  return run(args, { cwd: temp.path });
}

function expectOneErrorLine(stderr: string): void {
  expect(stderr).toMatch(/^ape: [^\n]+\n$/);
  expect(stderr).not.toContain('    at ');
}

describe('ape verify', () => {
  it('proves a policy and its assertions, prints a summary and exits 0', async () => {
    const result = await ape('verify', 'strict.yaml', '--assert', 'deny-delete.yaml');
    expect(result.code).toBe(EXIT_CODES.OK);
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/^verify strict\.yaml \(strict [0-9a-f]{12}\)\n/);
    expect(result.stdout).toContain('pass assert.always_deny[0]');
    expect(result.stdout).toMatch(/verified \d+ passed, 0 failed, 0 unproved, \d+ warning\(s\)\n$/);
  });

  it('exits 1 with a counterexample when an assertion fails, in text and in --json', async () => {
    const human = await ape('verify', 'strict.yaml', '--assert', 'deny-list.yaml');
    expect(human.code).toBe(EXIT_CODES.FINDING);
    expect(human.stdout).toContain('FAIL assert.always_deny[0]');
    expect(human.stdout).toMatch(/counterexample: \{[^\n]*"list_dir"[^\n]*\} -> ALLOW/);
    expect(human.stdout).toMatch(/not verified \d+ passed, 1 failed/);

    const json = await ape('verify', 'strict.yaml', '--assert', 'deny-list.yaml', '--json');
    expect(json.code).toBe(EXIT_CODES.FINDING);
    const report = JSON.parse(json.stdout) as {
      ok: boolean;
      policy: string;
      digest: string;
      checks: { id: string; status: string; counterexample?: { decision?: string } }[];
    };
    expect(report.ok).toBe(false);
    expect(report.policy).toBe('strict');
    expect(report).not.toHaveProperty('exported');
    const failed = report.checks.find((check) => check.id === 'assert.always_deny[0]');
    expect(failed?.status).toBe('fail');
    expect(failed?.counterexample?.decision).toBe('ALLOW');
    expect(report.checks.find((check) => check.id === 'assert.must_escalate[0]')?.status).toBe('pass');
  });

  it('writes the model with --export into --out and lists the files, in text and in --json', async () => {
    const human = await ape('verify', 'strict.yaml', '--export', 'smt2', '--out', 'models');
    expect(human.code).toBe(EXIT_CODES.OK);
    const written = [...human.stdout.matchAll(/^wrote (.+)$/gm)].map((match) => match[1] ?? '');
    expect(written.length).toBeGreaterThan(0);
    for (const path of written) {
      expect(path.startsWith(join('models', ''))).toBe(true);
      expect(readFileSync(join(temp.path, path), 'utf8').length).toBeGreaterThan(0);
    }

    const json = await ape('verify', 'strict.yaml', '--export', 'json', '--json');
    expect(json.code).toBe(EXIT_CODES.OK);
    const report = JSON.parse(json.stdout) as { ok: boolean; exported: string[] };
    expect(report.ok).toBe(true);
    expect(report.exported.length).toBeGreaterThan(0);
    for (const path of report.exported) expect(existsSync(join(temp.path, path))).toBe(true);
  });

  it('exits 2 with one line for an unknown --export format, and for --out without --export', async () => {
    const format = await ape('verify', 'strict.yaml', '--export', 'coq');
    expect(format.code).toBe(EXIT_CODES.CANNOT_RUN);
    expectOneErrorLine(format.stderr);
    expect(format.stderr).toContain('--export must be one of tla, alloy, smt2, dafny, json (got "coq")');

    const out = await ape('verify', 'strict.yaml', '--out', 'models');
    expect(out.code).toBe(EXIT_CODES.CANNOT_RUN);
    expectOneErrorLine(out.stderr);
    expect(out.stderr).toContain('--out needs --export <format>');
    expect(out.stdout).toBe('');
  });

  it('exits 2 naming the --out path when the export cannot be written', async () => {
    const result = await ape('verify', 'strict.yaml', '--export', 'tla', '--out', 'a-file');
    expect(result.code).toBe(EXIT_CODES.CANNOT_RUN);
    expectOneErrorLine(result.stderr);
    expect(result.stderr).toContain('cannot write the export to a-file:');
  });

  it('exits 2 naming the assertions file (relative, as given) when it is malformed', async () => {
    const result = await ape('verify', 'strict.yaml', '--assert', 'bad-assertions.yaml');
    expect(result.code).toBe(EXIT_CODES.CANNOT_RUN);
    expectOneErrorLine(result.stderr);
    expect(result.stderr).toMatch(/^ape: assertions: bad-assertions\.yaml/);
    expect(result.stderr).not.toContain(temp.path);
  });

  it('exits 2 for a missing policy and 1 for an invalid one, with one line each', async () => {
    const missing = await ape('verify', 'missing.yaml');
    expect(missing.code).toBe(EXIT_CODES.CANNOT_RUN);
    expectOneErrorLine(missing.stderr);
    expect(missing.stderr).toContain('missing.yaml');

    const invalid = await ape('verify', 'invalid.yaml');
    expect(invalid.code).toBe(EXIT_CODES.FINDING);
    expectOneErrorLine(invalid.stderr);
    expect(invalid.stderr).toContain('invalid.yaml');
  });
});

describe('ape verify-policy', () => {
  it('prints the verification model as JSON', async () => {
    const result = await ape('verify-policy', 'strict.yaml');
    expect(result.code).toBe(EXIT_CODES.OK);
    const model = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(JSON.stringify(model)).toContain('delete_file');
    expect(JSON.stringify(model)).toContain('deploy');
  });
});

describe('ape diff', () => {
  it('exits 0 and says so when two policies decide every call the same', async () => {
    const human = await ape('diff', 'strict.yaml', 'strict-copy.yaml');
    expect(human.code).toBe(EXIT_CODES.OK);
    expect(human.stdout).toBe('equivalent strict.yaml strict-copy.yaml: every call gets the same decision\n');

    const json = await ape('diff', 'strict.yaml', 'strict-copy.yaml', '--json');
    expect(json.code).toBe(EXIT_CODES.OK);
    expect(JSON.parse(json.stdout)).toMatchObject({ equivalent: true, onlyA: [], onlyB: [] });
  });

  it('exits 1 with a witness per action made more permissive', async () => {
    const human = await ape('diff', 'strict.yaml', 'loose.yaml');
    expect(human.code).toBe(EXIT_CODES.FINDING);
    expect(human.stdout).toContain('more permissive in loose.yaml:');
    expect(human.stdout).toMatch(/ {2}delete_file: old DENY, new ALLOW\n {6}witness: \{/);
    expect(human.stdout).toMatch(
      /different \d+ difference\(s\), each with a witness both policies confirm\n$/,
    );

    const json = await ape('diff', 'strict.yaml', 'loose.yaml', '--json');
    expect(json.code).toBe(EXIT_CODES.FINDING);
    const diff = JSON.parse(json.stdout) as {
      equivalent: boolean;
      onlyB: { action: string; decisions: { a: string; b: string } }[];
    };
    expect(diff.equivalent).toBe(false);
    expect(diff.onlyB.map((difference) => difference.action)).toContain('delete_file');
    expect(diff.onlyB.find((d) => d.action === 'delete_file')?.decisions).toEqual({ a: 'DENY', b: 'ALLOW' });
  });

  it('lists the actions made less permissive apart from the more permissive ones', async () => {
    const result = await ape('diff', 'strict.yaml', 'tight.yaml');
    expect(result.code).toBe(EXIT_CODES.FINDING);
    expect(result.stdout).toContain('less permissive in tight.yaml:');
    expect(result.stdout).toMatch(/ {2}list_dir: old ALLOW, new DENY\n/);
    expect(result.stdout).not.toContain('more permissive in');
  });

  it('exits 1 and lists a comparison it could not decide as unknown, not as a difference', async () => {
    const result = await ape('diff', 'hosts-pair.yaml', 'hosts-either.yaml');
    expect(result.code).toBe(EXIT_CODES.FINDING);
    expect(result.stdout).toContain('unknown (neither proved equal nor shown different; not differences):');
    expect(result.stdout).toMatch(
      / {2}fetch: hosts-either\.yaml less permissive\? [^\n]*approximated condition/,
    );
    expect(result.stdout).toMatch(
      /not proved equivalent: 1 comparison\(s\) undecided, no difference found\n$/,
    );
    expect(result.stdout).not.toContain('more permissive in');
  });

  it('exits 2 for a missing policy and 1 for an invalid one, before comparing', async () => {
    const missing = await ape('diff', 'strict.yaml', 'missing.yaml');
    expect(missing.code).toBe(EXIT_CODES.CANNOT_RUN);
    expectOneErrorLine(missing.stderr);
    expect(missing.stdout).toBe('');

    const invalid = await ape('diff', 'invalid.yaml', 'strict.yaml');
    expect(invalid.code).toBe(EXIT_CODES.FINDING);
    expectOneErrorLine(invalid.stderr);
    expect(invalid.stdout).toBe('');
  });
});
