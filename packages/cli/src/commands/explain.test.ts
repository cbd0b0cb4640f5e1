import type { ExplainRow } from '@ape/policy';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTempDirectory, run } from '../__fixtures__/test-io.js';
import { sortRows } from './explain.js';

let temp: ReturnType<typeof createTempDirectory>;
beforeEach(() => {
  temp = createTempDirectory();
  writeFileSync(
    join(temp.path, 'policy.yaml'),
    `version: 1
name: table
allowed_actions: [list_dir]
forbidden_actions: [delete_file]
escalation_required: [deploy]
tenants:
  acme:
    forbidden_actions: [deploy]
`,
  );
});
afterEach(() => temp.remove());

describe('ape explain', () => {
  it('exits 1 with one line naming the first error and how many more follow', async () => {
    writeFileSync(
      join(temp.path, 'two.yaml'),
      'version: 1\nallowed_actions: [list_dir]\nbogus: true\nother: 1\n',
    );
    const result = await run(['explain', 'two.yaml'], { cwd: temp.path });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'ape: invalid policy: two.yaml:3:1: error UNKNOWN_KEY unknown key "bogus" at $.bogus (and 1 more); run "ape validate two.yaml" for every finding\n',
    );
    expect(result.stdout).toBe('');
  });

  it('prints a table with effect, actions, conditions and rule id, denials first', async () => {
    const result = await run(['explain', 'policy.yaml'], { cwd: temp.path });
    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n');
    const header = lines.findIndex((line) => line.startsWith('EFFECT'));
    expect(lines[header]).toMatch(/^EFFECT\s+ACTIONS\s+CONDITIONS\s+RULE\s+TENANT$/);
    expect(lines[header + 1]).toMatch(/^DENY\s+delete_file\s+always\s+forbidden_actions\[0\]\s+\(all\)$/);
    expect(result.stdout).toMatch(/DENY\s+deploy\s+always\s+\S+\s+acme/);
    expect(result.stdout).toMatch(/ESCALATE\s+deploy\s+always\s+escalation_required\[0\]/);
    expect(result.stdout).toMatch(/ALLOW\s+list_dir\s+always\s+allowed_actions\[0\]/);
    expect(result.stdout).toContain('default deny');
  });

  it('prints the name, digest, tenants and rows with --json', async () => {
    const result = await run(['explain', 'policy.yaml', '--json'], { cwd: temp.path });
    const report = JSON.parse(result.stdout);
    expect(report.name).toBe('table');
    expect(report.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(report.tenants).toEqual(['acme']);
    expect(report.rows[0]).toMatchObject({
      effect: 'deny',
      action: 'delete_file',
      rule: 'forbidden_actions[0]',
    });
  });

  it('shows the scope and window of limits, in the table and in --json', async () => {
    writeFileSync(
      join(temp.path, 'limits.yaml'),
      'version: 1\nallowed_actions: [read_file]\nlimits:\n  - { id: reads, actions: [read_file], max_calls: 50, scope: lineage, window: 1h }\n  - { id: few, actions: [read_file], max_calls: 2 }\n',
    );
    const table = await run(['explain', 'limits.yaml'], { cwd: temp.path });
    expect(table.stdout).toMatch(/LIMIT\s+read_file\s+at most 50 calls per lineage in any 1h window\s+reads/);
    expect(table.stdout).toMatch(/LIMIT\s+read_file\s+at most 2 calls per session\s+few/);
    const report = JSON.parse((await run(['explain', 'limits.yaml', '--json'], { cwd: temp.path })).stdout);
    const rows = report.rows.filter((row: ExplainRow) => row.effect === 'limit');
    expect(rows).toEqual([
      expect.objectContaining({ rule: 'reads', scope: 'lineage', window: '1h' }),
      expect.objectContaining({ rule: 'few', scope: 'session' }),
    ]);
    expect(rows[1].window).toBeUndefined();
  });

  it('states the negated conditions of human_in_loop.yaml and how the table decides', async () => {
    const file = fileURLToPath(new URL('../../../../policies/human_in_loop.yaml', import.meta.url));
    const result = await run(['explain', file], { cwd: temp.path });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /DENY\s+deploy_production\s+args\.environment is present and not \(args\.environment is one of \["production", "staging"\]\)\s+deploy-only-to-known-environments/,
    );
    expect(result.stdout).toContain(
      'args.url is present and args.url is a string and not (args.url is a URL with scheme https and host example.com or *.example.com)',
    );
    expect(result.stdout).not.toContain('requires environment');
    expect(result.stdout).toContain("a tenant's ESCALATE only where the base rows allow or escalate");
    expect(result.stdout).not.toContain('Not summarised exactly');
  });

  it('names the rules it cannot summarise exactly, in the table and in --json', async () => {
    writeFileSync(
      join(temp.path, 'opaque.yaml'),
      'version: 1\nrules:\n  - id: odd\n    actions: [a]\n    effect: allow\n    when:\n      args:\n        type: object\n        dependentRequired: { a: [b] }\n',
    );
    const table = await run(['explain', 'opaque.yaml'], { cwd: temp.path });
    expect(table.stdout).toContain('(not summarised)');
    expect(table.stdout).toContain('Not summarised exactly: odd (line 3); read the rule itself.');
    const report = JSON.parse((await run(['explain', 'opaque.yaml', '--json'], { cwd: temp.path })).stdout);
    expect(report.rows[0]).toMatchObject({
      rule: 'odd',
      exact: false,
      condition: { op: 'unsummarised', keyword: 'dependentRequired' },
    });
  });

  it('exits 2 for a missing policy file', async () => {
    const result = await run(['explain', 'none.yaml'], { cwd: temp.path });
    expect(result.code).toBe(2);
  });
});

describe('sortRows', () => {
  it('orders deny, escalate, allow, then limits and transitions, keeping file order within a kind', () => {
    const row = (effect: ExplainRow['effect'], rule: string): ExplainRow => ({
      tenant: null,
      action: 'a',
      effect,
      conditions: 'always',
      rule,
      exact: true,
    });
    const sorted = sortRows([
      row('allow', 'a1'),
      row('limit', 'l1'),
      row('deny', 'd1'),
      row('allow', 'a2'),
      row('escalate', 'e1'),
      row('transition', 't1'),
      row('deny', 'd2'),
    ]);
    expect(sorted.map((entry) => entry.rule)).toEqual(['d1', 'd2', 'e1', 'a1', 'a2', 'l1', 't1']);
  });
});
