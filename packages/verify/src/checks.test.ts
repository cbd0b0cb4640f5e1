import type { Decision } from '@ape/core';
import { describe, expect, it } from 'vitest';
import { type PolicyAssertions, parseAssertions } from './assertions.js';
import { type CheckResult, verifyPolicy } from './checks.js';
import { verifiablePolicyFromDocument } from './load.js';
import { createPolicyModel, type ModelRule } from './model.js';

type Document = Record<string, unknown>;

async function check(document: Document, id: string, assertions?: unknown): Promise<CheckResult> {
  const policy = verifiablePolicyFromDocument({ version: 1, name: 'test', ...document });
  const options =
    assertions === undefined ? { maxSamples: 2 } : { maxSamples: 2, assertions: parseAssertions(assertions) };
  const report = await verifyPolicy(policy, options as { maxSamples: number; assertions?: PolicyAssertions });
  const result = report.checks.find((entry) => entry.id === id);
  if (result === undefined)
    throw new Error(`no check ${id} in ${report.checks.map((entry) => entry.id).join(', ')}`);
  return result;
}

function expectCounterexample(
  result: CheckResult,
  action: string | RegExp,
  decision: Decision,
): NonNullable<CheckResult['counterexample']> {
  expect(result.status).toBe('fail');
  const example = result.counterexample!;
  expect(example.confirmed).toBe(true);
  if (typeof action === 'string') expect(example.request.action).toBe(action);
  else expect(example.request.action).toMatch(action);
  expect(example.decision).toBe(decision);
  return example;
}

interface Pair {
  readonly name: string;
  readonly id: string;
  readonly correct: Document;
  readonly broken: Document;
  readonly assertions?: unknown;
  /** Checks the broken policy's result (status and counterexample). */
  readonly expectBroken: (result: CheckResult) => void;
}

const PAIRS: readonly Pair[] = [
  {
    name: 'token invariant: an allow glob grants an action nobody named',
    id: 'token-invariant',
    correct: { allowed_actions: ['fs.read', 'fs.list'] },
    broken: { allowed_actions: ['fs.read', 'fs.*'] },
    expectBroken: (result) => {
      const example = expectCounterexample(result, /^fs\.[^.]*$/, 'ALLOW');
      expect(['fs.read', 'fs.list']).not.toContain(example.request.action);
    },
  },
  {
    name: 'token invariant: an escalate glob reaches actions outside the catalogue',
    id: 'token-invariant',
    correct: {
      actions: ['deploy.staging', 'deploy.production'],
      escalation_required: ['deploy.staging', 'deploy.production'],
    },
    broken: { actions: ['deploy.staging', 'deploy.production'], escalation_required: ['deploy.**'] },
    expectBroken: (result) => {
      const example = expectCounterexample(result, /^deploy\./, 'ESCALATE');
      expect(['deploy.staging', 'deploy.production']).not.toContain(example.request.action);
    },
  },
  {
    name: 'token invariant: a conditional allow rule with a glob',
    id: 'token-invariant',
    correct: {
      rules: [{ id: 'r', actions: ['http.get'], effect: 'allow', when: { provenance: ['USER_TRUSTED'] } }],
    },
    broken: {
      rules: [{ id: 'r', actions: ['http.*'], effect: 'allow', when: { provenance: ['USER_TRUSTED'] } }],
    },
    expectBroken: (result) => {
      const example = expectCounterexample(result, /^http\./, 'ALLOW');
      expect(example.request.provenance).toBe('USER_TRUSTED');
    },
  },
  {
    name: 'always_deny: an action moved to escalation_required',
    id: 'assert.always_deny[0]',
    assertions: { always_deny: ['delete_file'] },
    correct: { allowed_actions: ['read_file'], forbidden_actions: ['delete_file'] },
    broken: { allowed_actions: ['read_file'], escalation_required: ['delete_file'] },
    expectBroken: (result) => {
      expectCounterexample(result, 'delete_file', 'ESCALATE');
    },
  },
  {
    name: 'always_deny: a glob assertion against an allowed member',
    id: 'assert.always_deny[0]',
    assertions: { always_deny: ['admin.*'] },
    correct: { allowed_actions: ['user.read'], forbidden_actions: ['admin.*'] },
    broken: { allowed_actions: ['user.read', 'admin.read'] },
    expectBroken: (result) => {
      expectCounterexample(result, 'admin.read', 'ALLOW');
    },
  },
  {
    name: 'always_deny: a provenance-conditional allow',
    id: 'assert.always_deny[0]',
    assertions: { always_deny: ['delete_file'] },
    correct: {
      rules: [
        { id: 'r', actions: ['delete_file'], effect: 'deny', when: { provenance: ['SYSTEM_TRUSTED'] } },
      ],
    },
    broken: {
      rules: [
        { id: 'r', actions: ['delete_file'], effect: 'allow', when: { provenance: ['SYSTEM_TRUSTED'] } },
      ],
    },
    expectBroken: (result) => {
      expect(expectCounterexample(result, 'delete_file', 'ALLOW').request.provenance).toBe('SYSTEM_TRUSTED');
    },
  },
  {
    name: 'always_deny: an allow on one constant argument',
    id: 'assert.always_deny[0]',
    assertions: { always_deny: ['delete_file'] },
    correct: { forbidden_actions: ['delete_file'] },
    broken: {
      rules: [
        {
          id: 'r',
          actions: ['delete_file'],
          effect: 'allow',
          when: {
            args: { type: 'object', required: ['path'], properties: { path: { const: '/tmp/scratch' } } },
          },
        },
      ],
    },
    expectBroken: (result) => {
      expect(expectCounterexample(result, 'delete_file', 'ALLOW').request.args).toEqual({
        path: '/tmp/scratch',
      });
    },
  },
  {
    name: 'always_deny: an allow on an enum of environments',
    id: 'assert.always_deny[0]',
    assertions: { always_deny: ['deploy'] },
    correct: {
      rules: [
        {
          id: 'r',
          actions: ['deploy'],
          effect: 'deny',
          when: {
            args: { type: 'object', properties: { environment: { enum: ['staging', 'production'] } } },
          },
        },
      ],
    },
    broken: {
      rules: [
        {
          id: 'r',
          actions: ['deploy'],
          effect: 'allow',
          when: {
            args: {
              type: 'object',
              required: ['environment'],
              properties: { environment: { enum: ['staging', 'production'] } },
            },
          },
        },
      ],
    },
    expectBroken: (result) => {
      const example = expectCounterexample(result, 'deploy', 'ALLOW');
      expect(['staging', 'production']).toContain(example.request.args['environment']);
    },
  },
  {
    name: 'always_deny: the base allows what only one tenant forbids',
    id: 'assert.always_deny[0]',
    assertions: { always_deny: ['send_email'] },
    correct: { forbidden_actions: ['send_email'], tenants: { acme: { forbidden_actions: ['send_email'] } } },
    broken: { allowed_actions: ['send_email'], tenants: { acme: { forbidden_actions: ['send_email'] } } },
    expectBroken: (result) => {
      expect(expectCounterexample(result, 'send_email', 'ALLOW').request.tenant).not.toBe('acme');
    },
  },
  {
    name: 'always_deny: a string pattern lets some paths through',
    id: 'assert.always_deny[0]',
    assertions: { always_deny: ['write_file'] },
    correct: {
      rules: [
        {
          id: 'r',
          actions: ['write_file'],
          effect: 'allow',
          when: {
            args: {
              type: 'object',
              required: ['path'],
              properties: { path: { type: 'string', pattern: '^/tmp/[a-z]+$' } },
            },
          },
        },
        { id: 'no-writes', actions: ['write_file'], effect: 'deny' },
      ],
    },
    broken: {
      rules: [
        {
          id: 'r',
          actions: ['write_file'],
          effect: 'allow',
          when: {
            args: {
              type: 'object',
              required: ['path'],
              properties: { path: { type: 'string', pattern: '^/tmp/[a-z]+$' } },
            },
          },
        },
      ],
    },
    expectBroken: (result) => {
      expect(String(expectCounterexample(result, 'write_file', 'ALLOW').request.args['path'])).toMatch(
        /^\/tmp\/[a-z]+$/,
      );
    },
  },
  {
    name: 'always_deny: a zero budget denies every call, a budget of one does not',
    id: 'assert.always_deny[0]',
    assertions: { always_deny: ['search'] },
    correct: { allowed_actions: ['search'], limits: [{ actions: ['search'], max_calls: 0 }] },
    broken: { allowed_actions: ['search'], limits: [{ actions: ['search'], max_calls: 1 }] },
    expectBroken: (result) => {
      expectCounterexample(result, 'search', 'ALLOW');
    },
  },
  {
    name: 'always_deny: a zero budget with a window and a tenant scope still denies every call',
    id: 'assert.always_deny[0]',
    assertions: { always_deny: ['search'] },
    correct: {
      allowed_actions: ['search'],
      limits: [{ actions: ['search'], max_calls: 0, scope: 'tenant', window: '1d' }],
    },
    broken: {
      allowed_actions: ['search'],
      limits: [{ actions: ['search'], max_calls: 1, scope: 'lineage', window: '1h' }],
    },
    expectBroken: (result) => {
      expectCounterexample(result, 'search', 'ALLOW');
    },
  },
  {
    name: 'always_deny: a short-name allow bounded by maxLength',
    id: 'assert.always_deny[0]',
    assertions: { always_deny: ['create_user'] },
    correct: { forbidden_actions: ['create_user'] },
    broken: {
      rules: [
        {
          id: 'r',
          actions: ['create_user'],
          effect: 'allow',
          when: {
            args: {
              type: 'object',
              required: ['name'],
              properties: { name: { type: 'string', minLength: 2, maxLength: 3 } },
            },
          },
        },
      ],
    },
    expectBroken: (result) => {
      const name = expectCounterexample(result, 'create_user', 'ALLOW').request.args['name'];
      expect(typeof name).toBe('string');
      expect([...(name as string)].length).toBeGreaterThanOrEqual(2);
      expect([...(name as string)].length).toBeLessThanOrEqual(3);
    },
  },
  {
    name: 'never_allow_with: untrusted e-mail allowed outright',
    id: 'assert.never_allow_with[0]',
    assertions: { never_allow_with: [{ action: 'send_email', provenance: 'EXTERNAL_UNTRUSTED' }] },
    correct: {
      rules: [
        {
          id: 'trusted',
          actions: ['send_email'],
          effect: 'allow',
          when: { provenance: ['SYSTEM_TRUSTED', 'USER_TRUSTED'] },
        },
        {
          id: 'untrusted',
          actions: ['send_email'],
          effect: 'escalate',
          when: { provenance: ['EXTERNAL_UNTRUSTED'] },
        },
      ],
    },
    broken: { allowed_actions: ['send_email'] },
    expectBroken: (result) => {
      expect(expectCounterexample(result, 'send_email', 'ALLOW').request.provenance).toBe(
        'EXTERNAL_UNTRUSTED',
      );
    },
  },
  {
    name: 'never_allow_with: a list of labels and a glob',
    id: 'assert.never_allow_with[0]',
    assertions: {
      never_allow_with: [{ action: 'http.*', provenance: ['EXTERNAL_UNTRUSTED', 'USER_TRUSTED'] }],
    },
    correct: {
      rules: [
        {
          id: 'system-only',
          actions: ['http.post'],
          effect: 'allow',
          when: { provenance: ['SYSTEM_TRUSTED'] },
        },
      ],
    },
    broken: {
      rules: [
        {
          id: 'users-too',
          actions: ['http.post'],
          effect: 'allow',
          when: { provenance: ['SYSTEM_TRUSTED', 'USER_TRUSTED'] },
        },
      ],
    },
    expectBroken: (result) => {
      expect(expectCounterexample(result, 'http.post', 'ALLOW').request.provenance).toBe('USER_TRUSTED');
    },
  },
  {
    name: 'must_escalate: a deployment allowed without a human',
    id: 'assert.must_escalate[0]',
    assertions: { must_escalate: ['deploy_production'] },
    correct: { escalation_required: ['deploy_production'] },
    broken: { allowed_actions: ['deploy_production'] },
    expectBroken: (result) => {
      expectCounterexample(result, 'deploy_production', 'ALLOW');
    },
  },
  {
    name: 'must_escalate: small transfers allowed under a numeric maximum',
    id: 'assert.must_escalate[0]',
    assertions: { must_escalate: ['transfer'] },
    correct: { escalation_required: ['transfer'] },
    broken: {
      rules: [
        {
          id: 'small',
          actions: ['transfer'],
          effect: 'allow',
          when: {
            args: {
              type: 'object',
              required: ['amount'],
              properties: { amount: { type: 'number', maximum: 100 } },
            },
          },
        },
        {
          id: 'large',
          actions: ['transfer'],
          effect: 'escalate',
          when: {
            args: {
              type: 'object',
              required: ['amount'],
              properties: { amount: { type: 'number', exclusiveMinimum: 100 } },
            },
          },
        },
      ],
    },
    expectBroken: (result) => {
      const amount = expectCounterexample(result, 'transfer', 'ALLOW').request.args['amount'];
      expect(typeof amount).toBe('number');
      expect(amount as number).toBeLessThanOrEqual(100);
    },
  },
  {
    name: 'must_escalate: workspace writes allowed by an x-ape-path root',
    id: 'assert.must_escalate[0]',
    assertions: { must_escalate: ['write_file'] },
    correct: { escalation_required: ['write_file'] },
    broken: {
      rules: [
        {
          id: 'inside',
          actions: ['write_file'],
          effect: 'allow',
          when: {
            args: {
              type: 'object',
              required: ['path'],
              properties: { path: { type: 'string', 'x-ape-path': { roots: ['/workspace'] } } },
            },
          },
        },
      ],
    },
    expectBroken: (result) => {
      expect(String(expectCounterexample(result, 'write_file', 'ALLOW').request.args['path'])).toMatch(
        /^\/workspace(\/|$)/,
      );
    },
  },
  {
    name: 'must_escalate: mail allowed when the recipient is user-provided (x-ape-provenance), recipient required',
    id: 'assert.must_escalate[0]',
    assertions: { must_escalate: ['send_email'] },
    correct: { escalation_required: ['send_email'] },
    broken: {
      rules: [
        {
          id: 'mail-to-user-recipients',
          actions: ['send_email'],
          effect: 'allow',
          when: {
            args: {
              type: 'object',
              properties: { to: { type: 'string', 'x-ape-provenance': ['SYSTEM_TRUSTED', 'USER_TRUSTED'] } },
            },
          },
        },
      ],
    },
    expectBroken: (result) => {
      expect(typeof expectCounterexample(result, 'send_email', 'ALLOW').request.args['to']).toBe('string');
    },
  },
  {
    name: 'dead rule: an allow rule shadowed by a forbidden glob',
    id: 'dead-rule:write-tmp',
    correct: {
      forbidden_actions: ['admin.*'],
      rules: [
        { id: 'write-tmp', actions: ['fs.write'], effect: 'allow', when: { provenance: ['USER_TRUSTED'] } },
      ],
    },
    broken: {
      forbidden_actions: ['fs.*'],
      rules: [
        { id: 'write-tmp', actions: ['fs.write'], effect: 'allow', when: { provenance: ['USER_TRUSTED'] } },
      ],
    },
    expectBroken: (result) => {
      expect(result.status).toBe('warning');
      expect(result.message).toContain('write-tmp');
    },
  },
  {
    name: 'dead rule: a condition no value satisfies',
    id: 'dead-rule:odd',
    correct: {
      rules: [
        {
          id: 'odd',
          actions: ['run'],
          effect: 'allow',
          when: {
            args: { type: 'object', required: ['n'], properties: { n: { type: 'string', const: '5' } } },
          },
        },
      ],
    },
    broken: {
      rules: [
        {
          id: 'odd',
          actions: ['run'],
          effect: 'allow',
          when: {
            args: { type: 'object', required: ['n'], properties: { n: { type: 'string', const: 5 } } },
          },
        },
      ],
    },
    expectBroken: (result) => {
      expect(result.status).toBe('warning');
    },
  },
  {
    name: 'dead rule: an escalation covered by provenance-conditional denies',
    id: 'dead-rule:review',
    correct: {
      rules: [
        { id: 'review', actions: ['publish'], effect: 'escalate' },
        {
          id: 'no-untrusted',
          actions: ['publish'],
          effect: 'deny',
          when: { provenance: ['EXTERNAL_UNTRUSTED'] },
        },
      ],
    },
    broken: {
      rules: [
        { id: 'review', actions: ['publish'], effect: 'escalate' },
        {
          id: 'no-untrusted',
          actions: ['publish'],
          effect: 'deny',
          when: { provenance: ['EXTERNAL_UNTRUSTED'] },
        },
        {
          id: 'no-trusted',
          actions: ['publish'],
          effect: 'deny',
          when: { provenance: ['SYSTEM_TRUSTED', 'USER_TRUSTED'] },
        },
      ],
    },
    expectBroken: (result) => {
      expect(result.status).toBe('warning');
    },
  },
];

describe('verifyPolicy: each check passes on a correct policy and fails with a correct counterexample on a broken one', () => {
  for (const pair of PAIRS) {
    it(pair.name, async () => {
      const correct = await check(pair.correct, pair.id, pair.assertions);
      expect(correct.status, correct.message).toBe('pass');
      pair.expectBroken(await check(pair.broken, pair.id, pair.assertions));
    });
  }
});

function tenantModel(tenantRules: readonly ModelRule[]) {
  return createPolicyModel({
    name: 'model',
    digest: 'model',
    rules: [
      { id: 'read', tenant: null, effect: 'allow', actions: ['read'], provenance: null, args: null },
      { id: 'no-delete', tenant: null, effect: 'deny', actions: ['delete'], provenance: null, args: null },
      { id: 'review', tenant: null, effect: 'escalate', actions: ['deploy'], provenance: null, args: null },
      ...tenantRules,
    ],
    tenants: [{ id: 'acme', allowedActions: null }],
  });
}

describe('verifyPolicy: tenant overlays (checked on models, since @ape/policy rejects overlays that allow)', () => {
  it('passes when the overlay only adds denials and escalations, fails when it allows what the base denies', async () => {
    const correct = await verifyPolicy(
      tenantModel([
        {
          id: 'acme-review',
          tenant: 'acme',
          effect: 'escalate',
          actions: ['read'],
          provenance: null,
          args: null,
        },
      ]),
    );
    expect(correct.checks.find((entry) => entry.id === 'tenant-overlay:acme')?.status).toBe('pass');
    const broken = await verifyPolicy(
      tenantModel([
        {
          id: 'acme-delete',
          tenant: 'acme',
          effect: 'allow',
          actions: ['delete', 'wipe'],
          provenance: null,
          args: null,
        },
      ]),
    );
    const result = broken.checks.find((entry) => entry.id === 'tenant-overlay:acme')!;
    expect(result.status).toBe('fail');
    expect(result.counterexample?.request.tenant).toBe('acme');
    expect(result.counterexample?.request.action).toBe('wipe');
    expect(result.counterexample?.confirmed).toBeNull();
  });

  it("fails with the condition's label when the overlay allows an action the base leaves to default deny", async () => {
    const correct = await verifyPolicy(
      tenantModel([
        {
          id: 'acme-no-read',
          tenant: 'acme',
          effect: 'deny',
          actions: ['read'],
          provenance: ['EXTERNAL_UNTRUSTED'],
          args: null,
        },
      ]),
    );
    expect(correct.checks.find((entry) => entry.id === 'tenant-overlay:acme')?.status).toBe('pass');
    const broken = await verifyPolicy(
      tenantModel([
        {
          id: 'acme-export',
          tenant: 'acme',
          effect: 'allow',
          actions: ['export'],
          provenance: ['USER_TRUSTED'],
          args: null,
        },
      ]),
    );
    const result = broken.checks.find((entry) => entry.id === 'tenant-overlay:acme')!;
    expect(result.status).toBe('fail');
    expect(result.counterexample?.request).toMatchObject({
      tenant: 'acme',
      action: 'export',
      provenance: 'USER_TRUSTED',
    });
  });
});

describe('verifyPolicy: the encoding cross-check', () => {
  it('fails when the rule model read for the encoding is not the compiled policy', async () => {
    const compiled = verifiablePolicyFromDocument({ version: 1, allowed_actions: ['read_file'] });
    const other = verifiablePolicyFromDocument({ version: 1, forbidden_actions: ['read_file'] });
    const report = await verifyPolicy(
      { policy: compiled.policy, definition: other.definition },
      { maxSamples: 8 },
    );
    const result = report.checks.find((entry) => entry.id === 'encoding')!;
    expect(result.status).toBe('fail');
    expect(result.counterexample).toMatchObject({ decision: 'ALLOW', confirmed: true });
    expect(report.ok).toBe(false);
  });
});
