import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PolicyError } from '@ape/core';
import { describe, expect, it } from 'vitest';
import { compilePolicy, formatFinding, loadPolicy, validatePolicy } from './index.js';
import type { PolicyFinding } from './types.js';

const directory = mkdtempSync(join(tmpdir(), 'ape-policy-'));
const request = { tenant: 't', action: 'read_file', args: {}, provenance: 'USER_TRUSTED' as const };

describe('loadPolicy and validatePolicy', () => {
  it('reports a missing file as FILE_UNREADABLE without throwing from validatePolicy', () => {
    const result = validatePolicy(join(directory, 'missing.yaml'));
    expect(result.ok).toBe(false);
    expect(result.findings[0]?.code).toBe('FILE_UNREADABLE');
  });

  it('refuses a source that is neither a path nor { text } with SCHEMA', () => {
    for (const source of [null, 42, { text: 7 }]) {
      const result = validatePolicy(source as unknown as string);
      expect(result.ok).toBe(false);
      expect(result.findings).toEqual([
        { severity: 'error', code: 'SCHEMA', message: 'the policy source must be a path or { text }' },
      ]);
    }
  });

  it('refuses a policy file over maxBytes with LIMIT_SIZE before reading it', () => {
    const file = join(directory, 'big.yaml');
    writeFileSync(file, `name: big\nallowed_actions: [read]\n`);
    const result = validatePolicy(file, { limits: { maxBytes: 8 } });
    expect(result.findings).toEqual([
      expect.objectContaining({
        code: 'LIMIT_SIZE',
        file,
        path: '$',
        message: expect.stringContaining('over the limit of 8'),
      }),
    ]);
  });

  it('formats findings with only the parts that are known', () => {
    expect(formatFinding({ severity: 'error', code: 'SCHEMA', message: 'm', line: 3 })).toBe('3:1: m');
    expect(
      formatFinding({ severity: 'error', code: 'SCHEMA', message: 'm', file: 'p.yaml', line: 3, column: 7 }),
    ).toBe('p.yaml:3:7: m');
  });

  it('throws POLICY_INVALID with the FILE_UNREADABLE finding from loadPolicy', () => {
    const path = join(directory, 'missing.yaml');
    expect(() => loadPolicy(path)).toThrow(PolicyError);
    try {
      loadPolicy(path);
    } catch (error) {
      expect((error as PolicyError).code).toBe('POLICY_INVALID');
      expect((error as PolicyError).details['file']).toBe(path);
      expect(((error as PolicyError).details['findings'] as PolicyFinding[])[0]?.code).toBe(
        'FILE_UNREADABLE',
      );
    }
  });

  it('reads .json files as JSON and names the policy after the file', () => {
    const path = join(directory, 'tools.json');
    writeFileSync(path, JSON.stringify({ allowed_actions: ['read_file'] }));
    const policy = loadPolicy(path);
    expect(policy.name).toBe('tools');
    expect(policy.evaluate(request).decision).toBe('ALLOW');
  });

  it('names a policy from text "unnamed" unless told otherwise', () => {
    expect(loadPolicy({ text: 'allowed_actions: [a]' }).name).toBe('unnamed');
    expect(loadPolicy({ text: 'allowed_actions: [a]' }, { defaultName: 'x' }).name).toBe('x');
    expect(loadPolicy({ text: 'name: given\nallowed_actions: [a]' }).name).toBe('given');
  });

  it('formats findings as file:line:column: path: message', () => {
    const result = validatePolicy({
      text: 'allowed_actions: [a]\nrules:\n  - { id: r, actions: [a], effect: nope }\n',
      filename: 'p.yaml',
    });
    const finding = result.findings.find((item) => item.path === '$.rules[0].effect')!;
    expect(finding.line).toBe(3);
    expect(formatFinding(finding)).toMatch(
      /^p\.yaml:3:\d+: \$\.rules\[0\]\.effect: must be one of "allow", "deny", "escalate"$/,
    );
  });

  it('gives the same digest for the same content whatever the key order and formatting', () => {
    const first = loadPolicy({ text: 'name: p\nallowed_actions: [a, b]\nforbidden_actions: [c]\n' });
    const second = loadPolicy({
      text: '{"forbidden_actions": ["c"], "name": "p", "allowed_actions": ["a", "b"], "version": 1}',
      format: 'json',
    });
    const third = compilePolicy({
      allowed_actions: ['a', 'b'],
      forbidden_actions: ['c'],
      name: 'p',
      default: 'deny',
    });
    expect(first.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(second.digest).toBe(first.digest);
    expect(third.digest).toBe(first.digest);
    expect(loadPolicy({ text: 'name: p\nallowed_actions: [a]\n' }).digest).not.toBe(first.digest);
  });

  it('does not keep or freeze the caller object and is itself frozen', () => {
    const document = { allowed_actions: ['a'] };
    const policy = compilePolicy(document);
    document.allowed_actions.push('b');
    expect(Object.isFrozen(document)).toBe(false);
    expect(policy.evaluate({ ...request, action: 'b' }).decision).toBe('DENY');
    expect(Object.isFrozen(policy)).toBe(true);
  });
});

describe('lint', () => {
  const codes = (text: string) =>
    validatePolicy({ text }).findings.map((finding) => [finding.severity, finding.code]);

  it('rejects an action both allowed and forbidden, naming both entries', () => {
    const result = validatePolicy({ text: 'allowed_actions: [a]\nforbidden_actions: [a]\n' });
    expect(result.ok).toBe(false);
    expect(result.findings[0]).toMatchObject({
      code: 'LINT_CONFLICT',
      severity: 'error',
      rules: ['allowed_actions[0]', 'forbidden_actions[0]'],
    });
  });

  it('warns about an action both allowed and escalation-required', () => {
    expect(codes('allowed_actions: [a]\nescalation_required: [a]\n')).toEqual([['warning', 'LINT_CONFLICT']]);
  });

  it('rejects a rule id used twice, in the base or across base and tenant', () => {
    const rule = '{ id: r, actions: [a], effect: deny }';
    expect(codes(`rules: [${rule}, ${rule}]`)).toContainEqual(['error', 'LINT_DUPLICATE_RULE_ID']);
    expect(codes(`rules: [${rule}]\ntenants: { t: { rules: [${rule}] } }`)).toContainEqual([
      'error',
      'LINT_DUPLICATE_RULE_ID',
    ]);
  });

  it('allows the same rule id in two different tenants', () => {
    const rule = '{ id: r, actions: [a], effect: deny }';
    expect(
      validatePolicy({ text: `tenants: { t1: { rules: [${rule}] }, t2: { rules: [${rule}] } }` }).ok,
    ).toBe(true);
  });

  it('warns about a list entry repeated', () => {
    expect(codes('allowed_actions: [a, a]')).toEqual([['warning', 'LINT_DUPLICATE_ENTRY']]);
  });

  it('warns about an allow rule fully shadowed by a deny, with both ids', () => {
    const result = validatePolicy({
      text: 'forbidden_actions: ["fs.**"]\nrules: [{ id: r, actions: ["fs.read", "fs.*"], effect: allow }]\n',
    });
    expect(result.ok).toBe(true);
    expect(result.findings).toEqual([
      expect.objectContaining({ code: 'LINT_SHADOWED', rules: ['r', 'forbidden_actions[0]'] }),
    ]);
    expect(result.policy?.warnings).toHaveLength(1);
  });

  it('does not call an allow shadowed when the deny is conditional or narrower', () => {
    expect(codes('forbidden_actions: ["fs.*"]\nallowed_actions: ["fs.**"]')).toEqual([]);
    expect(
      codes(
        'rules: [{ id: d, actions: [a], effect: deny, when: { provenance: [EXTERNAL_UNTRUSTED] } }]\nallowed_actions: [a]',
      ),
    ).toEqual([]);
  });

  it('rejects patterns that match nothing in a declared catalogue', () => {
    const result = validatePolicy({
      text: 'actions: [read_file, write_file]\nallowed_actions: [read_fiel, "net.*"]\nlimits: [{ actions: ["*_file"], max_calls: 1 }]\n',
    });
    expect(result.findings.map((finding) => [finding.code, finding.path])).toEqual([
      ['LINT_UNKNOWN_ACTION', '$.allowed_actions[0]'],
      ['LINT_GLOB_MATCHES_NOTHING', '$.allowed_actions[1]'],
    ]);
  });
});

describe('explain, simulate and mayPermit', () => {
  const policy = loadPolicy({
    filename: 'p.yaml',
    text: [
      'allowed_actions: [read_file]',
      'forbidden_actions: [delete_file]',
      'rules:',
      '  - id: write-ws',
      '    actions: [write_file]',
      '    effect: allow',
      '    when:',
      '      args: { type: object, required: [path], properties: { path: { type: string, x-ape-path: { roots: [/workspace] } } } }',
      '      provenance: [USER_TRUSTED]',
      '    reason: Workspace writes are fine',
      'limits: [{ actions: [read_file], max_calls: 0 }]',
      'tool_transitions: { read_file: [write_file] }',
      'tenants:',
      '  t1: { allowed_actions: [write_file] }',
    ].join('\n'),
  });

  it('lists every rule with effect, conditions, id and source line', () => {
    const rows = policy.explain();
    expect(rows).toContainEqual({
      tenant: null,
      action: 'read_file',
      effect: 'allow',
      conditions: 'always',
      condition: { op: 'always' },
      exact: true,
      rule: 'allowed_actions[0]',
      line: 1,
    });
    expect(rows).toContainEqual(
      expect.objectContaining({
        tenant: null,
        action: 'write_file',
        effect: 'allow',
        conditions:
          'args.path is present and args.path is a string and args.path is a safe path within /workspace and provenance is USER_TRUSTED',
        exact: true,
        rule: 'write-ws',
        reason: 'Workspace writes are fine',
        line: 4,
      }),
    );
    expect(rows.map((row) => row.effect)).toEqual(
      expect.arrayContaining(['deny', 'limit', 'transition', 'tenant_filter']),
    );
  });

  it('simulate traces why a condition failed', () => {
    const result = policy.simulate({
      tenant: 'x',
      action: 'write_file',
      args: {},
      provenance: 'USER_TRUSTED',
    });
    expect(result.decision).toBe('DENY');
    expect(result.tenant).toBeNull();
    expect(result.trace).toContainEqual(
      expect.objectContaining({
        rule: 'write-ws',
        applied: false,
        because: expect.stringContaining('missing "path"'),
      }),
    );
    const untrusted = policy.simulate({
      tenant: 'x',
      action: 'write_file',
      args: { path: '/workspace/a' },
      provenance: 'EXTERNAL_UNTRUSTED',
    });
    expect(untrusted.trace).toContainEqual(
      expect.objectContaining({
        rule: 'write-ws',
        because: expect.stringContaining('provenance EXTERNAL_UNTRUSTED'),
      }),
    );
    const traversal = policy.simulate({
      tenant: 'x',
      action: 'write_file',
      args: { path: '/workspace/../etc' },
      provenance: 'USER_TRUSTED',
    });
    expect(traversal.trace[0]?.because).toContain('not a path within the allowed roots');
  });

  it('simulate reports the tenant overlay used', () => {
    expect(policy.simulate({ ...request, tenant: 't1' }).tenant).toBe('t1');
  });

  it('simulate and evaluate never throw on malformed requests', () => {
    const hostile = [
      null,
      undefined,
      5,
      {},
      { action: 5 },
      { action: 'read_file', args: null },
      { action: 'read_file', args: {}, intent: { allowed_actions: 'x' } },
    ];
    for (const value of hostile) {
      const evaluated = policy.evaluate(value as never);
      expect(evaluated.decision).toBe('DENY');
      expect(evaluated.code).toBe('ACTION_INVALID');
      expect(policy.simulate(value as never).decision).toBe('DENY');
    }
  });

  it('fails closed with a code when reading the request throws', () => {
    const args = new Proxy(
      {},
      {
        get: () => {
          throw new Error('boom');
        },
        ownKeys: () => {
          throw new Error('boom');
        },
      },
    );
    const decision = policy.evaluate({ tenant: 'x', action: 'write_file', args, provenance: 'USER_TRUSTED' });
    expect(decision).toMatchObject({ decision: 'DENY', code: 'INTERNAL', rules: ['error'] });
    const session = {
      id: 's',
      get previousAction(): string {
        throw new Error('boom');
      },
    };
    expect(policy.evaluate({ ...request, session }).code).toBe('INTERNAL');
  });

  it('mayPermit answers for action and tenant, ignoring conditions but not unconditional denials', () => {
    expect(policy.mayPermit('x', 'write_file')).toBe(true);
    expect(policy.mayPermit('x', 'delete_file')).toBe(false);
    expect(policy.mayPermit('x', 'read_file')).toBe(false);
    expect(policy.mayPermit('x', 'unknown')).toBe(false);
    expect(policy.mayPermit('t1', 'write_file')).toBe(true);
    expect(policy.mayPermit('t1', 'read_file')).toBe(false);
    expect(policy.mayPermit('x', '../bad')).toBe(false);
  });

  it('mayEscalate is true only for an action some rule of the base or the tenant overlay escalates', () => {
    const escalating = loadPolicy({
      filename: 'e.yaml',
      text: [
        'allowed_actions: [read_file]',
        'rules:',
        '  - id: mail-needs-ok',
        '    actions: [send_*]',
        '    effect: escalate',
        '    when: { provenance: [EXTERNAL_UNTRUSTED] }',
        '  - id: mail-ok',
        '    actions: [send_*]',
        '    effect: allow',
        'tenants:',
        '  t1:',
        '    rules:',
        '      - id: t1-reads-need-ok',
        '        actions: [read_file]',
        '        effect: escalate',
      ].join('\n'),
    });
    expect(escalating.mayEscalate('x', 'send_email')).toBe(true);
    expect(escalating.mayEscalate('x', 'read_file')).toBe(false);
    expect(escalating.mayEscalate('t1', 'read_file')).toBe(true);
    expect(escalating.mayEscalate('x', 'unknown')).toBe(false);
    expect(policy.mayEscalate('x', 'write_file')).toBe(false);
  });
});
