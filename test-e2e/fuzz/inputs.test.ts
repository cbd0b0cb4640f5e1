import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApeError, type ActionRequest, createIntent, createPlan, validateIntent } from '@ape/core';
import { type CompiledPolicy, compilePolicy, loadPolicy, validatePolicy } from '@ape/policy';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { actionRequest, intent, plan, policyDocument, runs, seed, yamlishText } from './arbitraries.js';

const POLICIES = join(import.meta.dirname, '..', '..', 'policies');
const SHIPPED: readonly CompiledPolicy[] = [
  'example_policy',
  'human_in_loop',
  'multi_tenant',
  'read_only',
  'untrusted_web',
  'workspace_files',
].map((name) => loadPolicy(join(POLICIES, `${name}.yaml`)));

/** Calls `run`; anything thrown must be an ApeError whose code is one of `codes`. */
function onlyTyped(run: () => unknown, codes: readonly string[]): void {
  try {
    run();
  } catch (error) {
    if (!ApeError.isInstance(error)) throw new Error(`an untyped error escaped: ${String(error)}`);
    expect(codes).toContain(error.code);
  }
}

describe('properties of every input', () => {
  it('evaluate and simulate never throw, and answer a well-formed decision, for any request', () => {
    fc.assert(
      fc.property(fc.nat(SHIPPED.length - 1), actionRequest, (index, request) => {
        const policy = SHIPPED[index]!;
        const decision = policy.evaluate(request as ActionRequest);
        expect(['ALLOW', 'DENY', 'ESCALATE']).toContain(decision.decision);
        expect(Array.isArray(decision.rules)).toBe(true);
        expect(decision.policy).toBe(policy.digest);
        if (decision.code !== undefined) expect(decision.decision).toBe('DENY');
        expect(policy.simulate(request as ActionRequest).decision).toBe(decision.decision);
      }),
      { numRuns: runs(10_000), seed: seed() },
    );
  });

  it('an untrusted request is never more permitted than the same request trusted (provenance only narrows)', () => {
    const rank = { DENY: 0, ESCALATE: 1, ALLOW: 2 } as const;
    fc.assert(
      fc.property(fc.nat(SHIPPED.length - 1), actionRequest, (index, request) => {
        if (typeof request !== 'object' || request === null) return;
        const policy = SHIPPED[index]!;
        const trusted = policy.evaluate({ ...(request as ActionRequest), provenance: 'USER_TRUSTED' });
        const untrusted = policy.evaluate({
          ...(request as ActionRequest),
          provenance: 'EXTERNAL_UNTRUSTED',
        });
        expect(rank[untrusted.decision]).toBeLessThanOrEqual(rank[trusted.decision]);
      }),
      { numRuns: runs(10_000), seed: seed() },
    );
  });

  it('createIntent and createPlan throw only IntentError and PlanError, agree with validateIntent, and versions ignore key order', () => {
    fc.assert(
      fc.property(intent, plan, (intentInput, planInput) => {
        onlyTyped(() => createIntent(intentInput), ['INTENT_INVALID']);
        const validated = validateIntent(intentInput);
        // validateIntent and createIntent give the same verdict on the same input.
        let created = true;
        try {
          createIntent(intentInput);
        } catch {
          created = false;
        }
        expect(created).toBe(validated.ok);
        onlyTyped(() => createPlan(planInput, validated.ok ? validated.value : undefined), ['PLAN_INVALID']);
        if (validated.ok && typeof intentInput === 'object' && intentInput !== null) {
          const reversed = Object.fromEntries(Object.entries(intentInput).reverse());
          expect(createIntent(reversed).version).toBe(validated.value.version);
        }
      }),
      { numRuns: runs(10_000), seed: seed() },
    );
  });

  it('loading any text: validatePolicy never throws and agrees with loadPolicy, which throws only PolicyError; no prototype is polluted', () => {
    const prototypes = [Object.prototype, Array.prototype, Function.prototype] as const;
    const before = prototypes.map((prototype) => Object.getOwnPropertyNames(prototype).sort());
    const toStringBefore = Object.prototype.toString;
    let payloads = 0;
    fc.assert(
      fc.property(yamlishText, fc.constantFrom('yaml' as const, 'json' as const), (text, format) => {
        if (text.includes('polluted')) payloads++;
        const result = validatePolicy({ text, format, filename: 'fuzz.yaml' });
        expect(typeof result.ok).toBe('boolean');
        for (const finding of result.findings) expect(finding.code).toMatch(/^[A-Z_]+$/);
        expect(result.findings.some((finding) => finding.code === 'INTERNAL')).toBe(false);
        expect(result.ok).toBe(!result.findings.some((finding) => finding.severity === 'error'));
        onlyTyped(() => loadPolicy({ text, format }), ['POLICY_INVALID']);
        let digest: string | undefined;
        try {
          digest = loadPolicy({ text, format, filename: 'fuzz.yaml' }).digest;
        } catch {
          digest = undefined;
        }
        // loadPolicy loads exactly what validatePolicy accepts, to the same policy.
        expect(digest).toBe(result.policy?.digest);
        expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
      }),
      { numRuns: runs(10_000), seed: seed() },
    );
    expect(payloads).toBeGreaterThan(0);
    expect(prototypes.map((prototype) => Object.getOwnPropertyNames(prototype).sort())).toEqual(before);
    expect(Object.prototype.toString).toBe(toStringBefore);
  });

  it('compilePolicy of any document throws only PolicyError, and a compiled policy evaluates any request', () => {
    fc.assert(
      fc.property(policyDocument, actionRequest, (document, request) => {
        let policy: CompiledPolicy | undefined;
        onlyTyped(() => {
          policy = compilePolicy(document);
        }, ['POLICY_INVALID']);
        if (policy !== undefined) {
          const decision = policy.evaluate(request as ActionRequest);
          expect(['ALLOW', 'DENY', 'ESCALATE']).toContain(decision.decision);
          expect(policy.simulate(request as ActionRequest).decision).toBe(decision.decision);
          // Default deny: an action the document never names is denied by the default rule.
          const unnamed = {
            tenant: 'acme',
            action: 'never_named_by_fuzz',
            args: {},
            provenance: 'SYSTEM_TRUSTED',
          };
          if (!JSON.stringify(document).includes('*')) {
            expect(policy.evaluate(unnamed as ActionRequest)).toMatchObject({
              decision: 'DENY',
              rules: ['default'],
            });
          }
        }
      }),
      { numRuns: runs(300, 0.03), seed: seed() },
    );
  });
});

describe('the shipped policies are read from the repository', () => {
  it('are the files the CLI embeds', () => {
    expect(readFileSync(join(POLICIES, 'untrusted_web.yaml'), 'utf8')).toContain(
      'untrusted-data-must-not-leave',
    );
  });
});
