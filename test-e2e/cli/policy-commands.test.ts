import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ape, createScratch, expectNoStackTrace, root } from './run-ape.js';

const POLICY = `version: 1
name: e2e
allowed_actions: [list_dir]
forbidden_actions: [delete_file]
escalation_required: [deploy_production]
rules:
  - id: read-inside-workspace
    actions: [read_file]
    effect: allow
    when:
      args:
        type: object
        required: [path]
        properties: { path: { type: string, x-ape-path: { roots: [/workspace] } } }
      provenance: [SYSTEM_TRUSTED, USER_TRUSTED]
  - id: untrusted-email-needs-a-human
    actions: [send_email]
    effect: escalate
    when: { provenance: [EXTERNAL_UNTRUSTED] }
tool_transitions:
  read_file: [list_dir, read_file]
tenants:
  acme:
    forbidden_actions: [list_dir]
`;

const ESCAPE = '\u001b[';
let scratch: ReturnType<typeof createScratch>;

beforeAll(() => {
  scratch = createScratch();
  writeFileSync(join(scratch.path, 'policy.yaml'), POLICY);
});
afterAll(() => scratch.remove());

function run(...args: string[]) {
  return ape(args, { cwd: scratch.path });
}

describe('ape validate', () => {
  it('exits 0 for every policy shipped in policies/', () => {
    const shipped = readdirSync(join(root, 'policies')).filter(
      (name) => /\.(ya?ml|json)$/.test(name) && !/\.test\.(ya?ml|json)$/.test(name),
    );
    expect(shipped.length).toBeGreaterThan(0);
    const result = ape(['validate', ...shipped.map((name) => join('policies', name))]);
    expect(result.code).toBe(0);
    expect(result.stdout.match(/^valid /gm)).toHaveLength(shipped.length);
  });

  it('prints { ok, files: [{ file, ok, digest, findings }] } with --json', () => {
    const result = run('validate', 'policy.yaml', '--json');
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report).toEqual({
      ok: true,
      files: [
        { file: 'policy.yaml', ok: true, digest: expect.stringMatching(/^[0-9a-f]{64}$/), findings: [] },
      ],
    });
  });

  it('is also reachable as validate-policy', () => {
    expect(run('validate-policy', 'policy.yaml').code).toBe(0);
  });

  it('exits 0 when there are only warnings, and prints them', () => {
    writeFileSync(join(scratch.path, 'warn.yaml'), 'version: 1\nallowed_actions: [read_file, read_file]\n');
    const result = run('validate', 'warn.yaml');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^warn\.yaml:\d+:\d+: warning [A-Z_]+ /m);
  });
});

describe('ape simulate', () => {
  it('prints the decision alone on the first line, then the reason and rule ids', () => {
    const result = run('simulate', 'policy.yaml', 'read_file', '--args', '{"path":"/workspace/notes.md"}');
    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toBe('ALLOW');
    expect(result.stdout).toContain('read-inside-workspace');
    expect(result.stdout).not.toContain(ESCAPE);
  });

  it.each([
    [['delete_file'], 'DENY', ['forbidden_actions[0]']],
    [['deploy_production'], 'ESCALATE', ['escalation_required[0]']],
    [['send_email', '--provenance', 'EXTERNAL_UNTRUSTED'], 'ESCALATE', ['untrusted-email-needs-a-human']],
    [['read_file', '--args', '{"path":"/workspace/../etc/passwd"}'], 'DENY', undefined],
    [
      ['read_file', '--args', '{"path":"/workspace/a"}', '--provenance', 'EXTERNAL_UNTRUSTED'],
      'DENY',
      undefined,
    ],
    [['list_dir', '--tenant', 'acme'], 'DENY', undefined],
    [['deploy_production', '--previous-action', 'read_file'], 'DENY', undefined],
    [['unknown_tool'], 'DENY', undefined],
  ] as const)('%j → %s, always exit 0, exactly four keys in --json', (args, decision, rules) => {
    const result = run('simulate', 'policy.yaml', ...args, '--json');
    expect(result.code).toBe(0);
    const json = JSON.parse(result.stdout);
    expect(Object.keys(json).sort()).toEqual(['decision', 'policy', 'reason', 'rules']);
    expect(json.decision).toBe(decision);
    if (rules !== undefined) expect(json.rules).toEqual(rules);
    expect(typeof json.reason).toBe('string');
    expect(json.policy).toMatch(/^[0-9a-f]{64}$/);
  });

  it('narrows to an --intent file', () => {
    writeFileSync(
      join(scratch.path, 'intent.json'),
      JSON.stringify({
        allowed_actions: ['read_file'],
        forbidden_actions: ['list_dir'],
        scope: 'read notes',
      }),
    );
    const result = run('simulate', 'policy.yaml', 'list_dir', '--intent', 'intent.json', '--json');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).decision).toBe('DENY');
  });

  it('simulates a --batch file, one result a line, in text and JSON', () => {
    writeFileSync(
      join(scratch.path, 'requests.jsonl'),
      [
        JSON.stringify({ action: 'list_dir' }),
        JSON.stringify({ action: 'delete_file' }),
        JSON.stringify({ action: 'send_email', provenance: 'EXTERNAL_UNTRUSTED' }),
        JSON.stringify({ action: 'list_dir', tenant: 'acme' }),
        JSON.stringify({ action: 'read_file', args: { path: '/workspace/a' } }),
      ].join('\n'),
    );
    const text = run('simulate', 'policy.yaml', '--batch', 'requests.jsonl');
    expect(text.code).toBe(0);
    const lines = text.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(5);
    expect(lines[0]).toBe('ALLOW list_dir allowed_actions[0]');
    expect(lines[1]).toBe('DENY delete_file forbidden_actions[0]');
    expect(lines[2]).toBe('ESCALATE send_email untrusted-email-needs-a-human');
    expect(lines[3]).toMatch(/^DENY list_dir /);
    expect(lines[4]).toBe('ALLOW read_file read-inside-workspace');
    const json = run('simulate', 'policy.yaml', '--batch', 'requests.jsonl', '--json');
    const decisions = json.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line).decision);
    expect(decisions).toEqual(['ALLOW', 'DENY', 'ESCALATE', 'DENY', 'ALLOW']);
  });

  it('exits 1 for an invalid policy, naming its first error on one line', () => {
    writeFileSync(join(scratch.path, 'invalid.yaml'), 'version: 1\nallowed_actions: read_file\n');
    const result = run('simulate', 'invalid.yaml', 'read_file');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^ape: invalid policy: invalid\.yaml:2:\d+: error /);
    expectNoStackTrace(result);
  });
});

describe('ape explain', () => {
  it('prints a table of effects, actions, conditions and rule ids', () => {
    const result = run('explain', 'policy.yaml');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^EFFECT\s+ACTIONS\s+CONDITIONS\s+RULE/m);
    expect(result.stdout).toMatch(/^DENY\s+delete_file\s+always\s+forbidden_actions\[0\]/m);
    expect(result.stdout).toMatch(/^ESCALATE\s+send_email\s+provenance.*untrusted-email-needs-a-human/m);
    expect(result.stdout).toMatch(/^ALLOW\s+read_file\s+.*\/workspace.*read-inside-workspace/m);
    expect(result.stdout).toMatch(/^TRANSITION\s+read_file/m);
  });

  it('prints the rows as JSON', () => {
    const report = JSON.parse(run('explain', 'policy.yaml', '--json').stdout);
    expect(report.name).toBe('e2e');
    expect(report.tenants).toEqual(['acme']);
    expect(report.rows.map((row: { effect: string }) => row.effect)).toContain('escalate');
  });
});

describe('ape init', () => {
  it('writes a commented starter policy with its $schema line that passes ape validate', () => {
    const directory = join(scratch.path, 'fresh');
    const init = ape(['init', '--dir', directory]);
    expect(init.code).toBe(0);
    const text = readFileSync(join(directory, 'ape-policy.yaml'), 'utf8');
    expect(text.split('\n')[0]).toMatch(/^# yaml-language-server: \$schema=\S+policy-v1\.json$/);
    expect(text.match(/^#/gm)?.length).toBeGreaterThan(5);
    const validate = ape(['validate', join(directory, 'ape-policy.yaml'), '--json']);
    expect(validate.code).toBe(0);
    expect(JSON.parse(validate.stdout).files[0].findings).toEqual([]);
  });

  it('reports the written file with --json', () => {
    const result = ape(['init', '--dir', join(scratch.path, 'json'), '--json']);
    expect(JSON.parse(result.stdout)).toEqual({
      file: join(scratch.path, 'json', 'ape-policy.yaml'),
      written: true,
    });
  });
});

describe('colour', () => {
  it('never colours output that is not a terminal, --no-color anywhere on the line is accepted', () => {
    for (const args of [
      ['--no-color', 'explain', 'policy.yaml'],
      ['explain', 'policy.yaml', '--no-color'],
      ['explain', 'policy.yaml'],
    ]) {
      const result = ape(args, { cwd: scratch.path, env: { FORCE_COLOR: '1' } });
      expect(result.code).toBe(0);
      expect(result.stdout).not.toContain(ESCAPE);
    }
  });
});
