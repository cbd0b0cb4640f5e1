import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyAuditLog } from '@ape/audit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sdk, apeProxyTransport, filesystemServerCommand } from './support.js';

// Issue 24, done when: through the built `ape mcp proxy` in front of the real
// @modelcontextprotocol/server-filesystem, a client declares each argument's label in `_meta`
// ("ape/argProvenance"): content read from an untrusted page may be written to a path the user
// named; the attack variant, whose path came from the page, is escalated (deny-all) and nothing is
// written.

let base: string;
let policy: string;

function policyText(roots: string): string {
  return `version: 1
name: per-argument-writes
rules:
  - id: write-to-user-path
    actions: [write_file]
    effect: allow
    when:
      args:
        type: object
        properties:
          path: { type: string, x-ape-path: { roots: [${roots}] }, x-ape-provenance: [SYSTEM_TRUSTED, USER_TRUSTED] }
  - id: path-from-untrusted-data
    actions: [write_file]
    effect: escalate
    when:
      args: { type: object, properties: { path: { x-ape-provenance: [EXTERNAL_UNTRUSTED] } } }
    reason: The file to write was named by untrusted data.
`;
}

beforeAll(() => {
  base = realpathSync(mkdtempSync(join(tmpdir(), 'ape-mcp-argprov-')));
  policy = join(base, 'policy.yaml');
  writeFileSync(policy, policyText(base));
});

afterAll(() => {
  rmSync(base, { recursive: true, force: true });
});

describe('ape mcp proxy with per-argument provenance in _meta', () => {
  it('writes untrusted content to the user’s path, escalates the page’s path and records each label', async () => {
    const { Client } = await sdk.client();
    const audit = join(base, 'audit.jsonl');
    const client = new Client({ name: 'e2e', version: '1.0.0' });
    await client.connect(
      await apeProxyTransport(['--policy', policy, '--audit', audit], filesystemServerCommand(base)),
    );
    const summary = join(base, 'summary.txt');
    const attacker = join(base, 'attacker-chosen.txt');
    try {
      const allowed = await client.callTool({
        name: 'write_file',
        arguments: { path: summary, content: 'summary of the page' },
        _meta: {
          'ape/provenance': 'EXTERNAL_UNTRUSTED',
          'ape/argProvenance': { '/path': 'USER_TRUSTED' },
        },
      });
      expect(allowed.isError).toBeFalsy();
      expect(readFileSync(summary, 'utf8')).toBe('summary of the page');

      const forged = await client.callTool({
        name: 'write_file',
        arguments: { path: attacker, content: 'pwned' },
        _meta: { 'ape/argProvenance': { '/nope': 'USER_TRUSTED' } },
      });
      expect(forged.isError).toBe(true);
      expect(forged._meta['ape/decision'].code).toBe('PROVENANCE');
      expect(existsSync(attacker)).toBe(false);

      const attack = await client.callTool({
        name: 'write_file',
        arguments: { path: attacker, content: 'pwned' },
        _meta: {
          'ape/provenance': 'USER_TRUSTED',
          'ape/argProvenance': { '/path': 'EXTERNAL_UNTRUSTED' },
        },
      });
      expect(attack.isError).toBe(true);
      expect(attack._meta['ape/decision'].code).toBe('ESCALATION_DENIED');
      expect(existsSync(attacker)).toBe(false);
    } finally {
      await client.close();
    }
    expect((await verifyAuditLog(audit)).ok).toBe(true);
    const decisions = readFileSync(audit, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
      .filter((record) => record.type === 'decision.made')
      .map((record) => [record.data.decision, record.data.argLabels, record.data.code]);
    expect(decisions).toEqual([
      ['ALLOW', { '/path': 'USER_TRUSTED', '/content': 'EXTERNAL_UNTRUSTED' }, undefined],
      // The gateway records its own refusal of the malformed labels; the runtime never saw the call.
      ['DENY', undefined, 'PROVENANCE'],
      ['ESCALATE', { '/path': 'EXTERNAL_UNTRUSTED', '/content': 'USER_TRUSTED' }, undefined],
    ]);
  });
});
