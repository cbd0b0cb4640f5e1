import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadAssertions, parseAssertions } from './assertions.js';
import { loadVerifiablePolicy, verifiablePolicyFromDocument } from './load.js';
import { exportPolicyModel } from './model.js';

const directory = mkdtempSync(join(tmpdir(), 'ape-verify-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const path = join(directory, name);
  writeFileSync(path, text);
  return path;
}

function codeOf(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return (error as { code?: unknown }).code;
  }
  return undefined;
}

describe('loadVerifiablePolicy', () => {
  it('keeps the rule model the compiled policy was built from (one load, same digest)', () => {
    const loaded = loadVerifiablePolicy(
      join(import.meta.dirname, '..', '..', '..', 'policies', 'multi_tenant.yaml'),
    );
    expect(loaded.definition).toBe(loaded.policy.definition);
    expect(loaded.definition.name).toBe('multi-tenant');
    expect(loaded.definition.digest).toBe(loaded.policy.digest);
    expect(loaded.policy.tenants).toEqual(['acme-bank', 'trial']);
  });

  it('refuses an invalid policy with POLICY_INVALID and the first finding', () => {
    const path = write('bad.yaml', 'version: 1\nallowed_actions: [read]\nforbidden_actions: [read]\n');
    expect(codeOf(() => loadVerifiablePolicy(path))).toBe('POLICY_INVALID');
  });

  it('refuses a missing file with POLICY_INVALID carrying a FILE_UNREADABLE finding', () => {
    try {
      loadVerifiablePolicy(join(directory, 'missing.yaml'));
      expect.unreachable();
    } catch (error) {
      expect((error as { code: string }).code).toBe('POLICY_INVALID');
      const findings = (error as { details: { findings: { code: string }[] } }).details.findings;
      expect(findings[0]?.code).toBe('FILE_UNREADABLE');
    }
  });
});

describe('exportPolicyModel', () => {
  it('keeps the seed shape: sorted action-level sets', () => {
    const model = exportPolicyModel(
      verifiablePolicyFromDocument({
        version: 1,
        allowed_actions: ['search_web', 'read_file'],
        forbidden_actions: ['delete_file'],
        escalation_required: ['send_email'],
        rules: [
          { id: 'w', actions: ['write_file'], effect: 'allow', when: { provenance: ['USER_TRUSTED'] } },
        ],
      }),
    );
    expect(model).toMatchObject({
      ACTIONS: ['delete_file', 'read_file', 'search_web', 'send_email', 'write_file'],
      ALLOW: ['read_file', 'search_web', 'write_file'],
      DENY: ['delete_file'],
      ESCALATE: ['send_email'],
    });
    expect(model.rules.find((rule) => rule.id === 'w')).toMatchObject({
      provenance: ['USER_TRUSTED'],
      args: null,
    });
  });

  it('carries the scope and window of each limit, with the ids @ape/policy gave them', () => {
    const model = exportPolicyModel(
      verifiablePolicyFromDocument({
        version: 1,
        allowed_actions: ['read_file', 'search_web'],
        limits: [
          { actions: ['read_file'], max_calls: 3 },
          { id: 'hourly', actions: ['search_web'], max_calls: 9, scope: 'lineage', window: '1h' },
        ],
        tenants: {
          acme: { limits: [{ actions: ['read_file'], max_calls: 1, scope: 'tenant', window: '1d' }] },
        },
      }),
    );
    expect(model.limits).toEqual([
      {
        id: 'limits[0]',
        tenant: null,
        actions: ['read_file'],
        maxCalls: 3,
        scope: 'session',
        windowMs: null,
      },
      {
        id: 'hourly',
        tenant: null,
        actions: ['search_web'],
        maxCalls: 9,
        scope: 'lineage',
        windowMs: 3_600_000,
      },
      {
        id: 'tenants.acme.limits[0]',
        tenant: 'acme',
        actions: ['read_file'],
        maxCalls: 1,
        scope: 'tenant',
        windowMs: 86_400_000,
      },
    ]);
  });
});

describe('assertions', () => {
  it('reads the three kinds and a single provenance label', () => {
    const path = write(
      'ok.yaml',
      'always_deny: [delete_file]\nnever_allow_with:\n  - { action: send_email, provenance: EXTERNAL_UNTRUSTED }\nmust_escalate: ["deploy.*"]\n',
    );
    expect(loadAssertions(path)).toEqual({
      always_deny: ['delete_file'],
      never_allow_with: [{ action: 'send_email', provenance: ['EXTERNAL_UNTRUSTED'] }],
      must_escalate: ['deploy.*'],
    });
  });

  it.each([
    ['an unknown key', 'always_denied: [x]\n'],
    ['an unknown label', 'never_allow_with:\n  - { action: x, provenance: TRUSTED }\n'],
    ['a bad action pattern', 'always_deny: ["rm -rf"]\n'],
    ['an alias', 'always_deny: &a [x]\nmust_escalate: *a\n'],
    ['a duplicate key', 'always_deny: [x]\nalways_deny: [y]\n'],
    ['a prototype key', '__proto__: [x]\n'],
    ['a custom tag', 'always_deny: !!js/function x\n'],
    ['two documents', 'always_deny: [x]\n---\nalways_deny: [y]\n'],
  ])('refuses %s with POLICY_INVALID', (_name, text) => {
    const path = write('bad-assertions.yaml', text);
    expect(codeOf(() => loadAssertions(path))).toBe('POLICY_INVALID');
  });

  it('names the line of the offending entry', () => {
    const path = write('line.yaml', 'always_deny:\n  - read\n  - "bad pattern"\n');
    expect(() => loadAssertions(path)).toThrow(/line\.yaml:3: \$\.always_deny\[1\]/);
  });

  it('reports an unreadable file with POLICY_INVALID and details.unreadable', () => {
    try {
      loadAssertions(join(directory, 'nope.yaml'));
      expect.unreachable();
    } catch (error) {
      expect((error as { code: string; details: { unreadable?: boolean } }).code).toBe('POLICY_INVALID');
      expect((error as { details: { unreadable?: boolean } }).details.unreadable).toBe(true);
    }
  });

  it('refuses a value that is not a mapping', () => {
    expect(codeOf(() => parseAssertions(['x']))).toBe('POLICY_INVALID');
  });
});
