import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { verifyAuditLog } from '@ape/audit';
import { describe, expect, it } from 'vitest';
import { type DemoOptions, runDemo } from './demo.js';
import { DEMO_SCENARIO_IDS } from './demo/scenarios.js';
import { shippedPoliciesDirectory } from './shipped-policies.js';

const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const REPOSITORY_POLICIES = join(PACKAGE_ROOT, '..', '..', 'policies');

function capture(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      chunks.push(String(chunk));
      callback();
    },
  });
  return { stream, text: () => chunks.join('') };
}

async function demo(options: Omit<DemoOptions, 'output'> = {}) {
  const output = capture();
  const auditPath = join(mkdtempSync(join(tmpdir(), 'ape-demo-test-')), 'audit.jsonl');
  const report = await runDemo({ auditPath, ...options, output: output.stream });
  return { report, text: output.text(), auditPath: report.auditPath };
}

describe('runDemo', () => {
  it('ends every scenario as expected and writes an audit log that verifies', async () => {
    const { report, text, auditPath } = await demo();
    expect(report.scenarios.map((scenario) => [scenario.id, scenario.ok])).toEqual(
      DEMO_SCENARIO_IDS.map((id) => [id, true]),
    );
    expect(report.ok).toBe(true);
    expect(report.auditVerified).toBe(true);
    const verification = await verifyAuditLog(auditPath);
    expect(verification.ok).toBe(true);
    expect(report.auditRecords).toBe(verification.records);
    expect(report.auditRecords).toBeGreaterThan(50);
    expect(text).toContain(auditPath);
    expect(text).toContain('All 8 scenarios ended as expected.');
  });

  it('records every scenario in the audit log, and never a token secret', async () => {
    const { auditPath } = await demo();
    const lines = readFileSync(auditPath, 'utf8').trim().split('\n');
    const records = lines.map(
      (line) => JSON.parse(line) as { session: string; tenant: string; type: string },
    );
    const sessions = new Set(records.map((record) => record.session.replace(/-[0-9a-f]{8}$/, '')));
    expect([...sessions].sort()).toEqual([...DEMO_SCENARIO_IDS].sort());
    expect(new Set(records.map((record) => record.tenant))).toEqual(new Set(['demo', 'acme-bank', 'trial']));
    expect(records.some((record) => record.type === 'escalation.denied')).toBe(true);
    expect(lines.join('\n')).not.toMatch(/"(tokenId|token_id|secret)"\s*:\s*"[0-9a-f]{32,}"/);
  });

  it('prints, per scenario, what the agent tried, what APE decided with rule ids, and a ✔', async () => {
    const { text } = await demo();
    expect(text.match(/^\[\d\/8\] /gm)).toHaveLength(8);
    expect(text.match(/ ✔ expected: /g)).toHaveLength(8);
    expect(text).not.toContain('✘');
    expect(text).toContain('DENY [no-destruction-on-untrusted-input]');
    expect(text).toContain('ESCALATE [untrusted-data-must-not-leave]');
    expect(text).toContain('ESCALATE [escalation_required[3]] → approved by demo-approver');
    expect(text).toContain('UNAUTHORIZED_ACTION');
    expect(text).toContain('TENANT_MISMATCH');
    expect(text).toContain('DENY [two-reads-per-session]');
    expect(text).toContain('DENY [tool_transitions.read_file]');
    expect(text).not.toContain('\u001b[');
  });

  it('keeps a budget across a denied escalation in calls mode: the next session of the lineage is refused', async () => {
    const { report, auditPath } = await demo();
    const scenario = report.scenarios.find((entry) => entry.id === 'lineage-budget');
    expect(scenario?.ok).toBe(true);
    expect(scenario?.outcome).toBe(
      'session 1 escalation denied, TERMINATED; session 2: third read POLICY_DENY, write after read POLICY_DENY',
    );
    const records = readFileSync(auditPath, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { session: string; type: string; data: Record<string, unknown> })
      .filter((record) => record.session.startsWith('lineage-budget-'));
    const created = records.filter((record) => record.type === 'session.created');
    expect(created).toHaveLength(2);
    expect(created[1]?.data['lineage']).toBe(created[0]?.data['lineage']);
    expect(created[1]?.data['continuesSession']).toBe(created[0]?.session);
    expect(records.some((record) => record.type === 'plan.approved')).toBe(false);
    // Five proposals were appended (three in session 1, two in session 2); only the two reads of session 1 ran.
    expect(records.filter((record) => record.type === 'plan.extended')).toHaveLength(5);
    expect(records.filter((record) => record.type === 'tool.executed')).toHaveLength(2);
  });

  it('colours the transcript only when asked', async () => {
    expect((await demo({ color: true })).text).toContain('\u001b[32m✔\u001b[39m');
  });

  it('passes interactively even without a terminal: the refusal of the prompt is enforced', async () => {
    const { report } = await demo({ interactive: true });
    expect(report.ok).toBe(true);
    const approved = report.scenarios.find((scenario) => scenario.id === 'escalation-approved');
    expect(approved?.outcome).toMatch(/denied: refused/);
  });

  it('reports a scenario that does not end as expected, and is then not ok', async () => {
    const policiesDir = mkdtempSync(join(tmpdir(), 'ape-demo-policies-'));
    for (const file of readdirSync(shippedPoliciesDirectory())) {
      writeFileSync(join(policiesDir, file), readFileSync(join(shippedPoliciesDirectory(), file)));
    }
    // A policy that forgets to forbid delete_file: the forbidden-action scenario must notice.
    writeFileSync(join(policiesDir, 'example_policy.yaml'), 'allowed_actions: [delete_file]\n');
    const { report, text } = await demo({ policiesDir });
    expect(report.ok).toBe(false);
    expect(report.scenarios.find((scenario) => scenario.id === 'forbidden-action')?.ok).toBe(false);
    expect(text).toContain('✘');
    expect(text).toContain('1 of 8 scenarios did not end as expected.');
  });

  it('fails with POLICY_INVALID naming the file when a policy is missing', async () => {
    const policiesDir = mkdtempSync(join(tmpdir(), 'ape-demo-empty-'));
    await expect(demo({ policiesDir })).rejects.toMatchObject({ code: 'POLICY_INVALID' });
  });
});

describe('shippedPoliciesDirectory', () => {
  it("holds exact copies of the repository's policies (the build copies them; an unbuilt checkout reads them in place)", () => {
    const shipped = shippedPoliciesDirectory();
    expect([join(PACKAGE_ROOT, 'demo-policies'), REPOSITORY_POLICIES]).toContain(shipped);
    expect(readdirSync(shipped).sort()).toEqual(
      readdirSync(REPOSITORY_POLICIES)
        .filter((file) => file.endsWith('.yaml'))
        .sort(),
    );
    for (const file of readdirSync(shipped)) {
      expect(readFileSync(join(shipped, file), 'utf8'), file).toBe(
        readFileSync(join(REPOSITORY_POLICIES, file), 'utf8'),
      );
    }
  });
});
