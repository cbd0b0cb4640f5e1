import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ape, createScratch, expectNoStackTrace, expectOneLineError, root } from '../cli/run-ape.js';

let scratch: ReturnType<typeof createScratch>;
const policy = (name: string): string => join(root, 'policies', name);

beforeAll(() => {
  scratch = createScratch();
  writeFileSync(
    join(scratch.path, 'assertions.yaml'),
    'always_deny: ["shell.*"]\nnever_allow_with:\n  - { action: send_email, provenance: EXTERNAL_UNTRUSTED }\nmust_escalate: [delete_file]\n',
  );
  writeFileSync(join(scratch.path, 'failing.yaml'), 'always_deny: [read_file]\n');
  writeFileSync(join(scratch.path, 'bad.yaml'), 'always_deny: [read_file]\nsurprise: true\n');
  writeFileSync(
    join(scratch.path, 'wider.yaml'),
    readFileSync(policy('read_only.yaml'), 'utf8')
      .replace('  - search_web\n\nforbidden', '  - search_web\n  - write_file\n\nforbidden')
      .replace(
        '  - write_file\n  - delete_file\n  - deploy_production\n\nrules',
        '  - delete_file\n  - deploy_production\n\nrules',
      ),
  );
});
afterAll(() => scratch.remove());

describe('ape verify', () => {
  it('exits 0 when every check and assertion is proved', () => {
    const run = ape(['verify', policy('untrusted_web.yaml'), '--assert', 'assertions.yaml'], {
      cwd: scratch.path,
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/pass token-invariant/);
    expect(run.stdout).toMatch(/pass assert\.never_allow_with\[0\]/);
    expect(run.stdout).toMatch(/^verified /m);
  });

  it('exits 1 with the counterexample when an assertion fails, also as JSON', () => {
    const run = ape(['verify', policy('read_only.yaml'), '--assert', 'failing.yaml', '--json'], {
      cwd: scratch.path,
    });
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as {
      ok: boolean;
      checks: {
        id: string;
        status: string;
        counterexample?: { request: { action: string }; decision: string; confirmed: boolean };
      }[];
    };
    expect(report.ok).toBe(false);
    const failed = report.checks.find((check) => check.id === 'assert.always_deny[0]');
    expect(failed).toMatchObject({
      status: 'fail',
      counterexample: { request: { action: 'read_file' }, decision: 'ALLOW', confirmed: true },
    });
    expectNoStackTrace(run);
  });

  it('writes an export to --out', () => {
    for (const format of ['tla', 'smt2']) {
      const run = ape(['verify', policy('read_only.yaml'), '--export', format, '--out', `out-${format}`], {
        cwd: scratch.path,
      });
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toMatch(new RegExp(`wrote out-${format}/`));
    }
    expect(readFileSync(join(scratch.path, 'out-tla', 'ApePolicy_read_only.cfg'), 'utf8')).toMatch(
      /TokenInvariant/,
    );
  });

  it('exits 2 with one line for an unusable assertions file, a missing policy or a bad --export', () => {
    expectOneLineError(
      ape(['verify', policy('read_only.yaml'), '--assert', 'bad.yaml'], { cwd: scratch.path }),
      2,
    );
    expectOneLineError(
      ape(['verify', policy('read_only.yaml'), '--assert', 'missing.yaml'], { cwd: scratch.path }),
      2,
    );
    expectOneLineError(ape(['verify', 'missing-policy.yaml'], { cwd: scratch.path }), 2);
    expectOneLineError(
      ape(['verify', policy('read_only.yaml'), '--export', 'coq'], { cwd: scratch.path }),
      2,
    );
  });

  it('verify-policy prints the JSON model in the seed shape', () => {
    const run = ape(['verify-policy', policy('example_policy.yaml')]);
    expect(run.code, run.stderr).toBe(0);
    const model = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(model).toMatchObject({
      ALLOW: ['list_directory', 'read_file', 'search_web'],
      DENY: ['delete_file', 'execute_shell'],
      ESCALATE: ['deploy_production', 'send_email'],
    });
  });
});

describe('ape diff', () => {
  it('exits 0 for a policy compared with itself', () => {
    const run = ape(['diff', policy('read_only.yaml'), policy('read_only.yaml')]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^equivalent /);
  });

  it('exits 1 with a witness per action when the new policy allows more', () => {
    const run = ape(['diff', policy('read_only.yaml'), 'wider.yaml', '--json'], { cwd: scratch.path });
    expect(run.code, run.stderr).toBe(1);
    const diff = JSON.parse(run.stdout) as {
      equivalent: boolean;
      onlyB: { action: string; decisions: { a: string; b: string } }[];
      unknown: unknown[];
    };
    expect(diff.equivalent).toBe(false);
    expect(diff.unknown).toEqual([]);
    expect(diff.onlyB).toEqual([
      expect.objectContaining({
        action: 'write_file',
        decisions: { a: 'DENY', b: 'ALLOW' },
      }),
    ]);
  });

  it('lists only confirmed differences between two shipped policies, each with a real witness', () => {
    const run = ape(['diff', policy('read_only.yaml'), policy('workspace_files.yaml')]);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout).not.toContain('not confirmed');
    expect(run.stdout).not.toContain('unknown');
    expect(run.stdout).toMatch(/delete_file: old DENY, new ESCALATE\n\s+witness: \{.*"path":"\/workspace/);
    expect(run.stdout).toMatch(/fetch_url: old ALLOW, new DENY\n\s+witness: \{.*"url":"https:\/\//);
    expect(run.stdout).toMatch(/different \d+ difference\(s\), each with a witness both policies confirm/);
  });
});

describe('limits with a scope and a window', () => {
  const budgets = (extra: string): string =>
    `name: budgets\nallowed_actions: [search_web, send_email]\nlimits:\n  - { id: no-mail, actions: [send_email], max_calls: 0, scope: tenant, window: 1d }\n${extra}`;

  it('ape verify proves that a zero budget with a window denies every call', () => {
    writeFileSync(join(scratch.path, 'budgets.yaml'), budgets(''));
    writeFileSync(join(scratch.path, 'no-mail.yaml'), 'always_deny: [send_email]\n');
    const run = ape(['verify', 'budgets.yaml', '--assert', 'no-mail.yaml'], { cwd: scratch.path });
    expect(run.code, run.stdout).toBe(0);
    expect(run.stdout).toMatch(/pass assert\.always_deny\[0\]/);
  });

  it('verify-policy prints each limit with its scope and window', () => {
    writeFileSync(join(scratch.path, 'budgets.yaml'), budgets(''));
    const run = ape(['verify-policy', 'budgets.yaml'], { cwd: scratch.path });
    expect(run.code, run.stderr).toBe(0);
    expect((JSON.parse(run.stdout) as { limits: unknown[] }).limits).toEqual([
      {
        id: 'no-mail',
        tenant: null,
        actions: ['send_email'],
        maxCalls: 0,
        scope: 'tenant',
        windowMs: 86_400_000,
      },
    ]);
  });

  it('ape diff finds the call a lineage budget denies, with a witness carrying session.usage', () => {
    writeFileSync(join(scratch.path, 'budgets.yaml'), budgets(''));
    writeFileSync(
      join(scratch.path, 'budgets-hourly.yaml'),
      budgets('  - { id: hourly, actions: [search_web], max_calls: 5, scope: lineage, window: 1h }\n'),
    );
    const run = ape(['diff', 'budgets.yaml', 'budgets-hourly.yaml', '--json'], { cwd: scratch.path });
    expect(run.code, run.stderr).toBe(1);
    const diff = JSON.parse(run.stdout) as {
      onlyA: {
        action: string;
        witness: { session?: { usage?: Record<string, number> } };
        decisions: { a: string; b: string };
      }[];
    };
    expect(diff.onlyA).toHaveLength(1);
    expect(diff.onlyA[0]).toMatchObject({
      action: 'search_web',
      decisions: { a: 'ALLOW', b: 'DENY' },
    });
    expect(diff.onlyA[0]?.witness.session?.usage?.['hourly']).toBeGreaterThanOrEqual(5);
  });
});
