import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTempDirectory, run } from '../__fixtures__/test-io.js';

let temp: ReturnType<typeof createTempDirectory>;
beforeEach(() => {
  temp = createTempDirectory();
  writeFileSync(join(temp.path, 'good.yaml'), 'version: 1\nallowed_actions: [read_file]\n');
  writeFileSync(join(temp.path, 'bad.yaml'), 'version: 1\nallowed_actions: [read_file]\nbogus: true\n');
  writeFileSync(
    join(temp.path, 'conflict.yaml'),
    'version: 1\nallowed_actions: [read_file]\nforbidden_actions: [read_file]\n',
  );
});
afterEach(() => temp.remove());

describe('ape validate', () => {
  it('exits 0 and says valid for a valid policy', async () => {
    const result = await run(['validate', 'good.yaml'], { cwd: temp.path });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('valid good.yaml\n');
    expect(result.stderr).toBe('');
  });

  it('prints each finding as file:line:col: severity code message, and exits 1', async () => {
    const result = await run(['validate', 'bad.yaml'], { cwd: temp.path });
    expect(result.code).toBe(1);
    expect(result.stdout.split('\n')[0]).toMatch(/^bad\.yaml:3:1: error UNKNOWN_KEY /);
  });

  it('names the rule ids of a lint finding', async () => {
    const result = await run(['validate', 'conflict.yaml'], { cwd: temp.path });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/error LINT_CONFLICT .*\[allowed_actions\[0\], forbidden_actions\[0\]\]/);
  });

  it('answers to its seed name, validate-policy', async () => {
    expect((await run(['validate-policy', 'good.yaml'], { cwd: temp.path })).code).toBe(0);
  });

  it('checks several files and reports them all in --json', async () => {
    const result = await run(['validate', 'good.yaml', 'bad.yaml', '--json'], { cwd: temp.path });
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout);
    expect(report.ok).toBe(false);
    expect(report.files.map((file: { file: string; ok: boolean }) => [file.file, file.ok])).toEqual([
      ['good.yaml', true],
      ['bad.yaml', false],
    ]);
    expect(report.files[0].digest).toMatch(/^[0-9a-f]{64}$/);
    expect(report.files[1].digest).toBeUndefined();
    expect(report.files[1].findings[0]).toMatchObject({
      severity: 'error',
      code: 'UNKNOWN_KEY',
      file: 'bad.yaml',
    });
  });

  it('exits 2 with one line on stderr for a missing file', async () => {
    const result = await run(['validate', 'missing.yaml'], { cwd: temp.path });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^ape: missing\.yaml: cannot read the policy file.*\n$/);
    expect(result.stdout).toBe('');
  });

  it('still reports FILE_UNREADABLE in --json, with exit 2', async () => {
    const result = await run(['validate', 'missing.yaml', '--json'], { cwd: temp.path });
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout).files[0].findings[0].code).toBe('FILE_UNREADABLE');
  });

  it.each([
    ['0m', 'window: "0m"', '$.limits[0].window', 'SCHEMA', 'such as 30s, 1m, 1h or 1d'],
    ['5w', 'window: 5w', '$.limits[0].window', 'SCHEMA', 'such as 30s, 1m, 1h or 1d'],
    ['367d', 'window: 367d', '$.limits[0].window', 'SCHEMA', 'longer than 366 days'],
    ['an unknown scope', 'scope: forever', '$.limits[0].scope', 'SCHEMA', 'must be one of'],
  ])('reports a limit with %s at its line, and exits 1', async (_name, field, path, code, message) => {
    writeFileSync(
      join(temp.path, 'limit.yaml'),
      `version: 1\nallowed_actions: [read_file]\nlimits:\n  - actions: [read_file]\n    max_calls: 3\n    ${field}\n`,
    );
    const result = await run(['validate', 'limit.yaml'], { cwd: temp.path });
    expect(result.code).toBe(1);
    const first = result.stdout.split('\n')[0] ?? '';
    expect(first).toMatch(new RegExp(`^limit\\.yaml:6:\\d+: error ${code} `));
    expect(first).toContain(path);
    expect(first).toContain(message);
  });

  it('accepts limits with a scope and a window', async () => {
    writeFileSync(
      join(temp.path, 'scoped.yaml'),
      'version: 1\nallowed_actions: [read_file]\nlimits:\n  - { actions: [read_file], max_calls: 3, scope: lineage, window: 1h }\n',
    );
    const result = await run(['validate', 'scoped.yaml'], { cwd: temp.path });
    expect(result.stdout).toBe('valid scoped.yaml\n');
    expect(result.code).toBe(0);
  });

  it('counts errors and warnings in the singular and the plural', async () => {
    writeFileSync(
      join(temp.path, 'two.yaml'),
      'version: 1\nallowed_actions: [read_file]\nbogus: true\nother: 1\n',
    );
    const two = await run(['validate', 'two.yaml'], { cwd: temp.path });
    expect(two.code).toBe(1);
    expect(two.stdout.trimEnd().split('\n').at(-1)).toBe('invalid two.yaml: 2 errors');
    const one = await run(['validate', 'bad.yaml'], { cwd: temp.path });
    expect(one.stdout.trimEnd().split('\n').at(-1)).toBe('invalid bad.yaml: 1 error');
    writeFileSync(join(temp.path, 'warn.yaml'), 'version: 1\nallowed_actions: [read_file, read_file]\n');
    const warned = await run(['validate', 'warn.yaml'], { cwd: temp.path });
    expect(warned.code).toBe(0);
    expect(warned.stdout.trimEnd().split('\n').at(-1)).toMatch(/^valid warn\.yaml \(\d+ warnings?\)$/);
  });

  it('exits 0 when there are warnings only', async () => {
    writeFileSync(join(temp.path, 'warn.yaml'), 'version: 1\nallowed_actions: [read_file, read_file]\n');
    const result = await run(['validate', 'warn.yaml', '--json'], { cwd: temp.path });
    const report = JSON.parse(result.stdout);
    const severities = report.files[0].findings.map((finding: { severity: string }) => finding.severity);
    expect(severities.length).toBeGreaterThan(0);
    expect(severities).not.toContain('error');
    expect(result.code).toBe(0);
  });
});
