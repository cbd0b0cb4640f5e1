import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTempDirectory, run } from '../__fixtures__/test-io.js';

let temp: ReturnType<typeof createTempDirectory>;
beforeEach(() => {
  temp = createTempDirectory();
});
afterEach(() => temp.remove());

describe('ape demo', () => {
  it('runs every scenario, exits 0, and says where the verified audit log is', async () => {
    const result = await run(['demo', '--audit', 'audit.jsonl'], { cwd: temp.path });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const auditPath = join(temp.path, 'audit.jsonl');
    expect(existsSync(auditPath)).toBe(true);
    expect(result.stdout).toContain(auditPath);
    // Run in-process (not through bin.js or a root script): the hint names the scoped package.
    expect(result.stdout).toContain(`next: npx @ape/cli audit verify ${auditPath}`);
  });

  it('prints only the report with --json', async () => {
    const result = await run(['demo', '--json', '--audit', 'audit.jsonl'], { cwd: temp.path });
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.ok).toBe(true);
    expect(report.auditVerified).toBe(true);
    expect(report.auditPath).toBe(join(temp.path, 'audit.jsonl'));
    expect(report.scenarios.length).toBeGreaterThanOrEqual(4);
    for (const scenario of report.scenarios) {
      expect(Object.keys(scenario).sort()).toEqual(['detail', 'expected', 'id', 'ok', 'outcome', 'title']);
    }
  });

  it('exits 2 with one line when the audit log cannot be opened', async () => {
    writeFileSync(join(temp.path, 'audit.jsonl'), 'not a record\nnor this\n');
    const result = await run(['demo', '--audit', 'audit.jsonl'], { cwd: temp.path });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^ape: .*audit log/);
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
  });
});
