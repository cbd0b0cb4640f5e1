import { describe, expect, it, vi } from 'vitest';
import { TenantIsolationError } from '../errors.js';
import type { Authority } from '../ports/authority.js';
import { createFakeAuthority } from '../testing/fake-authority.js';
import type { AuditEvent, AuthorityToken, TokenBinding } from '../types.js';
import {
  dataOf,
  INTENT,
  type Context,
  ready,
  readStep,
  rejection,
  setup,
  type SetupOptions,
} from './__fixtures__/runtime-setup.js';

const READ = readStep.args;

/** The audit trail without what differs between runs (none here: the clock is fake), as type + data. */
function trail(events: readonly AuditEvent[]): readonly unknown[] {
  return events.map((event) => [event.type, event.data]);
}

/** Scenarios run against both authority forms: same outcome, same audit trail, same tool calls. */
const SCENARIOS: readonly {
  readonly name: string;
  readonly options?: SetupOptions;
  readonly run: (context: Context) => Promise<unknown>;
}[] = [
  {
    name: 'a plan step that runs',
    run: async (context) => {
      await ready(context);
      return context.runtime.executeStep(0, context.tool, { args: READ });
    },
  },
  {
    name: 'a calls-mode call that runs, then a denied one',
    run: async (context) => {
      await context.runtime.setIntent(INTENT, { provenance: 'USER_TRUSTED' });
      await context.runtime.call('read_file', context.tool, { args: READ, provenance: 'USER_TRUSTED' });
      return context.runtime.call('delete_file', context.tool, { args: READ, provenance: 'USER_TRUSTED' });
    },
  },
  {
    name: 'an escalated call approved',
    options: { script: [{ approved: true, approver: 'alice', provenance: 'USER_TRUSTED' }] },
    run: async (context) => {
      await context.runtime.setIntent(INTENT, { provenance: 'USER_TRUSTED' });
      return context.runtime.call('send_email', context.tool, {
        args: { to: 'a@b.c' },
        provenance: 'USER_TRUSTED',
      });
    },
  },
  {
    name: 'authorize, then gate.execute twice with the same token (the replay is refused)',
    run: async (context) => {
      await ready(context, [readStep, readStep]);
      const token = await context.runtime.authorize(0, { args: READ });
      await context.runtime.gate.execute(token, context.tool, { index: 0, args: READ });
      return context.runtime.gate.execute(token, context.tool, { index: 0, args: READ });
    },
  },
  {
    name: 'gate.execute with other arguments than authorised (the token is void)',
    run: async (context) => {
      await ready(context);
      const token = await context.runtime.authorize(0, { args: READ });
      await rejection(
        context.runtime.gate.execute(token, context.tool, { index: 0, args: { path: '/etc/passwd' } }),
      );
      return context.runtime.gate.execute(token, context.tool, { index: 0, args: READ });
    },
  },
  {
    name: 'an expired token',
    run: async (context) => {
      await ready(context);
      const token = await context.runtime.authorize(0, { args: READ });
      context.clock.advance(60_000);
      return context.runtime.gate.execute(token, context.tool, { index: 0, args: READ });
    },
  },
];

/** What a scenario ended with: its value, or the APE error's code and details. */
async function outcomeOf(context: Context, run: (context: Context) => Promise<unknown>): Promise<unknown> {
  try {
    const result = (await run(context)) as { value?: unknown } | undefined;
    return { ran: result?.value };
  } catch (error) {
    const ape = error as { code?: string; details?: unknown };
    return { code: ape.code, details: ape.details };
  }
}

describe('the gate with an authority that issues and consumes synchronously', () => {
  for (const scenario of SCENARIOS) {
    it(`gives the same outcome, audit trail and tool calls as the async form: ${scenario.name}`, async () => {
      const asynchronous = setup(scenario.options);
      const synchronous = setup({ ...scenario.options, synchronousAuthority: true });
      const issueSync = vi.spyOn(synchronous.authority, 'issueSync' as never);
      const issue = vi.spyOn(synchronous.authority, 'issue');
      const consume = vi.spyOn(synchronous.authority, 'consume');
      const expected = await outcomeOf(asynchronous, scenario.run);
      expect(await outcomeOf(synchronous, scenario.run)).toEqual(expected);
      expect(trail(synchronous.audit.events)).toEqual(trail(asynchronous.audit.events));
      expect(synchronous.tool.mock.calls).toEqual(asynchronous.tool.mock.calls);
      expect(synchronous.authority.outstanding()).toBe(asynchronous.authority.outstanding());
      // The synchronous forms were used, never the async ones.
      expect(issueSync).toHaveBeenCalled();
      expect(issue).not.toHaveBeenCalled();
      expect(consume).not.toHaveBeenCalled();
    });
  }
});

/** A synchronous fake authority whose `issueSync`/`consumeSync` answers can be replaced. */
function steeredSyncAuthority(steer: {
  issueSync?: (binding: TokenBinding) => AuthorityToken | undefined;
  consumeSync?: (token: AuthorityToken, binding: TokenBinding) => boolean;
}) {
  const inner = createFakeAuthority({ tenant: 'acme', synchronous: true });
  const issue = vi.fn((binding: TokenBinding) => inner.issue(binding));
  const consume = vi.fn((token: AuthorityToken, binding: TokenBinding) => inner.consume(token, binding));
  const authority: Authority = {
    tenant: 'acme',
    issue,
    consume,
    issueSync: steer.issueSync ?? ((binding) => inner.issueSync?.(binding)),
    consumeSync: steer.consumeSync ?? ((token, binding) => inner.consumeSync?.(token, binding) ?? false),
    revoke: (token, reason) => inner.revoke(token, reason),
    revokeSession: (tenant, session, reason) => inner.revokeSession(tenant, session, reason),
    revokeTenant: (tenant, reason) => inner.revokeTenant(tenant, reason),
  };
  return { authority, inner, issue, consume };
}

describe('the gate falls back to the async forms when the synchronous ones cannot answer', () => {
  it('calls issue when issueSync answers undefined, and consume when consumeSync answers false', async () => {
    const steered = steeredSyncAuthority({ issueSync: () => undefined, consumeSync: () => false });
    const context = setup({ authority: steered.authority });
    await ready(context);
    await context.runtime.executeStep(0, context.tool, { args: READ });
    expect(steered.issue).toHaveBeenCalledTimes(1);
    expect(steered.consume).toHaveBeenCalledTimes(1);
    expect(context.tool).toHaveBeenCalledTimes(1);
    expect(steered.inner.outstanding()).toBe(0);
  });
});

/** Runs plan step 0 (a read) with a steered synchronous authority; returns the refusal and the parts. */
async function refusedStep(steer: Parameters<typeof steeredSyncAuthority>[0]) {
  const steered = steeredSyncAuthority(steer);
  const context = setup({ authority: steered.authority });
  await ready(context);
  const error = await rejection(context.runtime.executeStep(0, context.tool, { args: READ }));
  return { error, steered, context };
}

describe('the gate fails closed on a synchronous authority failure (the tool never runs)', () => {
  it('denies with AUTHORITY_FAILURE naming issue when issueSync throws', async () => {
    const { error, steered, context } = await refusedStep({
      issueSync: () => {
        throw new Error('issuer offline');
      },
    });
    expect(error.code).toBe('POLICY_DENY');
    expect(error.details).toEqual({ step: 0, action: 'read_file', code: 'AUTHORITY_FAILURE' });
    expect(error.message).toContain('the authority failed to issue a token (issuer offline)');
    expect(steered.issue).not.toHaveBeenCalled();
    expect(context.tool).not.toHaveBeenCalled();
  });

  for (const [what, answer] of [
    ['a token without a fingerprint', () => ({ issuedAt: 0, expiresAt: 1 })],
    ['null', () => null],
  ] as const) {
    it(`denies with AUTHORITY_FAILURE when issueSync answers ${what}`, async () => {
      const { error, context } = await refusedStep({
        issueSync: answer as unknown as () => AuthorityToken,
      });
      expect(error.details).toEqual({ step: 0, action: 'read_file', code: 'AUTHORITY_FAILURE' });
      expect(error.message).toContain('it returned no token with a string fingerprint');
      expect(dataOf(context.audit.events, 'token.issued')).toEqual([]);
      expect(context.tool).not.toHaveBeenCalled();
    });
  }

  it('refuses a promise from issueSync (a broken contract) without an unhandled rejection', async () => {
    const { error, steered, context } = await refusedStep({
      issueSync: () => Promise.reject(new Error('late')) as unknown as AuthorityToken,
    });
    expect(error.details).toEqual({ step: 0, action: 'read_file', code: 'AUTHORITY_FAILURE' });
    expect(error.message).toContain('its issueSync answered with a promise');
    expect(steered.issue).not.toHaveBeenCalled();
    expect(context.tool).not.toHaveBeenCalled();
  });

  it('refuses a promise from consumeSync without falling back to consume, and without an unhandled rejection', async () => {
    const { error, steered, context } = await refusedStep({
      consumeSync: () => Promise.reject(new Error('late')) as unknown as boolean,
    });
    expect(error.details).toEqual({ step: 0, action: 'read_file', code: 'AUTHORITY_FAILURE' });
    expect(error.message).toContain(
      'the authority failed to consume a token (its consumeSync answered with a promise)',
    );
    expect(steered.consume).not.toHaveBeenCalled();
    expect(context.tool).not.toHaveBeenCalled();
  });

  it('revokes the session and refuses with TENANT_MISMATCH when issueSync throws a tenant error', async () => {
    const { error, steered, context } = await refusedStep({
      issueSync: () => {
        throw new TenantIsolationError('another tenant', { field: 'tenant' });
      },
    });
    expect(error.code).toBe('TENANT_MISMATCH');
    expect(steered.inner.revocations).toContainEqual({
      scope: 'session',
      reason: 'tenant_mismatch',
      count: 0,
    });
    expect(context.tool).not.toHaveBeenCalled();
  });

  it('denies with AUTHORITY_FAILURE naming consume when consumeSync throws, and records no consumption', async () => {
    const { error, steered, context } = await refusedStep({
      consumeSync: () => {
        throw new Error('store offline');
      },
    });
    expect(error.details).toEqual({ step: 0, action: 'read_file', code: 'AUTHORITY_FAILURE' });
    expect(error.message).toContain('the authority failed to consume a token (store offline)');
    expect(steered.consume).not.toHaveBeenCalled();
    expect(dataOf(context.audit.events, 'token.consumed')).toEqual([]);
    expect(context.tool).not.toHaveBeenCalled();
  });
});
