import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ape, createScratch, expectNoStackTrace } from './run-ape.js';

let scratch: ReturnType<typeof createScratch>;
beforeAll(() => {
  scratch = createScratch();
});
afterAll(() => scratch.remove());

describe('ape demo', () => {
  it('runs unattended, exits 0, and prints where the audit log is, which then verifies', () => {
    const result = ape(['demo', '--audit', 'audit.jsonl'], { cwd: scratch.path });
    expectNoStackTrace(result);
    expect(result.code).toBe(0);
    const auditPath = join(scratch.path, 'audit.jsonl');
    expect(result.stdout).toContain(auditPath);
    expect(existsSync(auditPath)).toBe(true);
    expect(ape(['audit', 'verify', auditPath]).code).toBe(0);
  });

  it('writes its audit log to a temporary file by default', () => {
    const result = ape(['demo', '--json']);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.ok).toBe(true);
    expect(report.auditVerified).toBe(true);
    expect(existsSync(report.auditPath)).toBe(true);
    const ids = report.scenarios.map((scenario: { id: string }) => scenario.id);
    expect(ids).toEqual([
      'allowed-task',
      'forbidden-action',
      'escalation-approved',
      'escalation-denied',
      'prompt-injection',
      'replayed-token',
      'cross-tenant-token',
      'lineage-budget',
    ]);
    expect(report.scenarios.every((scenario: { ok: boolean }) => scenario.ok)).toBe(true);
  });

  it('runs with --interactive when no terminal is attached, still ending every scenario safely', () => {
    const result = ape(['demo', '--interactive', '--audit', 'interactive.jsonl'], { cwd: scratch.path });
    expectNoStackTrace(result);
    expect(result.code).toBe(0);
  });

  it('runs through the installed command, node packages/cli/dist/ape.cjs demo', () => {
    const result = ape(['demo', '--no-color']);
    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain('\u001b[');
  });
});
