import type { ActionRequest, PolicyDecision, ProvenanceLabel } from '@ape/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compilePolicy } from './index.js';
import { MAX_KEYED_RULES, SettledDecisions } from './settled-decisions.js';

const decision = (reason: string): PolicyDecision =>
  Object.freeze({ decision: 'DENY', rules: Object.freeze(['r']), reason, policy: 'p' });

/** A memo with small bounds, and a counter of the decisions it had to settle. */
function memo(maxActions: number, maxOutcomes: number, maxDecisions = 1000) {
  const settled = new SettledDecisions<string>(maxActions, maxOutcomes, maxDecisions);
  let calls = 0;
  const ask = (action: string, rules: readonly string[], applied: number) =>
    settled.decision(action, rules, applied, () => {
      calls += 1;
      return decision(`${action}:${applied}:${calls}`);
    });
  return { settled, ask, calls: () => calls };
}

describe('SettledDecisions', () => {
  it('answers an equal key with the decision it settled first, without settling again', () => {
    const { settled, ask, calls } = memo(4, 4);
    const rules = Object.freeze(['r0', 'r1']);
    const first = ask('a', rules, 0b01);
    expect(ask('a', rules, 0b01)).toBe(first);
    expect(calls()).toBe(1);
    expect(ask('a', rules, 0b10)).not.toBe(first);
    expect(ask('b', rules, 0b01)).not.toBe(first);
    expect(calls()).toBe(3);
    expect(settled.outcomesOf('a')).toBe(2);
    expect(settled.outcomesOf('never-asked')).toBe(0);
  });

  it('keeps exactly maxActions actions; a later action is settled on every call', () => {
    const { settled, ask, calls } = memo(2, 4);
    const rules = Object.freeze(['r0']);
    ask('a', rules, 1);
    ask('b', rules, 1);
    expect(settled.actions).toBe(2);
    const third = ask('c', rules, 1);
    const again = ask('c', rules, 1);
    expect(again).not.toBe(third);
    expect(again.reason).toBe('c:1:4');
    expect(settled.actions).toBe(2);
    expect(calls()).toBe(4);
  });

  it('keeps exactly maxOutcomes outcomes per action; a later outcome is settled on every call', () => {
    const { settled, ask, calls } = memo(4, 2);
    const rules = Object.freeze(['r0', 'r1']);
    ask('a', rules, 0);
    ask('a', rules, 1);
    expect(settled.outcomesOf('a')).toBe(2);
    expect(ask('a', rules, 2)).not.toBe(ask('a', rules, 2));
    expect(settled.outcomesOf('a')).toBe(2);
    expect(ask('a', rules, 1).reason).toBe('a:1:2');
    expect(calls()).toBe(4);
  });

  it('keeps exactly maxDecisions decisions in all, across actions; later ones are settled on every call', () => {
    const { settled, ask, calls } = memo(4, 4, 3);
    const rules = Object.freeze(['r0', 'r1']);
    ask('a', rules, 0);
    ask('a', rules, 1);
    ask('b', rules, 0);
    expect(settled.decisions).toBe(3);
    expect(ask('b', rules, 1)).not.toBe(ask('b', rules, 1));
    expect(ask('c', rules, 0)).not.toBe(ask('c', rules, 0));
    expect(settled.decisions).toBe(3);
    expect(settled.actions).toBe(2);
    expect(ask('a', rules, 1).reason).toBe('a:1:2');
    expect(calls()).toBe(7);
  });

  it('never answers from an entry made for another list of rules, and keeps the first list', () => {
    const { settled, ask, calls } = memo(4, 4);
    const first = Object.freeze(['r0']);
    const other = Object.freeze(['r0']);
    const kept = ask('a', first, 1);
    const fromOther = ask('a', other, 1);
    expect(fromOther).not.toBe(kept);
    expect(ask('a', other, 1)).not.toBe(fromOther);
    expect(ask('a', first, 1)).toBe(kept);
    expect(settled.outcomesOf('a')).toBe(1);
    expect(calls()).toBe(3);
  });
});

const LABELS: readonly ProvenanceLabel[] = ['SYSTEM_TRUSTED', 'USER_TRUSTED', 'EXTERNAL_UNTRUSTED'];
const ACTIONS = ['send_email', 'read_file', 'x.y', 'other'] as const;

/** Rules whose outcome depends on the call: provenance, an argument schema, or both. */
const ruleArbitrary = fc.record(
  {
    actions: fc.uniqueArray(fc.constantFrom('send_email', 'read_file', 'x.*', '*', '**'), {
      minLength: 1,
      maxLength: 2,
    }),
    effect: fc.constantFrom('allow', 'deny', 'escalate'),
    provenance: fc.uniqueArray(fc.constantFrom(...LABELS), { minLength: 1, maxLength: 2 }),
    toLabels: fc.uniqueArray(fc.constantFrom(...LABELS), { minLength: 1, maxLength: 2 }),
    toPattern: fc.constantFrom('^a', '@example\\.com$', 'b'),
    reason: fc.constantFrom('Because.', 'because'),
  },
  { requiredKeys: ['actions', 'effect'] },
);

type RuleShape = typeof ruleArbitrary extends fc.Arbitrary<infer T> ? T : never;

function ruleOf(shape: RuleShape, index: number) {
  const to: Record<string, unknown> = { type: 'string' };
  if (shape.toLabels !== undefined) to['x-ape-provenance'] = shape.toLabels;
  if (shape.toPattern !== undefined) to['pattern'] = shape.toPattern;
  const when: Record<string, unknown> = {};
  if (shape.provenance !== undefined) when['provenance'] = shape.provenance;
  if (shape.toLabels !== undefined || shape.toPattern !== undefined) {
    when['args'] = { type: 'object', properties: { to: to } };
  }
  return {
    id: `r${index}`,
    actions: shape.actions,
    effect: shape.effect,
    ...(Object.keys(when).length === 0 ? {} : { when }),
    ...(shape.reason === undefined ? {} : { reason: shape.reason }),
  };
}

const requestArbitrary = fc.record({
  action: fc.constantFrom(...ACTIONS),
  to: fc.constantFrom('a@example.com', 'b@example.org', 'ab'),
  toLabel: fc.constantFrom(...LABELS),
  provenance: fc.constantFrom(...LABELS),
});

type RequestShape = typeof requestArbitrary extends fc.Arbitrary<infer T> ? T : never;

function toRequest(value: RequestShape): ActionRequest {
  return {
    tenant: 'base',
    action: value.action,
    args: { to: value.to, subject: 's' },
    provenance: value.provenance,
    argLabels: Object.freeze({ '/to': value.toLabel, '/subject': 'USER_TRUSTED' }),
  };
}

describe('decisions kept by outcome', () => {
  it('equal the decisions worked out anew (simulate), whatever was evaluated before', () => {
    fc.assert(
      fc.property(
        fc.array(ruleArbitrary, { minLength: 1, maxLength: 6 }),
        fc.boolean(),
        fc.array(requestArbitrary, { minLength: 1, maxLength: 12 }),
        (shapes, withEscalation, requests) => {
          const policy = compilePolicy({
            rules: shapes.map(ruleOf),
            ...(withEscalation ? { escalation_required: ['read_file'] } : {}),
          });
          // Twice over, so the second pass answers from what the first kept.
          for (const request of [...requests, ...requests]) {
            const evaluated = policy.evaluate(toRequest(request));
            const { trace: _trace, tenant: _tenant, ...worked } = policy.simulate(toRequest(request));
            expect(evaluated).toEqual(worked);
            expect(Object.isFrozen(evaluated)).toBe(true);
            expect(Object.isFrozen(evaluated.rules)).toBe(true);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('answers an action matched by more than MAX_KEYED_RULES rules anew on every call, alike', () => {
    const rules = Array.from({ length: MAX_KEYED_RULES + 1 }, (_, index) => ({
      id: `r${index}`,
      actions: ['send_email'],
      effect: 'allow' as const,
      when: { provenance: [index % 2 === 0 ? 'USER_TRUSTED' : 'SYSTEM_TRUSTED'] as ProvenanceLabel[] },
    }));
    const policy = compilePolicy({ rules });
    const request: ActionRequest = {
      tenant: 'base',
      action: 'send_email',
      args: {},
      provenance: 'USER_TRUSTED',
    };
    const first = policy.evaluate(request);
    const second = policy.evaluate(request);
    expect(second).toEqual(first);
    expect(second).not.toBe(first);
    const applying = rules.filter((_, index) => index % 2 === 0).map((rule) => rule.id);
    expect([...first.rules].sort()).toEqual(applying.sort());
  });

  it('keeps one decision per outcome of a conditional action', () => {
    const policy = compilePolicy({
      rules: [
        {
          id: 'mail-to-user-recipients',
          actions: ['send_email'],
          effect: 'allow',
          when: {
            args: {
              type: 'object',
              properties: { to: { type: 'string', 'x-ape-provenance': ['USER_TRUSTED'] } },
            },
          },
        },
      ],
    });
    const mail = (label: ProvenanceLabel): ActionRequest => ({
      tenant: 'base',
      action: 'send_email',
      args: { to: 'a@example.com' },
      provenance: 'USER_TRUSTED',
      argLabels: Object.freeze({ '/to': label }),
    });
    const allowed = policy.evaluate(mail('USER_TRUSTED'));
    const denied = policy.evaluate(mail('EXTERNAL_UNTRUSTED'));
    expect(allowed.decision).toBe('ALLOW');
    expect(denied.decision).toBe('DENY');
    expect(denied.reason).toBe(
      'No rule allows "send_email" for this call (conditions of mail-to-user-recipients not met); denied by default.',
    );
    expect(policy.evaluate(mail('USER_TRUSTED'))).toBe(allowed);
    expect(policy.evaluate(mail('EXTERNAL_UNTRUSTED'))).toBe(denied);
  });
});
