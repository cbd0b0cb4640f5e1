import { hashCanonical } from '@ape/core';
import { describe, expect, it } from 'vitest';
import { prepareEventData, REDACTED_VALUE, redactArgs } from './redact.js';

describe('redactArgs', () => {
  it('keeps a digest and the sorted names, never the values', () => {
    const args = { path: '/workspace/secret.txt', content: 'hunter2' };
    const redacted = redactArgs(args);
    expect(redacted).toEqual({ argsDigest: hashCanonical(args), argNames: ['content', 'path'] });
    expect(JSON.stringify(redacted)).not.toContain('hunter2');
  });

  it('logs only the fields the host opted in', () => {
    const redacted = redactArgs({ path: '/workspace/a', content: 'hunter2' }, ['path', 'missing']);
    expect(redacted.fields).toEqual({ path: '/workspace/a' });
    expect(JSON.stringify(redacted)).not.toContain('hunter2');
  });

  it('digests arguments that are not an object, with no names', () => {
    expect(redactArgs(['a', 'b'])).toEqual({ argsDigest: hashCanonical(['a', 'b']), argNames: [] });
  });

  it('refuses non-JSON arguments with NON_JSON_VALUE', () => {
    expect(() => redactArgs({ run: () => 1 })).toThrow(expect.objectContaining({ code: 'NON_JSON_VALUE' }));
  });
});

describe('prepareEventData', () => {
  it('replaces data.args by default', () => {
    const data = prepareEventData({ action: 'write_file', args: { path: '/w/a', content: 'x' } }, {});
    expect(data['args']).toEqual({
      argsDigest: hashCanonical({ path: '/w/a', content: 'x' }),
      argNames: ['content', 'path'],
    });
  });

  it('leaves arguments the runtime already redacted unchanged', () => {
    const already = { argsDigest: 'd'.repeat(64), argNames: ['path'] };
    expect(prepareEventData({ args: already }, {})['args']).toEqual(already);
  });

  it('replaces secret-named properties at any depth', () => {
    const data = prepareEventData(
      { token: { tokenId: 'raw-id', fingerprint: 'fp' }, list: [{ secret: 's' }] },
      {},
    );
    expect(data).toEqual({
      token: { tokenId: REDACTED_VALUE, fingerprint: 'fp' },
      list: [{ secret: REDACTED_VALUE }],
    });
  });

  it('records data as received when redact is false', () => {
    const data = prepareEventData({ args: { content: 'x' }, tokenId: 'kept' }, { redact: false });
    expect(data).toEqual({ args: { content: 'x' }, tokenId: 'kept' });
  });

  it('refuses a __proto__ key with AUDIT_FAILURE', () => {
    const data = JSON.parse('{"nested":{"__proto__":{"polluted":true}}}') as Record<string, unknown>;
    expect(() => prepareEventData(data, {})).toThrow(expect.objectContaining({ code: 'AUDIT_FAILURE' }));
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('refuses data that is not an object with AUDIT_FAILURE', () => {
    expect(() => prepareEventData(['not', 'an', 'object'], {})).toThrow(
      expect.objectContaining({ code: 'AUDIT_FAILURE' }),
    );
  });
});
