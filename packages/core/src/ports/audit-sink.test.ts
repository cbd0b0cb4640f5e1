import { AsyncLocalStorage, createHook } from 'node:async_hooks';
import { describe, expect, it, vi } from 'vitest';
import { INTENT, setup } from '../runtime/__fixtures__/runtime-setup.js';
import { AUDIT_APPENDED, wantsCanonicalData } from './audit-sink.js';

describe('AUDIT_APPENDED', () => {
  it('is a promise that resolves to undefined', async () => {
    expect(AUDIT_APPENDED).toBeInstanceOf(Promise);
    await expect(AUDIT_APPENDED).resolves.toBeUndefined();
  });

  it('works with async hooks enabled (an AsyncLocalStorage in the process tags every promise)', async () => {
    // A frozen promise made Node's promise hook throw on the runtime's first `catch`.
    const storage = new AsyncLocalStorage<{ readonly request: string }>();
    const hook = createHook({ init() {} }).enable();
    try {
      await storage.run({ request: 'r-1' }, async () => {
        const audit = {
          append: () => AUDIT_APPENDED,
          flush: () => Promise.resolve(),
          close: () => Promise.resolve(),
        };
        const context = setup({ audit });
        await context.runtime.setIntent(INTENT, { provenance: 'USER_TRUSTED' });
        await context.runtime.call('read_file', context.tool, {
          args: { path: '/a' },
          provenance: 'USER_TRUSTED',
        });
        expect(context.tool).toHaveBeenCalledTimes(1);
        expect(storage.getStore()).toEqual({ request: 'r-1' });
      });
    } finally {
      hook.disable();
    }
  });

  it('is one promise for every copy of the module loaded in the realm', async () => {
    vi.resetModules();
    const again = await import('./audit-sink.js');
    expect(again.AUDIT_APPENDED).toBe(AUDIT_APPENDED);
  });

  it('is taken by the runtime as a recorded event: every record of a step reaches the sink, in order', async () => {
    const types: string[] = [];
    const audit = {
      append(event: { type: string }) {
        types.push(event.type);
        return AUDIT_APPENDED;
      },
      flush: () => Promise.resolve(),
      close: () => Promise.resolve(),
    };
    const context = setup({ audit });
    await context.runtime.setIntent(INTENT, { provenance: 'USER_TRUSTED' });
    const result = await context.runtime.call('read_file', context.tool, {
      args: { path: '/a' },
      provenance: 'USER_TRUSTED',
    });
    expect(result.value).toEqual({ echoed: { path: '/a' } });
    expect(context.tool).toHaveBeenCalledTimes(1);
    expect(types.slice(-4)).toEqual(['decision.made', 'token.issued', 'token.consumed', 'tool.executed']);
  });
});

describe('wantsCanonicalData', () => {
  const base = { append: () => undefined, flush: async () => {}, close: async () => {} };
  it('is true only for `canonicalData: true`, and false when reading it throws', () => {
    expect(wantsCanonicalData({ ...base, canonicalData: true })).toBe(true);
    expect(wantsCanonicalData({ ...base, canonicalData: false })).toBe(false);
    expect(wantsCanonicalData(base)).toBe(false);
    expect(wantsCanonicalData({ ...base, canonicalData: 'yes' } as never)).toBe(false);
    const throwing = Object.defineProperty({ ...base }, 'canonicalData', {
      get() {
        throw new Error('no');
      },
    });
    expect(wantsCanonicalData(throwing)).toBe(false);
  });
});
