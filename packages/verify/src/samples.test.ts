import { describe, expect, it } from 'vitest';
import { encodePolicies } from './encode.js';
import { verifiablePolicyFromDocument } from './load.js';
import { exportPolicyModel } from './model.js';
import { fixRequest, sampleRequests } from './samples.js';
import { openSession } from './solver.js';

function modelOf(document: Record<string, unknown>) {
  return exportPolicyModel(verifiablePolicyFromDocument({ version: 1, name: 'samples', ...document }));
}

const ARGS_RULE = {
  id: 'typed',
  actions: ['write_file'],
  effect: 'allow',
  when: {
    args: {
      type: 'object',
      required: ['path'],
      properties: {
        path: { type: 'string', 'x-ape-path': { roots: ['/workspace/'], exclude: ['/workspace/secret'] } },
        url: { type: 'string', 'x-ape-url': { schemes: ['https'], hosts: ['*.example.com'] } },
        mode: { enum: ['fast', 'slow', 3] },
        owner: { const: 'alice' },
        count: { type: 'number', maximum: 1e21 },
      },
    },
  },
};

describe('sampleRequests', () => {
  it('builds argument objects from the values the rules name (consts, enums, roots, hosts)', () => {
    const requests = sampleRequests(modelOf({ rules: [ARGS_RULE] }), 'base');
    const paths = new Set(requests.map((request) => request.args['path']));
    for (const value of [
      '/workspace/',
      '/workspace/notes.txt',
      '/workspace/secret',
      '/workspace/secret/notes.txt',
      'https://www.example.com/',
      'fast',
      'slow',
      'alice',
      '/etc/passwd',
      'x',
      undefined,
    ])
      expect(paths.has(value), String(value)).toBe(true);
    // Only string enum members become values; every argument the rules name gets the value.
    expect(paths.has(3)).toBe(false);
    const sample = requests.find((request) => request.args['path'] === 'alice')!;
    expect(Object.keys(sample.args).sort()).toEqual(['count', 'mode', 'owner', 'path', 'url']);
  });

  it('covers every action (and one unknown), every tenant and every label', () => {
    const model = modelOf({
      allowed_actions: ['read_file'],
      rules: [{ id: 'globbed', actions: ['fs.*'], effect: 'deny' }],
      tenants: { acme: { allowed_actions: ['read_file'] } },
    });
    const requests = sampleRequests(model, 'base');
    const actions = new Set(requests.map((request) => request.action));
    expect(actions.has('read_file')).toBe(true);
    expect(actions.has(model.OTHER)).toBe(true);
    expect([...actions].some((action) => action.startsWith('fs.'))).toBe(true);
    expect(new Set(requests.map((request) => request.tenant))).toEqual(new Set(['base', 'acme']));
    expect(new Set(requests.map((request) => request.provenance))).toEqual(
      new Set(['SYSTEM_TRUSTED', 'USER_TRUSTED', 'EXTERNAL_UNTRUSTED']),
    );
    // No rule reads arguments: the only argument object is the empty one.
    expect(new Set(requests.map((request) => JSON.stringify(request.args)))).toEqual(new Set(['{}']));
  });
});

describe('fixRequest', () => {
  it('fixes every kind of argument value, and Z3 accepts exactly that request', async () => {
    const model = modelOf({ rules: [ARGS_RULE] });
    const encoding = encodePolicies([{ prefix: 'a_', model }]);
    const request = {
      tenant: 'acme',
      action: 'write_file',
      provenance: 'USER_TRUSTED' as const,
      args: { path: '/workspace/a "b"', count: 1e21, mode: true, owner: null, url: [1] },
    };
    const fixed = fixRequest(encoding, request);
    expect(fixed).toContain('KNumber');
    expect(fixed).toContain('1000000000000000000000.0');
    expect(fixed).toContain('KBool');
    expect(fixed).toContain('KNull');
    expect(fixed).toContain('KArray');
    expect(fixed).toContain('(not extra_argument)');
    const session = await openSession(encoding.preamble);
    const result = await session.check(fixed, encoding.requestTerms);
    expect(result.answer).toBe('sat');
    expect(result.values.get('action')).toEqual({ string: 'write_file' });
    // The same request with a different action is not that request.
    const clash = await session.check(`(and ${fixed} (= action "read_file"))`, []);
    expect(clash.answer).toBe('unsat');
  });

  it('marks arguments the policy does not name as "some other argument", and objects as KObject', () => {
    const encoding = encodePolicies([{ prefix: 'a_', model: modelOf({ rules: [ARGS_RULE] }) }]);
    const fixed = fixRequest(encoding, {
      tenant: 't',
      action: 'write_file',
      provenance: 'EXTERNAL_UNTRUSTED',
      args: { unnamed: 1, owner: { nested: true } },
    });
    expect(fixed).toContain('extra_argument');
    expect(fixed).not.toContain('(not extra_argument)');
    expect(fixed).toContain('KObject');
  });
});
