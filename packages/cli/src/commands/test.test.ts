import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTempDirectory, run } from '../__fixtures__/test-io.js';
import { junitReport } from '../junit.js';

const POLICY = 'version: 1\nallowed_actions: [read_file]\nforbidden_actions: [delete_file]\n';
const PASSING = `cases:
  - name: reads are allowed
    request: { action: read_file, args: { path: /a } }
    expect: { decision: ALLOW, rules: ['allowed_actions[0]'] }
  - name: deletes are forbidden
    request: { action: delete_file }
    expect: { decision: DENY }
`;
const FAILING = `cases:
  - name: deletes are allowed
    request: { action: delete_file }
    expect: { decision: ALLOW }
`;

let temp: ReturnType<typeof createTempDirectory>;
beforeEach(() => {
  temp = createTempDirectory();
  mkdirSync(join(temp.path, 'policies', 'nested'), { recursive: true });
  mkdirSync(join(temp.path, 'node_modules', 'dep'), { recursive: true });
  writeFileSync(join(temp.path, 'policies', 'files.yaml'), POLICY);
  writeFileSync(join(temp.path, 'policies', 'files.test.yaml'), PASSING);
  writeFileSync(join(temp.path, 'policies', 'nested', 'other.yaml'), POLICY);
  writeFileSync(join(temp.path, 'policies', 'nested', 'other.test.yaml'), PASSING);
  // Never searched: dependencies.
  writeFileSync(join(temp.path, 'node_modules', 'dep', 'x.test.yaml'), 'not: [a test');
});
afterEach(() => temp.remove());

describe('ape test', () => {
  it('finds every test file under a directory, prints each case and a summary, and exits 0', async () => {
    const result = await run(['test', 'policies'], { cwd: temp.path });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      'policies/files.test.yaml (policy policies/files.yaml)\n  PASS reads are allowed (line 2)\n',
    );
    expect(result.stdout).toContain('policies/nested/other.test.yaml');
    expect(result.stdout.trimEnd().split('\n').at(-1)).toBe('4 passed, 0 failed (2 files)');
  });

  it('searches the working directory when no path is given, skipping node_modules', async () => {
    const result = await run(['test'], { cwd: temp.path });
    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain('node_modules');
  });

  it('exits 1 on a mismatch and says what the policy answered instead', async () => {
    writeFileSync(join(temp.path, 'policies', 'files.test.yaml'), FAILING);
    const result = await run(['test', 'policies/files.test.yaml'], { cwd: temp.path });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(
      /FAIL deletes are allowed \(line 2\): expected ALLOW, got DENY \[forbidden_actions\[0\]\]: "delete_file" is forbidden/,
    );
    expect(result.stdout).toContain('0 passed, 1 failed (1 file)');
  });

  it('exits 2 for a malformed test file, naming the line, and still runs the others', async () => {
    writeFileSync(
      join(temp.path, 'policies', 'files.test.yaml'),
      'cases:\n  - name: x\n    request: { action: read_file }\n    expect: { decison: ALLOW }\n',
    );
    const result = await run(['test', 'policies', '--json'], { cwd: temp.path });
    expect(result.code).toBe(2);
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({ ok: false, passed: 2, failed: 0, errors: 1 });
    expect(
      report.files[0].findings.map((finding: { code: string; line: number }) => [finding.code, finding.line]),
    ).toEqual([
      ['SCHEMA', 4],
      ['UNKNOWN_KEY', 4],
    ]);
  });

  it('exits 2 when the policy under test is invalid or missing', async () => {
    writeFileSync(join(temp.path, 'policies', 'files.yaml'), 'version: 1\nallowed_action: [read_file]\n');
    const invalid = await run(['test', 'policies/files.test.yaml'], { cwd: temp.path });
    expect(invalid.code).toBe(2);
    expect(invalid.stdout).toContain(
      'ERROR policies/files.test.yaml (policy policies/files.yaml): cannot run',
    );
    expect(invalid.stdout).toContain(
      'policies/files.yaml:2:1: error UNKNOWN_KEY unknown key "allowed_action"; did you mean "allowed_actions"?',
    );
    writeFileSync(join(temp.path, 'lonely.test.yaml'), PASSING);
    const missing = await run(['test', 'lonely.test.yaml'], { cwd: temp.path });
    expect(missing.code).toBe(2);
    expect(missing.stdout).toContain('FILE_UNREADABLE');
  });

  it('exits 2 when there is nothing to test or a path does not exist', async () => {
    mkdirSync(join(temp.path, 'empty'));
    const empty = await run(['test', 'empty'], { cwd: temp.path });
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/^ape: no test files \(\*\.test\.yaml\) found in empty/);
    const missing = await run(['test', 'nowhere'], { cwd: temp.path });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^ape: cannot read nowhere/);
  });

  it('writes a JUnit report with one testcase per case and a failure for a mismatch', async () => {
    writeFileSync(join(temp.path, 'policies', 'nested', 'other.test.yaml'), FAILING);
    const result = await run(['test', 'policies', '--junit', 'report.xml'], { cwd: temp.path });
    expect(result.code).toBe(1);
    const xml = readFileSync(join(temp.path, 'report.xml'), 'utf8');
    expect(xml).toContain('<testsuites name="ape test" tests="3" failures="1" errors="0">');
    expect(xml).toContain('<testcase name="reads are allowed" classname="policies/files.test.yaml"/>');
    expect(xml).toMatch(
      /<failure message="expected ALLOW, got DENY \[forbidden_actions\[0\]\]: &quot;delete_file&quot;/,
    );
  });

  it('reports files that cannot run as errors in the text summary and in the JUnit report', async () => {
    const malformed =
      'cases:\n  - name: x\n    request: { action: read_file }\n    expect: { decison: ALLOW }\n';
    writeFileSync(join(temp.path, 'policies', 'files.test.yaml'), malformed);
    const one = await run(['test', 'policies'], { cwd: temp.path });
    expect(one.code).toBe(2);
    expect(one.stdout).toContain('ERROR policies/files.test.yaml: cannot run\n');
    expect(one.stdout).toMatch(/\n {2}policies\/files\.test\.yaml:4:\d+: error SCHEMA /);
    expect(one.stdout.trimEnd().split('\n').at(-1)).toBe(
      '2 passed, 0 failed, 1 file could not run (2 files)',
    );

    writeFileSync(join(temp.path, 'policies', 'nested', 'other.test.yaml'), malformed);
    const both = await run(['test', 'policies', '--junit', 'report.xml'], { cwd: temp.path });
    expect(both.code).toBe(2);
    expect(both.stdout.trimEnd().split('\n').at(-1)).toBe(
      '0 passed, 0 failed, 2 files could not run (2 files)',
    );
    const xml = readFileSync(join(temp.path, 'report.xml'), 'utf8');
    expect(xml).toContain('errors="2"');
    expect(xml).toContain('<testcase name="load" classname="policies/files.test.yaml">');
    expect(xml).toContain('<error message="cannot run policies/files.test.yaml">');
    expect(xml).toMatch(/policies\/files\.test\.yaml:4:\d+: error SCHEMA/);
  });

  it('exits 2 when the JUnit report cannot be written', async () => {
    const result = await run(['test', 'policies', '--junit', 'missing-dir/report.xml'], { cwd: temp.path });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^ape: cannot write missing-dir\/report\.xml/);
  });
});

describe('junitReport', () => {
  it('escapes markup and drops characters XML cannot hold', () => {
    const xml = junitReport('a<b', [
      { name: 'f&"', cases: [{ name: "it's \u0000", error: { message: '<x>', details: 'y\u001b' } }] },
    ]);
    expect(xml).toContain('<testsuites name="a&lt;b" tests="1" failures="0" errors="1">');
    expect(xml).toContain('<testcase name="it&apos;s " classname="f&amp;&quot;">');
    expect(xml).toContain('<error message="&lt;x&gt;">y</error>');
  });
});
