import { describe, expect, it } from 'vitest';
import { createFakeAuthority } from '../testing/fake-authority.js';
import { createRecordingAuditSink } from '../testing/recording-audit-sink.js';
import { createStubPolicy } from '../testing/stub-policy.js';
import { resolveAdapterOptions } from './options.js';
import {
  type AdapterThreadContext,
  checkToolToWrap,
  createAdapterHandle,
  createThreadRegistry,
  isLineageId,
} from './threads.js';

describe('createThreadRegistry', () => {
  it('creates a thread on first use and returns the same one until it is forgotten', () => {
    const made: string[] = [];
    const threads = createThreadRegistry((lineage) => {
      made.push(lineage);
      return { lineage };
    });
    const first = threads.get('t1');
    expect(threads.get('t1')).toBe(first);
    expect(threads.find('t1')).toBe(first);
    expect(threads.find('t2')).toBeUndefined();
    expect(threads.all()).toEqual([first]);
    threads.forget(first);
    expect(threads.find('t1')).toBeUndefined();
    expect(threads.get('t1')).not.toBe(first);
    expect(made).toEqual(['t1', 't1']);
  });

  it('does not forget a newer thread of the same lineage', () => {
    const threads = createThreadRegistry((lineage) => ({ lineage }));
    const old = threads.get('t1');
    threads.forget(old);
    const current = threads.get('t1');
    threads.forget(old);
    expect(threads.find('t1')).toBe(current);
  });

  it('refuses a lineage that is empty, too long, holds NUL or is not a string (CONFIG_INVALID)', () => {
    const threads = createThreadRegistry((lineage) => ({ lineage }));
    for (const lineage of ['', 'a\0b', 'x'.repeat(257), 42 as unknown as string]) {
      expect(() => threads.get(lineage)).toThrow(
        expect.objectContaining({ code: 'CONFIG_INVALID', details: { field: 'lineage' } }),
      );
    }
    expect(isLineageId('x'.repeat(256))).toBe(true);
  });
});

describe('checkToolToWrap', () => {
  it('returns the output label, EXTERNAL_UNTRUSTED by default', () => {
    expect(checkToolToWrap('read_file', undefined)).toBe('EXTERNAL_UNTRUSTED');
    expect(checkToolToWrap('clock', 'SYSTEM_TRUSTED')).toBe('SYSTEM_TRUSTED');
  });

  it('refuses a malformed output label with CONFIG_INVALID', () => {
    expect(() => checkToolToWrap('clock', 'ROOT' as never)).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', details: { field: 'tools.clock.outputLabel' } }),
    );
  });

  it('refuses a tool name that is not an action id with ACTION_INVALID', () => {
    expect(() => checkToolToWrap('send email!', undefined)).toThrow(
      expect.objectContaining({ code: 'ACTION_INVALID', details: { field: 'tools.send email!' } }),
    );
  });
});

describe('createAdapterHandle', () => {
  const options = (patch = {}) =>
    resolveAdapterOptions('createApeTest', {
      tenant: 'acme',
      policy: createStubPolicy(),
      authority: createFakeAuthority({ tenant: 'acme' }),
      ...patch,
    });

  it('shares the given stores with every thread, and ends every open thread on close', async () => {
    const audit = createRecordingAuditSink();
    const ended: string[] = [];
    interface TestThread {
      readonly lineage: string;
      readonly context: AdapterThreadContext<TestThread>;
      end(reason?: string): Promise<void>;
    }
    const handle = createAdapterHandle<TestThread>(options({ audit }), (lineage, context) => ({
      lineage,
      context,
      async end(reason?: string) {
        ended.push(`${lineage}: ${reason}`);
        context.forget(this);
      },
    }));
    expect(handle.tenant).toBe('acme');
    expect(handle.audit).toBe(audit);
    const first = handle.thread('a');
    expect(first.context.audit).toBe(audit);
    expect(first.context.usage).toBe(handle.usage);
    expect(handle.thread('a')).toBe(first);
    handle.thread('b');
    await handle.close();
    expect(ended).toEqual(['a: the adapter closed', 'b: the adapter closed']);
    expect(handle.thread('a')).not.toBe(first);
    expect(Object.isFrozen(handle)).toBe(true);
  });

  it('gives each adapter its own in-memory stores by default', () => {
    const make = () => createAdapterHandle(options(), (lineage) => ({ lineage, end: async () => undefined }));
    const one = make();
    const two = make();
    expect(one.audit).not.toBe(two.audit);
    expect(one.usage).not.toBe(two.usage);
  });
});
