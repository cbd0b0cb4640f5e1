import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ape, createScratch, expectNoStackTrace } from '../cli/run-ape.js';

/**
 * `ape attack` as a user runs it: the built binary, as a subprocess, against the example policies
 * (read from the copy @ape/reference-agent ships, so it runs from any directory) and against a
 * policy file.
 */
let scratch: ReturnType<typeof createScratch>;
beforeAll(() => {
  scratch = createScratch();
});
afterAll(() => scratch.remove());

interface Scenario {
  readonly id: string;
  readonly verdict: 'BLOCKED' | 'SUCCEEDED';
  readonly mechanism: string;
}

/** `ape attack --json` against the shipped policies, from a scratch directory: run once, read by two tests. */
let shippedRun: ReturnType<typeof ape> | undefined;
function runShipped(): ReturnType<typeof ape> {
  shippedRun ??= ape(['attack', '--json'], { cwd: scratch.path });
  return shippedRun;
}

describe('ape attack (built binary)', () => {
  it('runs at least 40 scenarios from any directory and blocks every one (exit 0)', () => {
    const result = runShipped();
    expectNoStackTrace(result);
    const report = JSON.parse(result.stdout) as { total: number; scenarios: Scenario[] };
    expect(report.total).toBeGreaterThanOrEqual(40);
    const succeeded = report.scenarios
      .filter((scenario) => scenario.verdict === 'SUCCEEDED')
      .map((scenario) => scenario.id);
    expect(succeeded).toEqual([]);
    expect(result.code).toBe(0);
    for (const scenario of report.scenarios.filter((item) => item.verdict === 'BLOCKED')) {
      expect(scenario.mechanism).toMatch(/^[a-z-]+(:|$)/);
    }
  });

  it('runs at least 15 calls-mode scenarios, the budget and the ordering rule across a lineage among them, all blocked', () => {
    const report = JSON.parse(runShipped().stdout) as { scenarios: Scenario[] };
    const calls = report.scenarios.filter((scenario) => /\.calls-/.test(scenario.id));
    expect(calls.length).toBeGreaterThanOrEqual(15);
    expect(calls.filter((scenario) => scenario.verdict !== 'BLOCKED')).toEqual([]);
    const byId = new Map(calls.map((scenario) => [scenario.id, scenario.mechanism]));
    expect(byId.get('budget-exhaustion.calls-budget-after-denied-escalation')).toBe('limit:email-budget');
    expect(byId.get('cross-tool-escalation.calls-transition-after-denied-escalation')).toBe(
      'transition:tool_transitions.read_file',
    );
  });

  it('reports SUCCEEDED attacks against a weakened workspace policy (raw regex instead of x-ape-path)', () => {
    const weak = join(scratch.path, 'weak-workspace.yaml');
    writeFileSync(
      weak,
      [
        'version: 1',
        'rules:',
        '  - id: read-inside-workspace-regex',
        '    actions: [read_file, list_directory]',
        '    effect: allow',
        '    when: { args: { type: object, required: [path], properties: { path: { type: string, pattern: "^/workspace/" } } } }',
        '',
      ].join('\n'),
    );
    const result = ape(['attack', '--policy', weak]);
    expect(result.code).toBe(1);
    expectNoStackTrace(result);
    expect(result.stdout).toMatch(/^SUCCEEDED\s+instruction-smuggling\.path-traversal\s/m);
    expect(result.stdout).toMatch(/^SUCCEEDED\s+instruction-smuggling\.nul-byte\s/m);
    expect(result.stdout).toMatch(/^\d+ attacks: \d+ blocked, \d+ succeeded$/m);
  });

  it('refuses an invalid --policy with one line and exit 1', () => {
    const bad = join(scratch.path, 'bad.yaml');
    writeFileSync(bad, 'version: 1\nallowed_actions: [read_file]\nallowed_actions: [delete_file]\n');
    const result = ape(['attack', '--policy', bad]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^ape: invalid policy: .*DUPLICATE_KEY/);
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
    expectNoStackTrace(result);
  });
});
