import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { diffPolicies } from './diff.js';
import { loadVerifiablePolicy, verifiablePolicyFromDocument } from './load.js';

function policy(document: Record<string, unknown>) {
  return verifiablePolicyFromDocument({ version: 1, name: 'diff', ...document });
}

describe('diffPolicies', () => {
  it('finds two policies equivalent when only the order and spelling of their rules differ', async () => {
    const a = policy({ allowed_actions: ['read', 'list'], forbidden_actions: ['delete'] });
    const b = policy({
      forbidden_actions: ['delete'],
      rules: [{ id: 'reads', actions: ['list', 'read'], effect: 'allow' }],
    });
    const diff = await diffPolicies(a, b);
    expect(diff).toMatchObject({ equivalent: true, onlyA: [], onlyB: [] });
  });

  it('finds a shipped policy with limits and URL conditions equivalent to itself', async () => {
    const shipped = loadVerifiablePolicy(
      join(import.meta.dirname, '..', '..', '..', 'policies', 'read_only.yaml'),
    );
    expect((await diffPolicies(shipped, shipped)).equivalent).toBe(true);
  });

  it('reports an action the new policy allows, with a witness both evaluators confirm', async () => {
    const diff = await diffPolicies(
      policy({ allowed_actions: ['read'] }),
      policy({ allowed_actions: ['read', 'write'] }),
    );
    expect(diff.equivalent).toBe(false);
    expect(diff.onlyA).toEqual([]);
    expect(diff.onlyB).toHaveLength(1);
    expect(diff.onlyB[0]).toMatchObject({
      action: 'write',
      decisions: { a: 'DENY', b: 'ALLOW' },
    });
    expect(diff.onlyB[0]?.witness.action).toBe('write');
  });

  it('reports an action the new policy sends to a human instead of allowing, on the old side', async () => {
    const diff = await diffPolicies(
      policy({ allowed_actions: ['deploy'] }),
      policy({ escalation_required: ['deploy'] }),
    );
    expect(diff.onlyA).toEqual([
      expect.objectContaining({
        action: 'deploy',
        decisions: { a: 'ALLOW', b: 'ESCALATE' },
      }),
    ]);
    expect(diff.onlyB).toEqual([]);
  });

  it('pins the provenance label that makes the difference', async () => {
    const trusted = {
      id: 'send',
      actions: ['send_email'],
      effect: 'allow',
      when: { provenance: ['SYSTEM_TRUSTED', 'USER_TRUSTED'] },
    };
    const everyone = { id: 'send', actions: ['send_email'], effect: 'allow' };
    const diff = await diffPolicies(policy({ rules: [trusted] }), policy({ rules: [everyone] }));
    expect(diff.onlyB).toHaveLength(1);
    expect(diff.onlyB[0]?.witness).toMatchObject({ action: 'send_email', provenance: 'EXTERNAL_UNTRUSTED' });
  });

  it('pins the argument value that makes the difference', async () => {
    const rule = (environments: string[]) => ({
      id: 'deploy',
      actions: ['deploy'],
      effect: 'allow',
      when: { args: { type: 'object', required: ['env'], properties: { env: { enum: environments } } } },
    });
    const diff = await diffPolicies(
      policy({ rules: [rule(['staging'])] }),
      policy({ rules: [rule(['staging', 'production'])] }),
    );
    expect(diff.onlyB).toHaveLength(1);
    expect(diff.onlyB[0]?.witness.args).toEqual({ env: 'production' });
    expect(diff.onlyA).toEqual([]);
  });

  it('groups a glob widening under the unknown actions it lets through', async () => {
    const diff = await diffPolicies(
      policy({ allowed_actions: ['fs.read'] }),
      policy({ allowed_actions: ['fs.*'] }),
    );
    expect(diff.onlyB).toHaveLength(1);
    expect(diff.onlyB[0]?.action).toMatch(/^fs\./);
    expect(diff.onlyB[0]?.action).not.toBe('fs.read');
    expect(diff.onlyB[0]?.decisions).toEqual({ a: 'DENY', b: 'ALLOW' });
  });

  it('finds the call a new session budget denies', async () => {
    const diff = await diffPolicies(
      policy({ allowed_actions: ['search'] }),
      policy({ allowed_actions: ['search'], limits: [{ actions: ['search'], max_calls: 3 }] }),
    );
    expect(diff.onlyA).toHaveLength(1);
    const session = diff.onlyA[0]?.witness.session;
    expect(session?.usage?.['limits[0]'] ?? session?.calls?.['search']).toBeGreaterThanOrEqual(3);
    expect(diff.onlyA[0]?.decisions).toEqual({ a: 'ALLOW', b: 'DENY' });
  });

  it('finds the call a windowed lineage budget denies, with a witness that carries session.usage', async () => {
    const diff = await diffPolicies(
      policy({ allowed_actions: ['search'] }),
      policy({
        allowed_actions: ['search'],
        limits: [{ id: 'hourly', actions: ['search'], max_calls: 3, scope: 'lineage', window: '1h' }],
      }),
    );
    expect(diff.onlyA).toHaveLength(1);
    expect(diff.onlyA[0]?.witness.session?.usage?.['hourly']).toBeGreaterThanOrEqual(3);
    expect(diff.onlyA[0]?.witness.session?.calls).toBeUndefined();
    expect(diff.onlyA[0]?.decisions).toEqual({ a: 'ALLOW', b: 'DENY' });
  });

  it('finds a windowed budget of zero equivalent to forbidding the action', async () => {
    const diff = await diffPolicies(
      policy({
        allowed_actions: ['search', 'read'],
        rules: [{ id: 'no-search', actions: ['search'], effect: 'deny' }],
      }),
      policy({
        allowed_actions: ['search', 'read'],
        limits: [{ actions: ['search'], max_calls: 0, scope: 'tenant', window: '1d' }],
      }),
    );
    expect(diff).toMatchObject({ equivalent: true, onlyA: [], onlyB: [] });
  });

  it('reports a comparison it cannot decide as unknown, apart from the differences', async () => {
    const url = (hosts: string[]) => ({ type: 'string', 'x-ape-url': { schemes: ['https'], hosts } });
    const rule = (schema: unknown) => ({
      id: 'fetch',
      actions: ['fetch'],
      effect: 'allow',
      when: { args: { type: 'object', required: ['url'], properties: { url: schema } } },
    });
    const diff = await diffPolicies(
      policy({ rules: [rule(url(['a.example', 'b.example']))] }),
      policy({ rules: [rule({ anyOf: [url(['a.example']), url(['b.example'])] })] }),
    );
    expect(diff.onlyA).toEqual([]);
    expect(diff.onlyB).toEqual([]);
    expect(diff.equivalent).toBe(false);
    // Each host alone implies the pair (proved from the keywords' options); the converse needs URL parsing.
    expect(diff.unknown).toEqual([expect.objectContaining({ action: 'fetch', direction: 'onlyA' })]);
    expect(diff.unknown[0]?.reason).toContain('approximated condition');
  });

  it('finds shipped read_only and workspace_files different only with witnesses both evaluators confirm', async () => {
    const directory = join(import.meta.dirname, '..', '..', '..', 'policies');
    const readOnly = loadVerifiablePolicy(join(directory, 'read_only.yaml'));
    const workspace = loadVerifiablePolicy(join(directory, 'workspace_files.yaml'));
    const diff = await diffPolicies(readOnly, workspace);
    expect(diff.unknown).toEqual([]);
    const fetch = diff.onlyA.find((difference) => difference.action === 'fetch_url');
    expect(fetch?.witness.args['url']).toMatch(/^https:\/\//);
    expect(fetch?.decisions).toEqual({ a: 'ALLOW', b: 'DENY' });
    expect(diff.onlyB.map((difference) => difference.action)).toEqual(
      expect.arrayContaining(['delete_file', 'send_email', 'write_file']),
    );
    for (const [difference, more] of [
      ...diff.onlyA.map((entry) => [entry, 'a'] as const),
      ...diff.onlyB.map((entry) => [entry, 'b'] as const),
    ]) {
      const decisions = {
        a: readOnly.policy.simulate(difference.witness).decision,
        b: workspace.policy.simulate(difference.witness).decision,
      };
      expect(decisions).toEqual(difference.decisions);
      const rank = { DENY: 0, ESCALATE: 1, ALLOW: 2 };
      const [higher, lower] = more === 'a' ? [decisions.a, decisions.b] : [decisions.b, decisions.a];
      expect(rank[higher]).toBeGreaterThan(rank[lower]);
    }
  });
});
