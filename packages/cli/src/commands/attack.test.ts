import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTempDirectory, run } from '../__fixtures__/test-io.js';

let temp: ReturnType<typeof createTempDirectory>;
beforeEach(() => {
  temp = createTempDirectory();
});
afterEach(() => temp.remove());

describe('ape attack', () => {
  it('prints one line per scenario with its verdict and mechanism, and a summary', async () => {
    const result = await run(['attack']);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(42);
    expect(result.stdout).toMatch(
      /^BLOCKED\s+authority-replay\.args-swapped\s+workspace_files\s+token:binding:argsHash$/m,
    );
    expect(result.stdout).toMatch(
      /^BLOCKED\s+instruction-smuggling\.path-traversal\s+workspace_files\s+policy:default-deny$/m,
    );
    expect(lines.at(-1)).toMatch(/^\d+ attacks: \d+ blocked, \d+ succeeded$/);
    expect(result.stderr).toBe('');
  });

  it('exits 1 while any scenario succeeds, and prints the report with --json', async () => {
    const result = await run(['attack', '--json']);
    const report = JSON.parse(result.stdout);
    expect(result.code).toBe(report.ok ? 0 : 1);
    expect(report.policy).toBe('shipped');
    expect(report.total).toBeGreaterThanOrEqual(40);
    expect(report.blocked + report.succeeded).toBe(report.total);
    expect(report.notApplicable).toBe(0);
    for (const scenario of report.scenarios) {
      expect(
        Object.keys(scenario)
          .filter((key) => key !== 'allowedBy')
          .sort(),
      ).toEqual(['applicable', 'detail', 'family', 'id', 'layer', 'mechanism', 'policy', 'title', 'verdict']);
      expect(scenario.applicable).toBe(true);
      expect(['BLOCKED', 'SUCCEEDED']).toContain(scenario.verdict);
    }
  });

  it('runs every scenario against --policy and exits 1 when a weak policy lets attacks through', async () => {
    writeFileSync(join(temp.path, 'weak.yaml'), 'version: 1\nallowed_actions: ["*"]\n');
    const result = await run(['attack', '--policy', 'weak.yaml', '--json'], { cwd: temp.path });
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout);
    expect(report.policy).toBe('weak.yaml');
    const succeeded = report.scenarios.filter(
      (scenario: { verdict: string }) => scenario.verdict === 'SUCCEEDED',
    );
    expect(succeeded.length).toBeGreaterThanOrEqual(25);
    expect(report.scenarios.every((scenario: { policy: string }) => scenario.policy === 'weak.yaml')).toBe(
      true,
    );
    const explained = succeeded.filter((scenario: { allowedBy?: string[] }) =>
      scenario.allowedBy?.includes('allowed_actions[0]'),
    );
    expect(explained.length).toBeGreaterThanOrEqual(20);
  });

  it('marks scenarios that do not apply to the shipped read_only.yaml and names the rule behind each success', async () => {
    const file = fileURLToPath(new URL('../../../../policies/read_only.yaml', import.meta.url));
    const result = await run(['attack', '--policy', file], { cwd: temp.path });
    expect(result.stdout).toMatch(/^BLOCKED \(n\/a\)\s+\S+/m);
    expect(result.stdout).toMatch(/do not apply to this policy: they attack actions it never names/);
    const successes = result.stdout.split('\n').filter((line) => line.startsWith('SUCCEEDED'));
    for (const line of successes.filter((entry) => entry.includes('the harmful tool ran'))) {
      expect(line).toMatch(/allowed by \S+/);
    }
  });

  it('exits 1 with one line for an invalid --policy and 2 for a missing one', async () => {
    writeFileSync(join(temp.path, 'bad.yaml'), 'version: 2\n');
    const invalid = await run(['attack', '--policy', 'bad.yaml'], { cwd: temp.path });
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(/^ape: invalid policy: bad\.yaml:1:\d+: error SCHEMA /);
    expect(invalid.stderr.trimEnd().split('\n')).toHaveLength(1);
    const missing = await run(['attack', '--policy', 'missing.yaml'], { cwd: temp.path });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^ape: missing\.yaml: cannot read the policy file/);
    expect(missing.stdout).toBe('');
  });
});
