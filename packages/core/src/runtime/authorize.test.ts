import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { createLabeled } from '../labeled.js';
import { trustRank } from '../labels.js';
import { createFakeAuthority } from '../testing/fake-authority.js';
import { createStubPolicy } from '../testing/stub-policy.js';
import type { ActionRequest, AuthorityToken, Decision, ProvenanceLabel } from '../types.js';
import { createHoldingAuditSink, dataOf, INTENT, rejection, setup } from './__fixtures__/runtime-setup.js';
import { createRuntime } from './runtime.js';

const LABELS: readonly ProvenanceLabel[] = ['SYSTEM_TRUSTED', 'USER_TRUSTED', 'EXTERNAL_UNTRUSTED'];
const A0_INTENT = { allowed_actions: ['a0'], forbidden_actions: [], scope: 'authorize tests' };

/** Allows `a0` for SYSTEM_TRUSTED provenance, or for `path: /w/b` whatever its provenance (issue 16, item 9). */
function allowsA0(request: ActionRequest): Decision {
  return request.provenance === 'SYSTEM_TRUSTED' || request.args['path'] === '/w/b' ? 'ALLOW' : 'DENY';
}

async function a0Session(steps = 1) {
  const context = setup({ policy: { decide: allowsA0 } });
  await context.runtime.setIntent(A0_INTENT, { provenance: 'USER_TRUSTED' });
  await context.runtime.submitPlan(
    Array.from({ length: steps }, () => ({ action_id: 'a0' })),
    { provenance: 'USER_TRUSTED' },
  );
  return context;
}

describe('re-authorising a step (issue 16, item 9)', () => {
  it('voids the older token: it no longer opens the gate with the label it was authorised with nor a lower one', async () => {
    const context = await a0Session();
    const first = await context.runtime.authorize(0, {
      args: { path: '/w/a' },
      provenance: 'SYSTEM_TRUSTED',
    });
    const second = await context.runtime.authorize(0, {
      args: { path: '/w/b' },
      provenance: 'EXTERNAL_UNTRUSTED',
    });
    const downgraded = await rejection(
      context.runtime.gate.execute(first, context.tool, {
        index: 0,
        args: { path: createLabeled('/w/a', 'EXTERNAL_UNTRUSTED') },
      }),
    );
    expect(downgraded.code).toBe('UNAUTHORIZED_ACTION');
    const asAuthorised = await rejection(
      context.runtime.gate.execute(first, context.tool, {
        index: 0,
        args: { path: createLabeled('/w/a', 'SYSTEM_TRUSTED') },
      }),
    );
    expect(asAuthorised.code).toBe('UNAUTHORIZED_ACTION');
    expect(context.tool).not.toHaveBeenCalled();
    await context.runtime.gate.execute(second, context.tool, { index: 0, args: { path: '/w/b' } });
    expect(context.tool).toHaveBeenCalledTimes(1);
  });

  it('revokes the older token at the authority and records it as superseded', async () => {
    const context = await a0Session();
    const first = await context.runtime.authorize(0, {
      args: { path: '/w/a' },
      provenance: 'SYSTEM_TRUSTED',
    });
    await context.runtime.authorize(0, { args: { path: '/w/b' }, provenance: 'USER_TRUSTED' });
    expect(context.authority.outstanding()).toBe(1);
    expect(dataOf(context.audit.events, 'token.revoked')).toContainEqual({
      reason: 'explicit',
      count: 1,
      fingerprint: first.fingerprint,
      superseded: true,
    });
  });

  it('voids a token left by authorize when executeStep runs the step', async () => {
    const context = await a0Session(2);
    const left = await context.runtime.authorize(0, { args: { path: '/w/b' }, provenance: 'USER_TRUSTED' });
    await context.runtime.executeStep(0, context.tool, { args: { path: '/w/b' } });
    expect(context.authority.outstanding()).toBe(0);
    expect(
      (
        await rejection(
          context.runtime.gate.execute(left, context.tool, { index: 1, args: { path: '/w/b' } }),
        )
      ).code,
    ).toBe('UNAUTHORIZED_ACTION');
    expect(context.tool).toHaveBeenCalledTimes(1);
  });

  it('judges each token by the label of its own authorisation, never by a later one', async () => {
    const context = await a0Session();
    await context.runtime.authorize(0, { args: { path: '/w/b' }, provenance: 'EXTERNAL_UNTRUSTED' });
    const trusted = await context.runtime.authorize(0, {
      args: { path: '/w/b' },
      provenance: 'SYSTEM_TRUSTED',
    });
    const error = await rejection(
      context.runtime.gate.execute(trusted, context.tool, {
        index: 0,
        args: { path: createLabeled('/w/b', 'USER_TRUSTED') },
      }),
    );
    expect(error).toMatchObject({ code: 'UNAUTHORIZED_ACTION', details: { field: 'provenance' } });
    expect(context.tool).not.toHaveBeenCalled();
  });
});

describe('what the docs promise about authorize (issue 16, item 10)', () => {
  it('revokes every token of the session when authorize meets a DENY', async () => {
    const context = await a0Session();
    const allowed = await context.runtime.authorize(0, {
      args: { path: '/w/b' },
      provenance: 'USER_TRUSTED',
    });
    const denied = await rejection(
      context.runtime.authorize(0, { args: { path: '/w/a' }, provenance: 'USER_TRUSTED' }),
    );
    expect(denied.code).toBe('POLICY_DENY');
    expect(context.authority.outstanding()).toBe(0);
    expect(context.authority.revocations).toContainEqual({
      scope: 'session',
      reason: 'policy_violation',
      count: 1,
    });
    expect(
      (
        await rejection(
          context.runtime.gate.execute(allowed, context.tool, { index: 0, args: { path: '/w/b' } }),
        )
      ).code,
    ).toBe('UNAUTHORIZED_ACTION');
    expect(context.tool).not.toHaveBeenCalled();
  });

  for (const [declared, expected] of [
    [undefined, 'EXTERNAL_UNTRUSTED'],
    ['USER_TRUSTED', 'USER_TRUSTED'],
  ] as const) {
    it(`gives a call with empty args the declared provenance, or the default: ${String(declared)} → ${expected}`, async () => {
      const context = setup();
      await context.runtime.setIntent(INTENT, { provenance: 'USER_TRUSTED' });
      await context.runtime.submitPlan([{ action_id: 'write_file' }], { provenance: 'USER_TRUSTED' });
      await context.runtime.authorize(0, declared === undefined ? {} : { provenance: declared });
      expect(context.policy.requests[0]?.provenance).toBe(expected);
      expect(dataOf(context.audit.events, 'decision.made')[0]?.['provenance']).toBe(expected);
    });
  }
});

describe('the epoch re-check after the pending audit writes', () => {
  for (const [name, race] of [
    ['terminate', (runtime: ReturnType<typeof setup>['runtime']) => runtime.terminate()],
    [
      'reloadPolicy',
      (runtime: ReturnType<typeof setup>['runtime']) =>
        runtime.reloadPolicy(createStubPolicy({ decide: () => 'ALLOW' })),
    ],
  ] as const) {
    it(`does not run the tool when ${name} happens while the step waits for its records`, async () => {
      const holding = createHoldingAuditSink();
      const context = setup({ audit: holding.sink });
      await context.runtime.setIntent(INTENT, { provenance: 'USER_TRUSTED' });
      const read = { action_id: 'read_file', args: { path: '/a' } };
      await context.runtime.submitPlan([read, read], { provenance: 'USER_TRUSTED' });
      await context.runtime.executeStep(0, context.tool, { args: read.args, provenance: 'USER_TRUSTED' });
      holding.hold();
      const step = rejection(
        context.runtime.executeStep(1, context.tool, { args: read.args, provenance: 'USER_TRUSTED' }),
      );
      await vi.waitFor(() =>
        expect(holding.held.map((item) => item.event.type)).toEqual([
          'decision.made',
          'token.issued',
          'token.consumed',
        ]),
      );
      const raced = race(context.runtime);
      holding.release();
      for (const item of holding.held.splice(0)) item.settle();
      const error = await step;
      await raced;
      expect(error.code).toBe('RUNTIME_STATE');
      expect(context.tool).toHaveBeenCalledTimes(1);
    });
  }
});

/** One operation of a random authorise/execute session. */
type Operation =
  | { readonly kind: 'authorize'; readonly path: string; readonly label: ProvenanceLabel }
  | {
      readonly kind: 'execute';
      readonly pick: number;
      readonly path: string | null;
      readonly label: ProvenanceLabel | null;
    }
  | { readonly kind: 'terminate' };

const pathArbitrary = fc.constantFrom('/w/a', '/w/b');
const labelArbitrary = fc.constantFrom(...LABELS);
const authorizeArbitrary = fc.record({
  kind: fc.constant('authorize' as const),
  // Mostly a path the policy allows: a DENY ends the session, and most sessions should reach a run.
  path: fc.oneof(
    { weight: 3, arbitrary: fc.constant('/w/b') },
    { weight: 1, arbitrary: fc.constant('/w/a') },
  ),
  label: labelArbitrary,
});
const executeArbitrary = fc.record({
  kind: fc.constant('execute' as const),
  pick: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.nat(3) }),
  path: fc.oneof({ weight: 3, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: pathArbitrary }),
  label: fc.oneof({ weight: 3, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: labelArbitrary }),
});
/** Mostly an authorisation followed by an execution of its token, so that most sessions reach a run. */
const operationsArbitrary: fc.Arbitrary<Operation[]> = fc
  .array(
    fc.oneof(
      { weight: 6, arbitrary: fc.tuple(authorizeArbitrary, executeArbitrary) },
      { weight: 2, arbitrary: fc.tuple(authorizeArbitrary) },
      { weight: 2, arbitrary: fc.tuple(executeArbitrary) },
      { weight: 1, arbitrary: fc.constant([{ kind: 'terminate' as const }] as const) },
    ),
    { minLength: 1, maxLength: 8 },
  )
  .map((groups) => groups.flat() as Operation[]);

interface Issued {
  readonly token: AuthorityToken;
  readonly index: number;
  readonly path: string;
  readonly label: ProvenanceLabel;
}

describe('model-based property of authorize and gate.execute', () => {
  it('runs a tool only for the latest token of a step, once, for exactly the call its own authorisation allowed', async () => {
    let sessionsWithRuns = 0;
    let sessions = 0;
    await fc.assert(
      fc.asyncProperty(operationsArbitrary, async (operations) => {
        sessions++;
        const runs: { path: unknown }[] = [];
        const policy = createStubPolicy({ decide: allowsA0 });
        const runtime = createRuntime({
          tenant: 'acme',
          policy,
          authority: createFakeAuthority({ tenant: 'acme' }),
        });
        await runtime.setIntent(A0_INTENT, { provenance: 'USER_TRUSTED' });
        await runtime.submitPlan(
          Array.from({ length: 20 }, () => ({ action_id: 'a0' })),
          { provenance: 'USER_TRUSTED' },
        );
        const issued: Issued[] = [];
        let latest: Issued | undefined;
        const spent = new Set<AuthorityToken>();
        let terminated = false;
        for (const operation of operations) {
          if (operation.kind === 'terminate') {
            await runtime.terminate();
            terminated = true;
            latest = undefined;
            continue;
          }
          if (operation.kind === 'authorize') {
            const index = runtime.nextStepIndex;
            try {
              const token = await runtime.authorize(index, {
                args: { path: operation.path },
                provenance: operation.label,
              });
              expect(terminated).toBe(false);
              expect(
                allowsA0({
                  tenant: 'acme',
                  action: 'a0',
                  args: { path: operation.path },
                  provenance: operation.label,
                }),
              ).toBe('ALLOW');
              latest = { token, index, path: operation.path, label: operation.label };
              issued.push(latest);
            } catch {
              // A DENY voids every token of the session.
              latest = undefined;
            }
            continue;
          }
          // Mostly the latest token with its own arguments, so that most sessions reach a run.
          const chosen =
            operation.pick === 0 || latest === undefined
              ? latest
              : issued[issued.length - 1 - operation.pick];
          if (chosen === undefined) continue;
          const path = operation.path ?? chosen.path;
          const args = { path: operation.label === null ? path : createLabeled(path, operation.label) };
          const before = runs.length;
          try {
            await runtime.gate.execute(chosen.token, (plain) => runs.push({ path: plain['path'] }), {
              index: chosen.index,
              args,
            });
          } catch {
            expect(runs.length).toBe(before);
            continue;
          }
          const effective = operation.label ?? chosen.label;
          expect(runs.length).toBe(before + 1);
          expect(chosen).toBe(latest);
          expect(spent.has(chosen.token)).toBe(false);
          expect(path).toBe(chosen.path);
          expect(trustRank(effective)).toBeGreaterThanOrEqual(trustRank(chosen.label));
          expect(allowsA0({ tenant: 'acme', action: 'a0', args: { path }, provenance: effective })).toBe(
            'ALLOW',
          );
          spent.add(chosen.token);
          latest = undefined;
        }
        if (runs.length > 0) sessionsWithRuns++;
      }),
      { numRuns: 300 },
    );
    expect(sessionsWithRuns / sessions).toBeGreaterThan(0.5);
  });
});
