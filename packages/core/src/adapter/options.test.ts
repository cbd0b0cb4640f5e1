import { describe, expect, it } from 'vitest';
import { createFakeAuthority } from '../testing/fake-authority.js';
import { createStubPolicy } from '../testing/stub-policy.js';
import { type AdapterOptions, resolveAdapterOptions } from './options.js';

const base = (): AdapterOptions => ({
  tenant: 'acme',
  policy: createStubPolicy(),
  authority: createFakeAuthority({ tenant: 'acme' }),
});

describe('resolveAdapterOptions', () => {
  it('applies the defaults every adapter documents', () => {
    const resolved = resolveAdapterOptions('createApeTest', base());
    expect(resolved).toMatchObject({
      tenant: 'acme',
      provenance: 'context',
      dataflowMinLength: 12,
      userProvenance: 'USER_TRUSTED',
      onDeny: 'result',
      intent: undefined,
      usage: undefined,
      audit: undefined,
      escalation: undefined,
      clock: undefined,
      mode: undefined,
      escalationTimeoutMs: undefined,
      auditArgs: undefined,
    });
  });

  it('keeps what the host chose', () => {
    const resolved = resolveAdapterOptions('createApeTest', {
      ...base(),
      provenance: 'dataflow',
      dataflowMinLength: 4,
      userProvenance: 'EXTERNAL_UNTRUSTED',
      onDeny: 'throw',
      mode: 'observe',
      escalationTimeoutMs: 5,
      auditArgs: ['to'],
      intent: { scope: 'x' },
    });
    expect(resolved).toMatchObject({
      provenance: 'dataflow',
      dataflowMinLength: 4,
      userProvenance: 'EXTERNAL_UNTRUSTED',
      onDeny: 'throw',
      mode: 'observe',
      escalationTimeoutMs: 5,
      auditArgs: ['to'],
      intent: { scope: 'x' },
    });
  });

  it.each([
    ['tenant', { tenant: '' }],
    ['policy', { policy: {} }],
    ['authority', { authority: {} }],
    ['provenance', { provenance: 'vibes' }],
    ['dataflowMinLength', { dataflowMinLength: 2 }],
    ['dataflowMinLength', { dataflowMinLength: 1.5 }],
    ['userProvenance', { userProvenance: 'ROOT' }],
    ['onDeny', { onDeny: 'ignore' }],
    ['escalation', { escalation: {} }],
    ['intent', { intent: 'everything' }],
  ])('refuses a malformed %s with CONFIG_INVALID naming the factory', (field, patch) => {
    expect(() =>
      resolveAdapterOptions('createApeTest', { ...base(), ...(patch as object) } as AdapterOptions),
    ).toThrow(
      expect.objectContaining({
        code: 'CONFIG_INVALID',
        details: { field },
        message: expect.stringMatching(/^createApeTest: /),
      }),
    );
  });

  it('refuses missing options with CONFIG_INVALID', () => {
    expect(() => resolveAdapterOptions('createApeTest', null as unknown as AdapterOptions)).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', details: { field: 'options' } }),
    );
  });
});
