import { hashCanonical } from '@ape/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  eventDataText,
  prepareEventData,
  prepareEventDataWithText,
  REDACTED_VALUE,
  type RedactionOptions,
  redactArgs,
} from './redact.js';

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

/** The text of `data` as recorded, or the code it is refused with. */
function outcomeOf(prepare: () => string): { text: string } | { code: unknown } {
  try {
    return { text: prepare() };
  } catch (error) {
    return { code: (error as { code?: unknown }).code };
  }
}

describe('eventDataText', () => {
  // Keys the redaction looks for, among ordinary ones, at any depth; `__proto__` only as an own key
  // (from JSON.parse, as a sink's caller could hand it over).
  const key = fc.constantFrom('action', 'args', 'tokenId', 'token_id', 'secret', 'fields', 'argsDigest', 'x');
  const leaf = fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.boolean(), fc.constant(null));
  const { value } = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      leaf,
      fc.array(tie('value'), { maxLength: 3 }),
      fc.dictionary(key, tie('value'), { maxKeys: 4 }),
    ),
  }));
  const data = fc.oneof(
    fc.dictionary(key, value, { maxKeys: 5 }),
    fc
      .dictionary(key, value, { maxKeys: 3 })
      .map((object) => JSON.parse(`{"__proto__":{"polluted":true},"rest":${JSON.stringify(object)}}`)),
  );
  const options = fc.constantFrom<RedactionOptions>({}, { redact: false }, { logFields: ['x'] });

  it('gives the text the copy-and-redact path gives, or the same refusal (property)', () => {
    fc.assert(
      fc.property(data, options, (input, redaction) => {
        expect(outcomeOf(() => eventDataText(input, redaction))).toEqual(
          outcomeOf(() => prepareEventDataWithText(input, redaction).text),
        );
      }),
      { numRuns: 1000 },
    );
  });

  it('still redacts and gives the same text when Object.prototype carries an enumerable property', () => {
    const prototype = Object.prototype as Record<string, unknown>;
    prototype['secret'] = 'inherited';
    try {
      const input = { action: 'read_file', nested: { tokenId: 'raw', keep: 1 }, list: [{ x: 1 }] };
      const text = eventDataText(input, {});
      expect(text).toBe(prepareEventDataWithText(input, {}).text);
      expect(text).not.toContain('raw');
      expect(eventDataText({ action: 'plain' }, {})).toBe('{"action":"plain"}');
    } finally {
      delete prototype['secret'];
    }
  });
});
