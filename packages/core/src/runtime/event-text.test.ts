import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../canonical-json.js';
import type { StubPolicyOptions } from '../testing/stub-policy.js';
import type { AuditEvent, AuditEventType } from '../types.js';
import { dataOf, INTENT, setup } from './__fixtures__/runtime-setup.js';
import { runtimeEventText } from './event-text.js';

/** Text with what canonical JSON must escape: quotes, backslashes, control characters, lone surrogates. */
const text = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.constantFrom('', '"', '\\', '\u0000\u001f', '\ud800', 'a\udc00b', '😀', '"read_file" is allowed'),
);
const finite = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(-0, 1e21, 5e-324, Number.MAX_SAFE_INTEGER),
);
const frozenStrings = fc.array(text, { maxLength: 4 }).map((items) => Object.freeze(items));
/** A frozen object of frozen values, like the clear arguments or the argument labels. */
const frozenObject = fc
  .dictionary(text, fc.oneof(text, finite, fc.boolean(), fc.constant(null), frozenStrings), { maxKeys: 4 })
  .map((value) => Object.freeze(value));

function optional<T>(arbitrary: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> {
  return fc.option(arbitrary, { nil: undefined });
}

/** Drops the keys whose value is `undefined` (the runtime never sets them) and freezes the result. */
function built(fields: Record<string, unknown>): Readonly<Record<string, unknown>> {
  const data: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) data[key] = value;
  return Object.freeze(data);
}

const shapes: Record<string, fc.Arbitrary<Readonly<Record<string, unknown>>>> = {
  'decision.made': fc
    .record({
      stepIndex: finite,
      action: text,
      decision: text,
      rules: frozenStrings,
      reason: text,
      policy: text,
      argsDigest: text,
      argNames: frozenStrings,
      provenance: text,
      sources: frozenStrings,
      mode: text,
      enforced: fc.boolean(),
      code: optional(text),
      args: optional(frozenObject),
      argLabels: optional(frozenObject),
    })
    .map(built),
  'plan.extended': fc
    .record({ index: finite, action: text, argsDigest: text, head: text, prev: text })
    .map(built),
  'token.issued': fc
    .record({ fingerprint: text, stepIndex: finite, action: text, expiresAt: finite })
    .map(built),
  'token.consumed': fc.record({ fingerprint: text, stepIndex: finite, action: text }).map(built),
  'tool.executed': fc
    .record({ stepIndex: finite, action: text, ok: fc.constant(true), durationMs: finite })
    .map(built),
};

describe('runtimeEventText', () => {
  for (const [type, shape] of Object.entries(shapes)) {
    it(`gives exactly canonicalJson's text for any ${type} data of the runtime's shape (property)`, () => {
      fc.assert(
        fc.property(shape, (data) => {
          expect(runtimeEventText(type as AuditEventType, data)).toBe(canonicalJson(data));
        }),
        { numRuns: 500 },
      );
    });
  }

  it("gives canonicalJson's text along runs of records that repeat, reuse and change fields (its memos, property)", () => {
    // Few distinct values, so that consecutive records often repeat one (the same string or array, or
    // an equal one), as a session's records do, and the memos of the last value are hit and missed.
    const few = fc.constantFrom('read_file', '"read_file" is allowed', 'a\\b', '\ud800', 'DENY', '');
    const sameArray = Object.freeze(['path', 'to']);
    const fewArrays = fc.constantFrom(
      sameArray,
      Object.freeze(['path', 'to']),
      Object.freeze(['path']),
      Object.freeze(['to', 'path']),
      Object.freeze(['"q"']),
      Object.freeze([]),
      ['path', 'to'],
    );
    const sameLabels = Object.freeze({ '/path': 'USER_TRUSTED' });
    const fewLabels = fc.constantFrom(
      sameLabels,
      Object.freeze({ '/path': 'USER_TRUSTED' }),
      Object.freeze({ '/path': 'EXTERNAL_UNTRUSTED' }),
      Object.freeze({ '/a': 'USER_TRUSTED', '/b': 'USER_TRUSTED' }),
      { '/path': 'USER_TRUSTED' },
      undefined,
    );
    const record = fc.oneof(
      fc
        .record({
          stepIndex: fc.nat(3),
          action: few,
          decision: few,
          rules: fewArrays,
          reason: few,
          policy: few,
          argsDigest: few,
          argNames: fewArrays,
          provenance: few,
          sources: fewArrays,
          mode: few,
          enforced: fc.boolean(),
          argLabels: fewLabels,
        })
        .map((fields) => ['decision.made', built(fields)] as const),
      fc
        .record({ fingerprint: few, stepIndex: fc.nat(3), action: few, expiresAt: fc.nat(3) })
        .map((fields) => ['token.issued', built(fields)] as const),
      fc
        .record({ fingerprint: few, stepIndex: fc.nat(3), action: few })
        .map((fields) => ['token.consumed', built(fields)] as const),
      fc
        .record({ index: fc.nat(3), action: few, argsDigest: few, head: few, prev: few })
        .map((fields) => ['plan.extended', built(fields)] as const),
    );
    fc.assert(
      fc.property(fc.array(record, { minLength: 2, maxLength: 40 }), (records) => {
        for (const [type, data] of records) {
          const open = Object.values(data).some(
            (value) => typeof value === 'object' && value !== null && !Object.isFrozen(value),
          );
          const answer = runtimeEventText(type, data);
          if (open) expect(answer).toBeUndefined();
          else expect(answer).toBe(canonicalJson(data));
        }
      }),
      { numRuns: 300 },
    );
  });

  it("gives canonicalJson's text along runs of decision.made records that change one field at a time (property)", () => {
    // The decision.made text reuses its call part and its decision part while every field that
    // goes into them repeats: a run where consecutive records differ in exactly one field (or none)
    // checks that each field is among those compared.
    const values: Record<string, readonly unknown[]> = {
      stepIndex: [0, 1],
      action: ['read_file', 'write_file'],
      decision: ['ALLOW', 'DENY'],
      rules: [Object.freeze(['allowed_actions[0]']), Object.freeze(['r'])],
      reason: ['"read_file" is allowed', 'no'],
      policy: ['a'.repeat(64), 'b'.repeat(64)],
      argsDigest: ['c'.repeat(64), 'd'.repeat(64)],
      argNames: [Object.freeze(['path']), Object.freeze(['to'])],
      provenance: ['USER_TRUSTED', 'EXTERNAL_UNTRUSTED'],
      sources: [Object.freeze([]), Object.freeze(['tool:fetch'])],
      mode: ['enforce', 'shadow'],
      enforced: [true, false],
      argLabels: [undefined, Object.freeze({ '/path': 'USER_TRUSTED' })],
      args: [undefined, Object.freeze({ path: '/a' })],
      code: [undefined, 'POLICY_DENY'],
    };
    const fields = Object.keys(values);
    const edit = fc.option(fc.tuple(fc.constantFrom(...fields), fc.nat(1)), { nil: undefined });
    fc.assert(
      fc.property(fc.array(edit, { minLength: 1, maxLength: 30 }), (edits) => {
        const current: Record<string, unknown> = {};
        for (const field of fields) current[field] = values[field]![0];
        for (const change of edits) {
          if (change !== undefined) current[change[0]] = values[change[0]]![change[1]];
          const data = built(current);
          expect(runtimeEventText('decision.made', data)).toBe(canonicalJson(data));
        }
      }),
      { numRuns: 300 },
    );
  });

  /** One valid sample of each shape, with every optional field present. */
  const SAMPLES: Record<string, Record<string, unknown>> = {
    'decision.made': {
      stepIndex: 2,
      action: 'send_email',
      decision: 'DENY',
      rules: Object.freeze(['forbidden_actions[0]']),
      reason: 'no',
      policy: 'p',
      argsDigest: 'd',
      argNames: Object.freeze(['to']),
      provenance: 'EXTERNAL_UNTRUSTED',
      sources: Object.freeze(['tool:fetch']),
      mode: 'enforce',
      enforced: true,
      code: 'PROVENANCE',
      args: Object.freeze({ to: 'a@b.c' }),
      argLabels: Object.freeze({ '/to': 'EXTERNAL_UNTRUSTED' }),
    },
    'plan.extended': { index: 3, action: 'a', argsDigest: 'd', head: 'h', prev: 'p' },
    'token.issued': { fingerprint: 'f', stepIndex: 1, action: 'a', expiresAt: 5 },
    'token.consumed': { fingerprint: 'f', stepIndex: 1, action: 'a' },
    'tool.executed': { stepIndex: 1, action: 'a', ok: true, durationMs: 0 },
  };
  const OPTIONAL = new Set(['code', 'args', 'argLabels']);

  /**
   * Values the field must not hold: `undefined` (a key the runtime never sets to it), another type,
   * a non-finite number, an open (not frozen) container.
   */
  function otherTypes(value: unknown): unknown[] {
    if (typeof value === 'string') return [undefined, 7, true, null, Object.freeze(['x'])];
    if (typeof value === 'number') return [undefined, '7', Number.NaN, Number.POSITIVE_INFINITY, null];
    if (typeof value === 'boolean') return [undefined, 'true', 1, null];
    if (Array.isArray(value))
      return [undefined, [...value], Object.freeze([1]), 'x', Object.freeze({ 0: 'x' })];
    return [
      undefined,
      { ...(value as object) },
      Object.freeze({ deep: { open: true } }),
      Object.freeze({ deep: Object.freeze({ deeper: ['open'] }) }),
    ];
  }

  it('answers for each sample shape, and nothing once any field is missing, of another type, open or extra', () => {
    for (const [type, sample] of Object.entries(SAMPLES)) {
      const eventType = type as AuditEventType;
      expect(runtimeEventText(eventType, Object.freeze({ ...sample }))).toBe(canonicalJson(sample));
      expect(runtimeEventText(eventType, Object.freeze({ ...sample, extra: 1 }))).toBeUndefined();
      for (const [field, value] of Object.entries(sample)) {
        const { [field]: _dropped, ...without } = sample;
        const missing = runtimeEventText(eventType, Object.freeze(without));
        if (OPTIONAL.has(field)) expect(missing).toBe(canonicalJson(without));
        else expect(missing, `${type} without ${field}`).toBeUndefined();
        for (const other of otherTypes(value)) {
          const changed = runtimeEventText(eventType, Object.freeze({ ...sample, [field]: other }));
          expect(changed, `${type} with ${field} = ${String(other)}`).toBeUndefined();
        }
      }
    }
  });

  it('answers nothing for clear arguments nested deeper than it checks, or not JSON', () => {
    let deep: unknown = 'leaf';
    for (let level = 0; level < 70; level++) deep = Object.freeze({ level: deep });
    const sample = SAMPLES['decision.made'] as Record<string, unknown>;
    expect(runtimeEventText('decision.made', Object.freeze({ ...sample, args: deep }))).toBeUndefined();
    let shallow: unknown = 'leaf';
    for (let level = 0; level < 60; level++) shallow = Object.freeze({ level: shallow });
    const nested = Object.freeze({ ...sample, args: shallow });
    expect(runtimeEventText('decision.made', nested)).toBe(canonicalJson(nested));
    const notJson = Object.freeze({ ...sample, args: Object.freeze({ n: 10n }) });
    expect(runtimeEventText('decision.made', notJson)).toBeUndefined();
  });

  it('prints a known record exactly, and answers nothing for a failed tool or another event type', () => {
    const issued = Object.freeze({ fingerprint: 'f', stepIndex: 1, action: 'read_file', expiresAt: 5 });
    expect(runtimeEventText('token.issued', issued)).toBe(
      '{"action":"read_file","expiresAt":5,"fingerprint":"f","stepIndex":1}',
    );
    const refused: [AuditEventType, Record<string, unknown>][] = [
      ['tool.executed', { stepIndex: 1, action: 'a', ok: false, durationMs: 0 }],
      ['tool.executed', { stepIndex: 1, action: 'a', ok: false, error: { name: 'Error' }, durationMs: 0 }],
      ['state.changed', { from: 'A', to: 'B', event: 'C' }],
      ['session.created', {}],
    ];
    for (const [type, data] of refused) expect(runtimeEventText(type, Object.freeze(data))).toBeUndefined();
  });
});

/** Every event's data, copied: a copy is not the runtime's object, so canonicalJson serialises it. */
function copiedTexts(events: readonly AuditEvent[]): string[] {
  return events.map((event) => canonicalJson(JSON.parse(JSON.stringify(event.data)) as unknown));
}

/** A policy whose decisions are frozen all through, as `@ape/policy`'s are. */
const FROZEN_DECISIONS = {
  decide: (request: { action: string }) =>
    Object.freeze({
      decision: request.action === 'delete_file' ? ('DENY' as const) : ('ALLOW' as const),
      rules: Object.freeze([`frozen:${request.action}`]),
      reason: `"${request.action}" decided`,
      policy: 'frozen-policy',
    }),
};

describe('the recorder and a sink that serialises data canonically', () => {
  async function run(
    canonicalData: unknown,
    policy: StubPolicyOptions = {},
  ): Promise<{ events: AuditEvent[]; texts: string[] }> {
    const events: AuditEvent[] = [];
    const texts: string[] = [];
    const sink = {
      get canonicalData(): boolean {
        if (canonicalData instanceof Error) throw canonicalData;
        return canonicalData as boolean;
      },
      append(event: AuditEvent) {
        events.push(event);
        texts.push(canonicalJson(event.data));
      },
      flush: async () => {},
      close: async () => {},
    };
    const context = setup({ audit: sink, policy });
    await context.runtime.setIntent(INTENT, { provenance: 'USER_TRUSTED' });
    await context.runtime.call('read_file', context.tool, {
      args: { path: '/workspace/a.txt' },
      provenance: 'USER_TRUSTED',
    });
    await context.runtime
      .call('delete_file', context.tool, { args: {}, provenance: 'USER_TRUSTED' })
      .catch(() => {});
    return { events, texts };
  }

  it('hands the sink the same text with and without the hint, or when reading the hint throws', async () => {
    // A policy with frozen decisions (the field-by-field text) and one without (the general serialiser).
    for (const policy of [FROZEN_DECISIONS, {}]) {
      const withHint = await run(true, policy);
      expect(withHint.texts).toEqual(copiedTexts(withHint.events));
      expect(withHint.events.map((event) => event.type)).toContain('decision.made');
      for (const hint of [false, undefined, new Error('no')]) {
        const other = await run(hint, policy);
        expect(other.texts).toEqual(copiedTexts(other.events));
        expect(other.events.map((event) => event.type)).toEqual(withHint.events.map((event) => event.type));
      }
    }
  });

  it('holds no event data after its append: data the sink lets go of is collected', async () => {
    setFlagsFromString('--expose-gc');
    const collect = runInNewContext('gc') as () => void;
    const held = new Map<string, WeakRef<Readonly<Record<string, unknown>>>>();
    const texts: string[] = [];
    const sink = {
      canonicalData: true,
      append(event: AuditEvent) {
        texts.push(canonicalJson(event.data));
        held.set(event.type, new WeakRef(event.data));
      },
      flush: async () => {},
      close: async () => {},
    };
    const context = setup({ audit: sink, policy: FROZEN_DECISIONS });
    await context.runtime.setIntent(INTENT, { provenance: 'USER_TRUSTED' });
    await context.runtime.call('read_file', context.tool, {
      args: { path: '/workspace/a.txt' },
      provenance: 'USER_TRUSTED',
    });
    expect(texts).toContain(runtimeEventText('tool.executed', held.get('tool.executed')?.deref() ?? {}));
    // A WeakRef made in this job keeps its target until the job ends.
    await new Promise((resolve) => setImmediate(resolve));
    collect();
    // The last event the runtime recorded, with its text worked out: nothing of the runtime keeps it.
    expect(held.get('tool.executed')?.deref()).toBeUndefined();
  });

  it('records decision data whose containers are frozen (given a policy whose decisions are)', async () => {
    const { events } = await run(true, FROZEN_DECISIONS);
    const decisions = dataOf(events, 'decision.made');
    expect(decisions).toHaveLength(2);
    for (const decision of decisions) {
      expect(Object.isFrozen(decision)).toBe(true);
      expect(Object.isFrozen(decision['argNames'])).toBe(true);
      expect(Object.isFrozen(decision['rules'])).toBe(true);
      expect(Object.isFrozen(decision['sources'])).toBe(true);
      expect(runtimeEventText('decision.made', decision)).toBe(
        canonicalJson(JSON.parse(JSON.stringify(decision))),
      );
    }
  });
});
