import { describe, expect, it } from 'vitest';
import {
  ACTION,
  EXTRA_ARGUMENT,
  encodePolicies,
  HAS_PREVIOUS,
  PREVIOUS,
  PROVENANCE,
  TENANT,
} from './encode.js';
import { verifiablePolicyFromDocument } from './load.js';
import { exportPolicyModel } from './model.js';
import type { SExpression } from './smt-text.js';
import { WITNESS_SESSION, witnessRequest } from './witness.js';

function setup(limits: readonly Record<string, unknown>[]) {
  const model = exportPolicyModel(
    verifiablePolicyFromDocument({
      version: 1,
      name: 'witness',
      allowed_actions: ['read_file', 'fs.list'],
      rules: [
        {
          id: 'typed',
          actions: ['write_file'],
          effect: 'allow',
          when: {
            args: {
              type: 'object',
              properties: {
                text: { type: 'string' },
                count: { type: 'number' },
                flag: { type: 'boolean' },
                nothing: { type: 'null' },
                list: { type: 'array' },
                object: { type: 'object' },
                extra: { type: 'string' },
              },
            },
          },
        },
      ],
      limits,
    }),
  );
  const limitsOf = [{ prefix: 'a_', model }];
  const encoding = encodePolicies(limitsOf);
  const variables = new Map(encoding.arguments.map((entry) => [entry.name, entry]));
  return { model, limitsOf, encoding, variables };
}

const str = (value: string): SExpression => ({ string: value });

describe('witnessRequest reads a solver model back into a request', () => {
  it('reads each argument kind, the label, tenant and action, and leaves absent arguments out', () => {
    const { encoding, variables, limitsOf } = setup([]);
    const values = new Map<string, SExpression>([
      [ACTION, str('write_file')],
      [TENANT, str('acme')],
      [PROVENANCE, 'USER_TRUSTED'],
    ]);
    const set = (
      name: string,
      kind: string,
      field?: 'string' | 'number' | 'boolean',
      value?: SExpression,
    ) => {
      const entry = variables.get(name)!;
      values.set(entry.present, 'true');
      values.set(entry.kind, kind);
      if (field !== undefined) values.set(entry[field], value!);
    };
    set('text', 'KString', 'string', str('say "hi" \\ é'));
    set('count', 'KNumber', 'number', ['-', ['/', '1.0', '4.0']]);
    set('flag', 'KBool', 'boolean', 'true');
    set('nothing', 'KNull');
    set('list', 'KArray');
    set('object', 'KObject');
    values.set(variables.get('extra')!.present, 'false');
    const request = witnessRequest(encoding, values, limitsOf);
    expect(request).toEqual({
      tenant: 'acme',
      action: 'write_file',
      provenance: 'USER_TRUSTED',
      args: { text: 'say "hi" \\ é', count: -0.25, flag: true, nothing: null, list: [], object: {} },
    });
  });

  it('falls back to safe values: an unreadable number is 0, a missing string is "", false is false', () => {
    const { encoding, variables, limitsOf } = setup([]);
    const values = new Map<string, SExpression>();
    const count = variables.get('count')!;
    const text = variables.get('text')!;
    const flag = variables.get('flag')!;
    values.set(count.present, 'true');
    values.set(count.kind, 'KNumber');
    values.set(count.number, { string: 'not a number' });
    values.set(text.present, 'true');
    values.set(text.kind, 'KString');
    values.set(flag.present, 'true');
    values.set(flag.kind, 'KBool');
    values.set(flag.boolean, 'false');
    const request = witnessRequest(encoding, values, limitsOf);
    expect(request.args).toEqual({ count: 0, text: '', flag: false });
    expect(request.action).toBe('');
    expect(request.tenant).toBe('');
  });

  it('reads an unknown label as EXTERNAL_UNTRUSTED (the least trusted)', () => {
    const { encoding, limitsOf } = setup([]);
    const request = witnessRequest(encoding, new Map([[PROVENANCE, 'NOT_A_LABEL']]), limitsOf);
    expect(request.provenance).toBe('EXTERNAL_UNTRUSTED');
  });

  it('adds an argument under a free name when the model has "some other argument"', () => {
    const { encoding, limitsOf } = setup([]);
    const request = witnessRequest(encoding, new Map([[EXTRA_ARGUMENT, 'true']]), limitsOf);
    // `extra` is a named argument of the policy: the other one is `extra_`.
    expect(request.args).toEqual({ extra_: 'x' });
  });

  it('sets the previous action in a witness session only when the model has one', () => {
    const { encoding, limitsOf } = setup([]);
    const withPrevious = witnessRequest(
      encoding,
      new Map<string, SExpression>([
        [HAS_PREVIOUS, 'true'],
        [PREVIOUS, str('read_file')],
      ]),
      limitsOf,
    );
    expect(withPrevious.session).toEqual({ id: WITNESS_SESSION, previousAction: 'read_file' });
    const without = witnessRequest(
      encoding,
      new Map<string, SExpression>([[PREVIOUS, str('read_file')]]),
      limitsOf,
    );
    expect(without.session).toBeUndefined();
  });

  it('turns a session limit counter into session.calls on the action (or the limit’s exact action)', () => {
    const { encoding, limitsOf } = setup([
      { id: 'reads', actions: ['read_file'], max_calls: 3 },
      { id: 'lists', actions: ['fs.*'], max_calls: 2 },
    ]);
    const counters = encoding.limitCounters.get('a_')!;
    expect(counters).toHaveLength(2);
    const request = witnessRequest(
      encoding,
      new Map<string, SExpression>([
        [ACTION, str('write_file')],
        [counters[0]!, '3'],
        [counters[1]!, '2'],
      ]),
      limitsOf,
    );
    expect(request.session?.id).toBe(WITNESS_SESSION);
    expect(request.session?.calls?.['read_file']).toBe(3);
    // A glob limit with no exact action counts a sample action of its pattern.
    const globKey = Object.keys(request.session?.calls ?? {}).find((key) => key.startsWith('fs.'));
    expect(globKey).toBeDefined();
    expect(request.session?.calls?.[globKey!]).toBe(2);
    expect(request.session?.usage).toBeUndefined();
  });

  it('counts the call’s own action when the limit matches it, and ignores unused counters', () => {
    const { encoding, limitsOf } = setup([
      { id: 'lists', actions: ['fs.*'], max_calls: 2 },
      { id: 'reads', actions: ['read_file'], max_calls: 3 },
    ]);
    const counters = encoding.limitCounters.get('a_')!;
    const request = witnessRequest(
      encoding,
      new Map<string, SExpression>([
        [ACTION, str('fs.list')],
        [counters[0]!, '1'],
        [counters[1]!, '0'],
      ]),
      limitsOf,
    );
    expect(request.session?.calls).toEqual({ 'fs.list': 1 });
  });

  it('uses session.usage per limit id when a limit has a window or a wider scope', () => {
    const { encoding, limitsOf } = setup([
      { id: 'hourly', actions: ['read_file'], max_calls: 5, window: '1h' },
      { id: 'tenant-wide', actions: ['read_file'], max_calls: 9, scope: 'tenant' },
    ]);
    const counters = encoding.limitCounters.get('a_')!;
    const request = witnessRequest(
      encoding,
      new Map<string, SExpression>([
        [ACTION, str('read_file')],
        [counters[0]!, '4'],
        [counters[1]!, '8'],
      ]),
      limitsOf,
    );
    expect(request.session).toEqual({ id: WITNESS_SESSION, usage: { hourly: 4, 'tenant-wide': 8 } });
  });
});
