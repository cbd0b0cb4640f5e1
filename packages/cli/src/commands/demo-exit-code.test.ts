import { describe, expect, it, vi } from 'vitest';
import { run } from '../__fixtures__/test-io.js';

vi.mock('@ape/reference-agent', () => ({
  runDemo: vi.fn(async () => ({
    ok: false,
    scenarios: [
      { id: 'allowed-task', title: 't', expected: 'e', outcome: 'o', ok: true, detail: '' },
      {
        id: 'prompt-injection',
        title: 't',
        expected: 'e',
        outcome: 'the e-mail went out',
        ok: false,
        detail: '',
      },
    ],
    auditPath: '/tmp/audit.jsonl',
    auditRecords: 3,
    auditVerified: true,
  })),
}));

describe('ape demo exit code', () => {
  it('exits 1 when a scenario did not end as expected', async () => {
    const result = await run(['demo']);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('/tmp/audit.jsonl');
  });

  it('exits 1 with --json too, and prints the report', async () => {
    const result = await run(['demo', '--json']);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout).ok).toBe(false);
  });
});
