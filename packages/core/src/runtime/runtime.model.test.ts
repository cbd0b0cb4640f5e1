import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ApeError } from '../errors.js';
import type { EscalationHandler } from '../ports/escalation-handler.js';
import type { RuntimeState } from '../state-machine.js';
import { createFakeAuthority, type FakeAuthority } from '../testing/fake-authority.js';
import { FakeClock } from '../testing/fake-clock.js';
import { createStubPolicy } from '../testing/stub-policy.js';
import type { Decision, ProvenanceLabel } from '../types.js';
import { type AgentRuntime, createRuntime } from './runtime.js';

/**
 * Model-based test: random sequences of runtime calls against a small model of what the intent, the
 * plan and the policy in force permit. Invariants checked after every command:
 * - a tool runs only for the plan's next step, for an action the model says is ALLOW, or ESCALATE
 *   with an approval; never otherwise (the tool spy's calls are compared one by one);
 * - the runtime's state equals the model's;
 * - the session's outstanding tokens equal the model's count, which every revocation trigger resets
 *   to zero; in particular no token outlives the session.
 */

const ACTIONS = ['alpha', 'beta', 'gamma', 'delta'] as const;
type Action = (typeof ACTIONS)[number];
type Role = 'allowed' | 'forbidden' | 'escalate' | 'absent';

interface Model {
  state: RuntimeState;
  allowed: Set<string>;
  forbidden: Set<string>;
  escalation: Set<string>;
  plan: readonly Action[] | undefined;
  nextStep: number;
  decisions: Record<string, Decision>;
  outstanding: number;
  toolCalls: number;
}

interface Real {
  runtime: AgentRuntime;
  authority: FakeAuthority;
  policyDecisions: { current: Record<string, Decision> };
  approval: { next: boolean };
  calls: string[];
}

const SESSION = 'model-session';

function intentFrom(roles: readonly Role[]) {
  const pick = (wanted: Role[]) => ACTIONS.filter((_, index) => wanted.includes(roles[index] ?? 'absent'));
  return {
    allowed_actions: pick(['allowed', 'escalate']),
    forbidden_actions: pick(['forbidden']),
    escalation_required: pick(['escalate']),
    scope: 'model-based test',
  };
}

function adoptIntent(model: Model, roles: readonly Role[]): void {
  const intent = intentFrom(roles);
  model.allowed = new Set(intent.allowed_actions);
  model.forbidden = new Set(intent.forbidden_actions);
  model.escalation = new Set(intent.escalation_required);
}

function expectedDecision(model: Model, action: string): Decision {
  if (model.forbidden.has(action) || !model.allowed.has(action)) return 'DENY';
  const decision = model.decisions[action] ?? 'DENY';
  return decision === 'ALLOW' && model.escalation.has(action) ? 'ESCALATE' : decision;
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    if (ApeError.isInstance(error)) return error.code;
    throw error;
  }
}

function checkInvariants(model: Model, real: Real): void {
  expect(real.runtime.state).toBe(model.state);
  expect(real.calls).toHaveLength(model.toolCalls);
  expect(real.authority.outstanding(SESSION)).toBe(model.outstanding);
  if (model.state === 'TERMINATED') expect(real.authority.outstanding(SESSION)).toBe(0);
}

const roleArbitrary = fc.array(
  fc.constantFrom<Role>('allowed', 'allowed', 'escalate', 'forbidden', 'absent'),
  {
    minLength: ACTIONS.length,
    maxLength: ACTIONS.length,
  },
);
const decisionsArbitrary = fc.record(
  Object.fromEntries(
    ACTIONS.map((action) => [action, fc.constantFrom<Decision>('ALLOW', 'ALLOW', 'ESCALATE', 'DENY')]),
  ),
) as fc.Arbitrary<Record<string, Decision>>;
/** The starting point of a sequence leans towards a usable session; the random commands do not. */
const initialRolesArbitrary = fc.array(
  fc.constantFrom<Role>('allowed', 'allowed', 'allowed', 'escalate', 'forbidden'),
  {
    minLength: ACTIONS.length,
    maxLength: ACTIONS.length,
  },
);
const initialDecisionsArbitrary = fc.record(
  Object.fromEntries(
    ACTIONS.map((action) => [
      action,
      fc.constantFrom<Decision>('ALLOW', 'ALLOW', 'ALLOW', 'ESCALATE', 'DENY'),
    ]),
  ),
) as fc.Arbitrary<Record<string, Decision>>;
const planArbitrary = fc.array(fc.constantFrom(...ACTIONS), { minLength: 1, maxLength: 3 });
const trustedArbitrary = fc.constantFrom<ProvenanceLabel>(
  'USER_TRUSTED',
  'SYSTEM_TRUSTED',
  'EXTERNAL_UNTRUSTED',
);

class SetIntent implements fc.AsyncCommand<Model, Real> {
  constructor(readonly roles: readonly Role[]) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const code = await codeOf(real.runtime.setIntent(intentFrom(this.roles), { provenance: 'USER_TRUSTED' }));
    if (model.state === 'INITIALIZED') {
      expect(code).toBeUndefined();
      adoptIntent(model, this.roles);
      model.state = 'INTENT_SET';
    } else {
      expect(code).toBe('RUNTIME_STATE');
    }
    checkInvariants(model, real);
  }
  toString = () => `setIntent(${this.roles.join(',')})`;
}

class UpdateIntent implements fc.AsyncCommand<Model, Real> {
  constructor(readonly roles: readonly Role[]) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const code = await codeOf(
      real.runtime.updateIntent(intentFrom(this.roles), { provenance: 'USER_TRUSTED' }),
    );
    if (['INTENT_SET', 'PLAN_APPROVED', 'EXECUTING'].includes(model.state)) {
      expect(code).toBeUndefined();
      adoptIntent(model, this.roles);
      Object.assign(model, { state: 'INTENT_SET', plan: undefined, nextStep: 0, outstanding: 0 });
    } else {
      expect(code).toBe('RUNTIME_STATE');
    }
    checkInvariants(model, real);
  }
  toString = () => `updateIntent(${this.roles.join(',')})`;
}

class SubmitPlan implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly actions: readonly Action[],
    readonly provenance: ProvenanceLabel,
  ) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const steps = this.actions.map((action, index) => ({ action_id: action, args: { n: index } }));
    const code = await codeOf(real.runtime.submitPlan({ steps }, { provenance: this.provenance }));
    if (this.provenance === 'EXTERNAL_UNTRUSTED') {
      expect(code).toBe('PROVENANCE');
    } else if (!['INTENT_SET', 'PLAN_APPROVED', 'EXECUTING'].includes(model.state)) {
      expect(code).toBe('RUNTIME_STATE');
    } else if (this.actions.some((action) => expectedDecision(model, action) === 'DENY')) {
      expect(code).toBe('PLAN_INVALID');
    } else {
      expect(code).toBeUndefined();
      Object.assign(model, { state: 'PLAN_APPROVED', plan: this.actions, nextStep: 0, outstanding: 0 });
    }
    checkInvariants(model, real);
  }
  toString = () => `submitPlan([${this.actions.join(',')}], ${this.provenance})`;
}

/** executeStep (runs the tool) or authorize (leaves a token outstanding) for step `index`. */
class Step implements fc.AsyncCommand<Model, Real> {
  #index = 0;
  /** `null` targets the model's next step, so that sequences get past step 0. */
  constructor(
    readonly target: number | null,
    readonly approve: boolean,
    readonly tamper: boolean,
    readonly authorizeOnly: boolean,
  ) {}
  check = () => true;
  get index(): number {
    return this.#index;
  }
  async run(model: Model, real: Real): Promise<void> {
    this.#index = this.target ?? model.nextStep;
    real.approval.next = this.approve;
    const args = { n: this.tamper ? this.index + 100 : this.index };
    const before = real.calls.length;
    const code = await codeOf(
      this.authorizeOnly
        ? real.runtime.authorize(this.index, { args, provenance: 'USER_TRUSTED' })
        : real.runtime.executeStep(this.index, (plain) => real.calls.push(String(plain['n'])), {
            args,
            provenance: 'USER_TRUSTED',
          }),
    );
    const plan = model.plan;
    const claimable =
      (model.state === 'PLAN_APPROVED' || model.state === 'EXECUTING') &&
      plan !== undefined &&
      this.index === model.nextStep &&
      this.index < plan.length;
    if (!claimable) {
      expect(code).toBe('RUNTIME_STATE');
    } else {
      model.state = 'EXECUTING';
      const action = plan[this.index]!;
      const decision = expectedDecision(model, action);
      if (this.tamper) {
        expect(code).toBe('ARGS_INVALID');
      } else if (decision === 'DENY') {
        expect(code).toBe('POLICY_DENY');
        model.outstanding = 0;
      } else if (decision === 'ESCALATE' && !this.approve) {
        expect(code).toBe('ESCALATION_DENIED');
        Object.assign(model, { state: 'TERMINATED', outstanding: 0 });
      } else if (this.authorizeOnly) {
        expect(code).toBeUndefined();
        // Authorising a step again voids its older token (issue 16, item 9): one stays outstanding.
        model.outstanding = 1;
      } else {
        expect(code).toBeUndefined();
        expect(real.calls.slice(before)).toEqual([String(this.index)]);
        model.toolCalls++;
        model.nextStep++;
        // Running the step voids a token authorize left for it.
        model.outstanding = 0;
      }
    }
    if (code !== undefined) expect(real.calls.length).toBe(before);
    checkInvariants(model, real);
  }
  toString = () =>
    `${this.authorizeOnly ? 'authorize' : 'executeStep'}(${this.target ?? 'next'}${this.tamper ? ', tampered' : ''}${this.approve ? ', approve' : ''})`;
}

class ReloadPolicy implements fc.AsyncCommand<Model, Real> {
  constructor(readonly decisions: Record<string, Decision>) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const code = await codeOf(
      real.runtime.reloadPolicy(createStubPolicy({ decide: (r) => this.decisions[r.action] ?? 'DENY' })),
    );
    if (model.state === 'TERMINATED') {
      expect(code).toBe('RUNTIME_STATE');
    } else {
      expect(code).toBeUndefined();
      model.decisions = this.decisions;
      model.outstanding = 0;
    }
    checkInvariants(model, real);
  }
  toString = () => `reloadPolicy(${JSON.stringify(this.decisions)})`;
}

class Terminate implements fc.AsyncCommand<Model, Real> {
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    expect(await codeOf(real.runtime.terminate())).toBeUndefined();
    Object.assign(model, { state: 'TERMINATED', outstanding: 0 });
    checkInvariants(model, real);
  }
  toString = () => 'terminate()';
}

const targetArbitrary = fc.option(fc.nat({ max: 3 }), { freq: 2 });
const executeArbitrary = fc
  .tuple(targetArbitrary, fc.boolean())
  .map(([index, approve]) => new Step(index, approve, false, false));

const authorizeArbitrary = fc
  .tuple(targetArbitrary, fc.boolean())
  .map(([index, approve]) => new Step(index, approve, false, true));

// executeStep appears three times so that sequences spend most of their length at the gate.
const commands = [
  executeArbitrary,
  executeArbitrary,
  authorizeArbitrary,
  authorizeArbitrary,
  roleArbitrary.map((roles) => new SetIntent(roles)),
  roleArbitrary.map((roles) => new UpdateIntent(roles)),
  fc
    .tuple(planArbitrary, trustedArbitrary)
    .map(([actions, provenance]) => new SubmitPlan(actions, provenance)),
  fc
    .tuple(targetArbitrary, fc.boolean(), fc.boolean(), fc.boolean())
    .map(([index, approve, tamper, authorizeOnly]) => new Step(index, approve, tamper, authorizeOnly)),
  executeArbitrary,
  decisionsArbitrary.map((decisions) => new ReloadPolicy(decisions)),
  fc.constant(new Terminate()),
];

describe('runtime model-based property', () => {
  it('runs tools only as intent, plan and policy permit, and no token outlives its session', async () => {
    await fc.assert(
      fc.asyncProperty(
        initialDecisionsArbitrary,
        initialRolesArbitrary,
        planArbitrary,
        fc.commands(commands, { maxCommands: 40, size: 'large' }),
        async (decisions, roles, plan, sequence) => {
          const clock = new FakeClock();
          const authority = createFakeAuthority({ tenant: 'acme', clock });
          const approval = { next: false };
          const escalation: EscalationHandler = {
            requestApproval: async () => ({
              approved: approval.next,
              approver: 'model',
              provenance: 'USER_TRUSTED',
            }),
          };
          const policyDecisions = { current: decisions };
          const runtime = createRuntime({
            tenant: 'acme',
            sessionId: SESSION,
            policy: createStubPolicy({
              decide: (request) => policyDecisions.current[request.action] ?? 'DENY',
            }),
            authority,
            escalation,
            clock,
          });
          const model: Model = {
            state: 'INITIALIZED',
            allowed: new Set(),
            forbidden: new Set(),
            escalation: new Set(),
            plan: undefined,
            nextStep: 0,
            decisions,
            outstanding: 0,
            toolCalls: 0,
          };
          const real: Real = { runtime, authority, policyDecisions, approval, calls: [] };
          // Every sequence starts from a session with an intent and (usually) a plan, so the random
          // commands spend their budget on the gate rather than on reaching it.
          await new SetIntent(roles).run(model, real);
          await new SubmitPlan(plan, 'USER_TRUSTED').run(model, real);
          await fc.asyncModelRun(() => ({ model, real }), sequence);
          await runtime.terminate();
          expect(authority.outstanding(SESSION)).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });
});
