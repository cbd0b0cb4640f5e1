import type { ActionRequest, Decision, ProvenanceLabel } from '@ape/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compilePolicy } from './index.js';

const ACTIONS = ['a', 'b', 'c', 'x.y', 'x.z', 'x.y.z', 'read_file'] as const;
const PATTERNS = [...ACTIONS, '*', '**', 'x.*', 'x.**', '*_file'] as const;
const LABELS: readonly ProvenanceLabel[] = ['SYSTEM_TRUSTED', 'USER_TRUSTED', 'EXTERNAL_UNTRUSTED'];

interface RuleShape {
  actions: string[];
  effect: 'allow' | 'deny' | 'escalate';
  when?: { provenance: ProvenanceLabel[] };
}

const ruleShape = (effects: readonly RuleShape['effect'][] = ['allow', 'deny', 'escalate']) =>
  fc.record(
    {
      actions: fc.array(fc.constantFrom(...PATTERNS), { minLength: 1, maxLength: 3 }),
      effect: fc.constantFrom(...effects),
      when: fc.record({
        provenance: fc.uniqueArray(fc.constantFrom(...LABELS), { minLength: 1, maxLength: 3 }),
      }),
    },
    { requiredKeys: ['actions', 'effect'] },
  );

const withIds = (rules: readonly RuleShape[], prefix = 'r') =>
  rules.map((rule, index) => ({ id: `${prefix}${index}`, ...rule }));

const requestArbitrary = fc.record({
  action: fc.constantFrom(...ACTIONS),
  provenance: fc.constantFrom(...LABELS),
});

const toRequest = (
  value: { action: string; provenance: ProvenanceLabel },
  tenant = 'base',
): ActionRequest => ({
  tenant,
  action: value.action,
  args: {},
  provenance: value.provenance,
});

const RANK: Record<Decision, number> = { DENY: 0, ESCALATE: 1, ALLOW: 2 };

describe('policy invariants', () => {
  it('denies by default: without allow or escalate rules every decision is DENY', () => {
    fc.assert(
      fc.property(fc.array(ruleShape(['deny']), { maxLength: 6 }), requestArbitrary, (rules, request) => {
        expect(compilePolicy({ rules: withIds(rules) }).evaluate(toRequest(request)).decision).toBe('DENY');
      }),
    );
  });

  it('lets an unconditional deny beat everything', () => {
    fc.assert(
      fc.property(fc.array(ruleShape(), { maxLength: 6 }), requestArbitrary, (rules, request) => {
        const policy = compilePolicy({
          rules: [...withIds(rules), { id: 'deny-it', actions: [request.action], effect: 'deny' }],
        });
        const decision = policy.evaluate(toRequest(request));
        expect(decision.decision).toBe('DENY');
        expect(decision.rules).toContain('deny-it');
      }),
    );
  });

  it('does not depend on rule order or duplicated list entries', () => {
    fc.assert(
      fc.property(
        fc.array(ruleShape(), { maxLength: 6 }),
        fc.array(fc.constantFrom(...PATTERNS), { maxLength: 3 }),
        requestArbitrary,
        fc.integer(),
        (rules, allowed, request, seed) => {
          const identified = withIds(rules);
          const shuffled = [...identified].sort(
            (left, right) =>
              ((seed ^ left.id.length) % 3) - ((seed ^ right.id.length) % 3) || (right.id < left.id ? -1 : 1),
          );
          const first = compilePolicy({ rules: identified, escalation_required: allowed }).evaluate(
            toRequest(request),
          );
          const second = compilePolicy({
            rules: shuffled,
            escalation_required: [...allowed, ...allowed],
          }).evaluate(toRequest(request));
          expect(second.decision).toBe(first.decision);
          if (allowed.length === 0) expect(second.rules).toEqual(first.rules);
        },
      ),
    );
  });

  it('never turns a DENY by a deny rule into ALLOW when an allow is added', () => {
    fc.assert(
      fc.property(
        fc.array(ruleShape(), { maxLength: 6 }),
        ruleShape(['allow']),
        requestArbitrary,
        (rules, extra, request) => {
          const before = compilePolicy({ rules: withIds(rules) }).evaluate(toRequest(request));
          fc.pre(before.decision === 'DENY' && before.rules[0] !== 'default');
          const after = compilePolicy({ rules: [...withIds(rules), { id: 'added', ...extra }] }).evaluate(
            toRequest(request),
          );
          expect(after.decision).toBe('DENY');
        },
      ),
    );
  });

  it('never turns anything into ALLOW (or widens it) when a deny is added', () => {
    fc.assert(
      fc.property(
        fc.array(ruleShape(), { maxLength: 6 }),
        ruleShape(['deny']),
        requestArbitrary,
        (rules, extra, request) => {
          const before = compilePolicy({ rules: withIds(rules) }).evaluate(toRequest(request));
          const after = compilePolicy({ rules: [...withIds(rules), { id: 'added', ...extra }] }).evaluate(
            toRequest(request),
          );
          expect([before.decision, 'DENY']).toContain(after.decision);
        },
      ),
    );
  });

  it('never lets a tenant overlay widen the base policy', () => {
    const overlay = fc.record(
      {
        allowed_actions: fc.array(fc.constantFrom(...PATTERNS), { maxLength: 3 }),
        forbidden_actions: fc.array(fc.constantFrom(...PATTERNS), { maxLength: 3 }),
        escalation_required: fc.array(fc.constantFrom(...PATTERNS), { maxLength: 3 }),
        rules: fc.array(ruleShape(['deny', 'escalate']), { maxLength: 4 }),
        limits: fc.array(
          fc.record({
            actions: fc.array(fc.constantFrom(...PATTERNS), { minLength: 1, maxLength: 2 }),
            max_calls: fc.nat(2),
          }),
          {
            maxLength: 2,
          },
        ),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(
        fc.array(ruleShape(), { maxLength: 6 }),
        overlay,
        requestArbitrary,
        (rules, tenant, request) => {
          // An entry both forbidden and escalation-required is a load error (LINT_CONFLICT).
          fc.pre(
            !(tenant.forbidden_actions ?? []).some((pattern) =>
              (tenant.escalation_required ?? []).includes(pattern),
            ),
          );
          const policy = compilePolicy({
            rules: withIds(rules),
            tenants: { t: { ...tenant, rules: withIds(tenant.rules ?? [], 't') } },
          });
          const base = policy.evaluate(toRequest(request));
          const narrowed = policy.evaluate(toRequest(request, 't'));
          expect(RANK[narrowed.decision]).toBeLessThanOrEqual(RANK[base.decision]);
          if (!policy.mayPermit('base', request.action))
            expect(policy.mayPermit('t', request.action)).toBe(false);
          // mayEscalate's false is final, for the base policy and for the overlay.
          if (!policy.mayEscalate('base', request.action)) expect(base.decision).not.toBe('ESCALATE');
          if (!policy.mayEscalate('t', request.action)) expect(narrowed.decision).not.toBe('ESCALATE');
        },
      ),
    );
  });

  it('never lets an intent widen the decision', () => {
    fc.assert(
      fc.property(
        fc.array(ruleShape(), { maxLength: 6 }),
        fc.array(fc.constantFrom(...ACTIONS), { maxLength: 4 }),
        fc.array(fc.constantFrom(...ACTIONS), { maxLength: 2 }),
        requestArbitrary,
        (rules, allowed, forbidden, request) => {
          const policy = compilePolicy({ rules: withIds(rules) });
          const base = policy.evaluate(toRequest(request));
          const narrowed = policy.evaluate({
            ...toRequest(request),
            intent: { allowed_actions: allowed, forbidden_actions: forbidden },
          });
          expect(RANK[narrowed.decision]).toBeLessThanOrEqual(RANK[base.decision]);
        },
      ),
    );
  });

  it('never throws from evaluate or simulate, whatever the request', () => {
    const policy = compilePolicy({
      allowed_actions: ['a'],
      rules: [
        {
          id: 'w',
          actions: ['b'],
          effect: 'allow',
          when: {
            args: {
              type: 'object',
              required: ['p'],
              properties: { p: { type: 'string', 'x-ape-path': { roots: ['/w'] } } },
            },
          },
        },
      ],
      limits: [{ actions: ['a'], max_calls: 2 }],
      tool_transitions: { a: ['b'] },
    });
    fc.assert(
      fc.property(
        fc.record({
          tenant: fc.anything(),
          action: fc.oneof(fc.constantFrom('a', 'b', 'c'), fc.anything()),
          args: fc.oneof(fc.record({ p: fc.anything() }), fc.anything()),
          provenance: fc.anything(),
          session: fc.oneof(
            fc.constant(undefined),
            fc.record({ id: fc.string(), previousAction: fc.anything(), calls: fc.anything() }),
          ),
          intent: fc.oneof(fc.constant(undefined), fc.anything()),
        }),
        (request) => {
          const decision = policy.evaluate(request as unknown as ActionRequest);
          expect(['ALLOW', 'DENY', 'ESCALATE']).toContain(decision.decision);
          expect(policy.simulate(request as unknown as ActionRequest).decision).toBe(decision.decision);
        },
      ),
    );
  });
});
