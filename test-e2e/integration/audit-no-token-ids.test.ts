import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createJsonlFileAuditSink, verifyAuditLog } from '@ape/audit';
import { AuthorityManager, InMemoryTokenStore } from '@ape/authority';
import { createRuntime, defineTool, type TokenRecord } from '@ape/core';
import { CallbackEscalation } from '@ape/escalation';
import { compilePolicy } from '@ape/policy';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * A token's secret id must never reach the audit log. The store sees every secret the authority
 * mints (it is the one place they live), so a recording store lets the test scan a real log of a
 * full session — allowed steps, an escalation, a replay attempt, termination — for every one of them.
 */
class RecordingTokenStore extends InMemoryTokenStore {
  readonly secrets: string[] = [];
  override put(record: TokenRecord): void {
    this.secrets.push(record.id);
    super.put(record);
  }
}

const directory = mkdtempSync(join(tmpdir(), 'ape-audit-tokens-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

describe('audit log of a full session', () => {
  it('never contains a token id, only fingerprints, and verifies', async () => {
    const logPath = join(directory, 'audit.jsonl');
    const audit = await createJsonlFileAuditSink(logPath);
    const store = new RecordingTokenStore();
    const authority = new AuthorityManager({ tenant: 'acme', store });
    const policy = compilePolicy({
      version: 1,
      name: 'tokens',
      allowed_actions: ['read_file'],
      escalation_required: ['write_file'],
    });
    const runtime = createRuntime({
      tenant: 'acme',
      policy,
      authority,
      audit,
      escalation: new CallbackEscalation({ decide: () => true, approver: 'alice' }),
    });
    await runtime.setIntent(
      { allowed_actions: ['read_file', 'write_file'], forbidden_actions: [], scope: 'test' },
      { provenance: 'USER_TRUSTED' },
    );
    await runtime.submitPlan(
      {
        steps: [
          { action_id: 'read_file', args: { path: '/workspace/a' } },
          { action_id: 'write_file', args: { path: '/workspace/b' } },
          { action_id: 'read_file', args: { path: '/workspace/c' } },
        ],
      },
      { provenance: 'USER_TRUSTED' },
    );
    const read = defineTool({ id: 'read_file', run: () => 'content' });
    const write = defineTool({ id: 'write_file', run: () => 'written' });
    await runtime.executeStep(0, read, { args: { path: '/workspace/a' }, provenance: 'USER_TRUSTED' });
    await runtime.executeStep(1, write, { args: { path: '/workspace/b' }, provenance: 'USER_TRUSTED' });
    const token = await runtime.authorize(2, { args: { path: '/workspace/c' }, provenance: 'USER_TRUSTED' });
    await runtime.gate.execute(token, read, { index: 2, args: { path: '/workspace/c' } });
    await expect(
      runtime.gate.execute(token, read, { index: 2, args: { path: '/workspace/c' } }),
    ).rejects.toThrow();
    await runtime.terminate();
    await audit.close();

    expect(store.secrets.length).toBeGreaterThanOrEqual(3);
    const text = readFileSync(logPath, 'utf8');
    for (const secret of store.secrets) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain(Buffer.from(secret, 'hex').toString('base64'));
    }
    expect(text).toContain('"fingerprint"');
    expect(text).toContain('token.issued');
    expect(text).toContain('token.consumed');
    const verification = await verifyAuditLog(logPath);
    expect(verification.ok).toBe(true);
    expect(verification.problem).toBeUndefined();
  });
});
