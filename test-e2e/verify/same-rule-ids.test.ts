import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PROVENANCE_LABELS } from '@ape/core';
import { compilePolicy } from '@ape/policy';
import { exportPolicyModel, loadVerifiablePolicy, verifiablePolicyFromDocument } from '@ape/verify';
import type { VerifiablePolicy } from '@ape/verify';
import { describe, expect, it } from 'vitest';
import { GOLDEN_POLICIES } from '../../packages/policy/src/__fixtures__/golden-policies.js';
import { root } from '../cli/run-ape.js';

const policiesDirectory = join(root, 'policies');
const shipped = readdirSync(policiesDirectory).filter(
  (file) => file.endsWith('.yaml') && !file.endsWith('.test.yaml'),
);

/** Every (policy, how it was loaded) pair: the shipped files and the golden table's documents. */
const cases: [string, () => VerifiablePolicy][] = [
  ...shipped.map((file): [string, () => VerifiablePolicy] => [
    `policies/${file}`,
    () => loadVerifiablePolicy(join(policiesDirectory, file)),
  ]),
  ...Object.entries(GOLDEN_POLICIES).map(([name, document]): [string, () => VerifiablePolicy] => [
    `golden ${name}`,
    () => verifiablePolicyFromDocument(document, { defaultName: name }),
  ]),
];

describe('verify and the evaluator see the same rules', () => {
  it('covers every shipped policy and every golden policy', () => {
    expect(shipped.length).toBeGreaterThanOrEqual(6);
    expect(Object.keys(GOLDEN_POLICIES).length).toBeGreaterThanOrEqual(6);
  });

  it.each(cases)('%s: the same rule, limit and transition ids, tenant by tenant', (_name, load) => {
    const verifiable = load();
    const model = exportPolicyModel(verifiable);
    const evaluatorIds = verifiable.policy
      .explain()
      .filter((row) => row.effect !== 'tenant_filter')
      .map((row) => `${row.tenant ?? ''} ${row.rule}`);
    const verifyIds = [
      ...model.rules.map((rule) => `${rule.tenant ?? ''} ${rule.id}`),
      ...model.limits.map((limit) => `${limit.tenant ?? ''} ${limit.id}`),
      ...model.transitions.map((transition) => `${transition.tenant ?? ''} ${transition.id}`),
    ];
    expect(new Set(verifyIds)).toEqual(new Set(evaluatorIds));
    expect(verifyIds).toHaveLength(new Set(verifyIds).size);
    const filtered = verifiable.policy
      .explain()
      .filter((row) => row.effect === 'tenant_filter')
      .map((row) => row.tenant);
    expect(
      model.tenants
        .filter((tenant) => tenant.allowedActions !== null)
        .map((tenant) => tenant.id)
        .sort(),
    ).toEqual([...filtered].sort());
    expect(model.tenants.map((tenant) => tenant.id)).toEqual([...verifiable.policy.tenants]);
  });

  it.each(cases)('%s: every id a decision names is a rule of the verification model', (_name, load) => {
    const verifiable = load();
    const model = exportPolicyModel(verifiable);
    const known = new Set([
      ...model.rules.map((rule) => rule.id),
      ...model.limits.map((limit) => limit.id),
      ...model.transitions.map((transition) => transition.id),
      ...model.tenants.map((tenant) => `tenants.${tenant.id}.allowed_actions`),
      'default',
    ]);
    const tenants = ['default', ...verifiable.policy.tenants];
    for (const tenant of tenants) {
      for (const action of [...model.ACTIONS, model.OTHER]) {
        for (const provenance of PROVENANCE_LABELS) {
          const decision = verifiable.policy.evaluate({
            tenant,
            action,
            args: {},
            provenance,
            session: { id: 's', previousAction: model.ACTIONS[0] ?? action, calls: { [action]: 1_000_000 } },
          });
          for (const id of decision.rules) expect(known, `${tenant} ${action} ${provenance}`).toContain(id);
        }
      }
    }
  });

  it('a golden policy compiled directly and through verify has one and the same model', () => {
    for (const [name, document] of Object.entries(GOLDEN_POLICIES)) {
      const direct = compilePolicy(document, { defaultName: name });
      const verifiable = verifiablePolicyFromDocument(document, { defaultName: name });
      expect(verifiable.definition).toEqual(direct.definition);
      expect(verifiable.definition.digest).toBe(direct.digest);
    }
  });
});
