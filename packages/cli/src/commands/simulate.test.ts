import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTempDirectory, run } from '../__fixtures__/test-io.js';

const POLICY = `version: 1
name: sim
allowed_actions: [list_dir]
forbidden_actions: [delete_file]
escalation_required: [deploy]
rules:
  - id: read-workspace
    actions: [read_file]
    effect: allow
    when:
      args: { type: object, required: [path], properties: { path: { type: string, pattern: "^/workspace/" } } }
      provenance: [SYSTEM_TRUSTED, USER_TRUSTED]
tool_transitions:
  read_file: [list_dir]
limits:
  - { id: lists-hourly, actions: [list_dir], max_calls: 5, scope: lineage, window: 1h }
tenants:
  acme:
    forbidden_actions: [list_dir]
`;

let temp: ReturnType<typeof createTempDirectory>;
beforeEach(() => {
  temp = createTempDirectory();
  writeFileSync(join(temp.path, 'policy.yaml'), POLICY);
});
afterEach(() => temp.remove());

function simulate(...args: string[]) {
  return run(['simulate', 'policy.yaml', ...args], { cwd: temp.path });
}

describe('ape simulate', () => {
  it('prints ALLOW first, then the reason and the rule ids', async () => {
    const result = await simulate('read_file', '--args', '{"path":"/workspace/a.txt"}');
    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toBe('ALLOW');
    expect(result.stdout).toContain('rules: read-workspace');
    expect(result.stdout).toMatch(/reason: .+/);
  });

  it('exits 0 for a DENY: the decision never changes the exit code', async () => {
    const result = await simulate('delete_file');
    expect(result.code).toBe(0);
    expect(result.stdout.split('\n')[0]).toBe('DENY');
    expect(result.stdout).toContain('forbidden_actions[0]');
  });

  it('prints exactly decision, rules, reason and policy with --json', async () => {
    const result = await simulate('deploy', '--json');
    const decision = JSON.parse(result.stdout);
    expect(Object.keys(decision)).toEqual(['decision', 'rules', 'reason', 'policy']);
    expect(decision).toMatchObject({ decision: 'ESCALATE', rules: ['escalation_required[0]'] });
    expect(decision.policy).toMatch(/^[0-9a-f]{64}$/);
  });

  it('uses USER_TRUSTED by default and honours --provenance', async () => {
    const args = ['read_file', '--args', '{"path":"/workspace/a.txt"}', '--json'];
    expect(JSON.parse((await simulate(...args)).stdout).decision).toBe('ALLOW');
    const untrusted = await simulate(...args, '--provenance', 'EXTERNAL_UNTRUSTED');
    expect(JSON.parse(untrusted.stdout).decision).toBe('DENY');
  });

  it('uses tenant "default" unless --tenant names another', async () => {
    expect(JSON.parse((await simulate('list_dir', '--json')).stdout).decision).toBe('ALLOW');
    expect(JSON.parse((await simulate('list_dir', '--tenant', 'acme', '--json')).stdout).decision).toBe(
      'DENY',
    );
  });

  it('applies tool_transitions with --previous-action', async () => {
    const result = await simulate('deploy', '--previous-action', 'read_file', '--json');
    expect(JSON.parse(result.stdout).decision).toBe('DENY');
  });

  it('judges limits by the counts given with --usage', async () => {
    const unjudged = await simulate('list_dir', '--json');
    expect(JSON.parse(unjudged.stdout).decision).toBe('ALLOW');
    const under = await simulate('list_dir', '--usage', 'lists-hourly=4', '--json');
    expect(JSON.parse(under.stdout).decision).toBe('ALLOW');
    const over = await simulate('list_dir', '--usage', 'lists-hourly=5', '--json');
    expect(JSON.parse(over.stdout)).toMatchObject({ decision: 'DENY', rules: ['lists-hourly'] });
    expect(JSON.parse(over.stdout).reason).toContain('The lineage has used 5 of the 5 calls');
  });

  it('narrows the decision to an --intent file', async () => {
    writeFileSync(
      join(temp.path, 'intent.json'),
      JSON.stringify({ allowed_actions: ['read_file'], forbidden_actions: [], scope: 'read notes' }),
    );
    const result = await simulate('list_dir', '--intent', 'intent.json', '--json');
    expect(JSON.parse(result.stdout).decision).toBe('DENY');
  });

  it('accepts an --intent file without a scope', async () => {
    writeFileSync(
      join(temp.path, 'intent.json'),
      JSON.stringify({ allowed_actions: ['list_dir'], forbidden_actions: [] }),
    );
    const result = await simulate('list_dir', '--intent', 'intent.json', '--json');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).decision).toBe('ALLOW');
  });

  it.each([
    ['bad JSON in --args', ['x', '--args', '{nope'], /^ape: --args is not valid JSON/],
    ['--args that is not an object', ['x', '--args', '[1]'], /^ape: --args must be a JSON object/],
    [
      'an unknown label',
      ['x', '--provenance', 'TRUSTED'],
      /^ape: --provenance: Unknown provenance label "TRUSTED"/,
    ],
    ['a missing --intent file', ['x', '--intent', 'none.json'], /^ape: cannot read none\.json/],
    ['no action and no --batch', [], /^ape: missing the action/],
    ['a --usage without a count', ['x', '--usage', 'lists-hourly'], /^ape: --usage "lists-hourly": expected/],
    ['a negative --usage', ['x', '--usage', 'lists-hourly=-1'], /^ape: --usage "lists-hourly=-1": expected/],
    [
      'a limit given twice in --usage',
      ['x', '--usage', 'a=1', '--usage', 'a=2'],
      /^ape: --usage: the limit a is given twice/,
    ],
  ])('exits 2 with one line for %s', async (_name, args, message) => {
    const result = await simulate(...args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(result.stdout).toBe('');
  });

  it('exits 2 for an --intent file that holds JSON but not an object', async () => {
    writeFileSync(join(temp.path, 'intent.json'), '["list_dir"]');
    const result = await simulate('list_dir', '--intent', 'intent.json');
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('ape: intent file intent.json must hold a JSON object\n');
    expect(result.stdout).toBe('');
  });

  it('denies an action no rule names by default, and names the default as its rule', async () => {
    const result = await simulate('launch_rockets');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /^DENY\nreason: No rule allows "launch_rockets"; denied by default\.\nrules: default\npolicy: sim [0-9a-f]{64}\n$/,
    );
  });

  it('exits 2 for an invalid --intent file', async () => {
    writeFileSync(join(temp.path, 'intent.json'), JSON.stringify({ allowed_actions: 'all' }));
    const result = await simulate('x', '--intent', 'intent.json');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^ape: intent file intent\.json: Invalid intent/);
  });

  it('exits 1 naming the first error when the policy is invalid', async () => {
    writeFileSync(join(temp.path, 'policy.yaml'), 'version: 2\n');
    const result = await simulate('x');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^ape: invalid policy: policy\.yaml:1:\d+: error /);
  });

  it('exits 2 when the policy file is missing', async () => {
    const result = await run(['simulate', 'nope.yaml', 'x'], { cwd: temp.path });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^ape: nope\.yaml: cannot read/);
  });
});

describe('ape simulate --batch', () => {
  it('prints one "DECISION action rule-ids" line per request', async () => {
    writeFileSync(
      join(temp.path, 'requests.jsonl'),
      [
        '{"action":"list_dir"}',
        '',
        '{"action":"delete_file","tenant":"acme"}',
        '{"action":"read_file","args":{"path":"/workspace/a"},"provenance":"EXTERNAL_UNTRUSTED"}',
      ].join('\n'),
    );
    const result = await simulate('--batch', 'requests.jsonl');
    expect(result.code).toBe(0);
    expect(result.stdout.trimEnd().split('\n')).toEqual([
      'ALLOW list_dir allowed_actions[0]',
      'DENY delete_file forbidden_actions[0]',
      expect.stringMatching(/^DENY read_file /),
    ]);
  });

  it('prints one JSON object per line with --json', async () => {
    writeFileSync(join(temp.path, 'requests.jsonl'), '{"action":"list_dir"}\n{"action":"deploy"}\n');
    const result = await simulate('--batch', 'requests.jsonl', '--json');
    const lines = result.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines.map((line) => line.decision)).toEqual(['ALLOW', 'ESCALATE']);
    expect(Object.keys(lines[0])).toEqual(['decision', 'rules', 'reason', 'policy']);
  });

  it.each([
    ['not JSON', '{"action":"list_dir"}\n{oops\n', /requests\.jsonl, line 2: the request is not valid JSON/],
    ['not an object', '[1]\n', /requests\.jsonl, line 1: a request must be a JSON object/],
    ['without an action', '{"args":{}}\n', /requests\.jsonl, line 1: "action" must be a non-empty string/],
    ['with an unknown key', '{"action":"a","actoin":"b"}\n', /requests\.jsonl, line 1: unknown key "actoin"/],
    [
      'with an unknown label',
      '{"action":"a","provenance":"ME"}\n',
      /requests\.jsonl, line 1: Unknown provenance label/,
    ],
    [
      'with args that are not an object',
      '{"action":"a","args":"x"}\n',
      /requests\.jsonl, line 1: "args" must be/,
    ],
  ])('exits 2 naming the line of a request %s, before printing anything', async (_name, text, message) => {
    writeFileSync(join(temp.path, 'requests.jsonl'), text);
    const result = await simulate('--batch', 'requests.jsonl');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe('');
  });

  it('refuses an action together with --batch', async () => {
    writeFileSync(join(temp.path, 'requests.jsonl'), '{"action":"list_dir"}\n');
    const result = await simulate('list_dir', '--batch', 'requests.jsonl');
    expect(result.code).toBe(2);
  });
});
