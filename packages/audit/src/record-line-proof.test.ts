import { MAX_CANONICAL_DEPTH, sha256 } from '@ape/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hashInputOfCanonicalLine, parseAuditLine } from './lines.js';
import { AUDIT_GENESIS_HASH, createAuditChain, serializeAuditRecord } from './record.js';
import { proveRecordLine } from './record-line-proof.js';
import { verifyAuditLog } from './verify.js';

/** Keys that stress the canonical order: integer-like, empty, non-ASCII, escapes, `__proto__`. */
const key = fc.oneof(
  fc.string({ maxLength: 4 }),
  fc.constantFrom('0', '1', '9', '10', '01', '', 'a', 'B', 'é', '\u{1F600}', '"', '\\', '\n', '__proto__'),
);
/** JSON values inside and outside the plain subset the fast path proves. */
const json = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.string({ maxLength: 6 }),
    fc.string({ maxLength: 4, unit: 'binary' }),
    fc.integer(),
    fc.double(),
    fc.constantFrom(true, false, null, 0, -0, 1e21, 1e15, 999_999_999_999_999, -1, 0.5),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(key, tie('value'), { maxKeys: 4 }),
  ),
})).value;

/** Values of the plain subset only: printable ASCII without `"` or `\`, integers of ≤ 15 digits. */
const plainText = fc.string({ maxLength: 8, unit: fc.constantFrom(...'abcXYZ019 -_.:/{}[],'.split('')) });
const plainJson = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    plainText,
    fc.integer({ min: -999_999_999_999_999, max: 999_999_999_999_999 }),
    fc.constantFrom(true, false, null),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(plainText, tie('value'), { maxKeys: 4 }),
  ),
})).value;

const name = fc.oneof(
  fc.constantFrom('acme', 'session-1', 'tool.executed', 'a"b', 'é', ''),
  fc.string({ maxLength: 5 }),
);

/** A canonical record line, for any event the chain accepts; `undefined` when it refuses the event. */
function lineOf(
  event: { tenant: string; session: string; type: string; time: number; data: unknown },
  seq: number,
) {
  const chain = createAuditChain({ seq, prev: sha256(String(seq)) });
  try {
    return serializeAuditRecord(chain.next(event as never));
  } catch {
    return undefined;
  }
}

/** Replaces the `hash` member by the hash of the line's content, so only the content decides. */
function rehash(line: string): string {
  const at = line.lastIndexOf(',"hash":"');
  if (at < 0 || line.length < at + 74) return line;
  return `${line.slice(0, at + 9)}${sha256(hashInputOfCanonicalLine(line))}${line.slice(at + 73)}`;
}

/**
 * The `seq` and `prev` the verifier would expect before `line`: the line's own when they have the
 * form the verifier's state has (a safe integer, 64 lower-case hex), else `fallback`.
 */
function expectationOf(line: string, fallback: number): { seq: number; prev: string } {
  const found = /"prev":"([0-9a-f]{64})","seq":(\d{1,15}),/.exec(line);
  return found === null
    ? { seq: fallback, prev: sha256(String(fallback)) }
    : { seq: Number(found[2]), prev: found[1] as string };
}

/** The fast path's soundness: every line it proves, the full parser accepts with the same fields. */
function expectSound(line: string, fallback = 0): boolean {
  const { seq, prev } = expectationOf(line, fallback);
  const hash = proveRecordLine(line, seq, prev);
  if (hash === undefined) return false;
  const parsed = parseAuditLine(line);
  expect(parsed.ok && parsed.selfValid, line).toBe(true);
  if (!parsed.ok) return false;
  expect({ seq, prev, hash }).toEqual({
    seq: parsed.record.seq,
    prev: parsed.record.prev,
    hash: parsed.record.hash,
  });
  return true;
}

/** Proves `line` with the expectation its own `seq` and `prev` give (see {@link expectationOf}). */
function prove(line: string): string | undefined {
  const { seq, prev } = expectationOf(line, 0);
  return proveRecordLine(line, seq, prev);
}

const event = fc.record({
  tenant: name,
  session: name,
  type: name,
  time: fc.oneof(fc.integer({ min: -62_167_219_200_000, max: 253_402_300_799_999 }), fc.constant(0)),
  data: fc.oneof(
    fc.dictionary(key, json, { maxKeys: 4 }),
    fc.dictionary(plainText, plainJson, { maxKeys: 4 }),
  ),
});

/** Events whose record lies wholly in the plain subset. */
const plainEvent = fc.record({
  tenant: fc.string({ minLength: 1, maxLength: 8, unit: fc.constantFrom(...'abc-_.019'.split('')) }),
  session: fc.constantFrom('s', 'session-7'),
  type: fc.constantFrom('decision.made', 'tool.executed'),
  time: fc.integer({ min: 0, max: 253_402_300_799_999 }),
  data: fc.dictionary(plainText, plainJson, { maxKeys: 5 }),
});

describe('proveRecordLine', () => {
  it('proves only lines the full parser accepts as valid records, with the same seq, prev and hash (property)', () => {
    let proofs = 0;
    fc.assert(
      fc.property(event, fc.nat(), (value, seq) => {
        const line = lineOf(value, seq);
        if (line !== undefined && expectSound(line, seq)) proofs++;
      }),
      { numRuns: 3000 },
    );
    // Not vacuous: a good share of the generated lines lie in the subset and were proven.
    expect(proofs).toBeGreaterThan(300);
  });

  it('proves no re-hashed mutation of a line that the full parser would reject or read differently (property)', () => {
    let proofs = 0;
    const mutation = fc.record({
      at: fc.nat(),
      kind: fc.constantFrom('replace', 'insert', 'delete', 'swap'),
      char: fc.oneof(
        fc.constantFrom(...'"\\{}[],:-.0159aefAEF xtnl_\u00e9\u0000\n'.split('')),
        fc.string({ minLength: 1, maxLength: 1, unit: 'binary' }),
      ),
    });
    fc.assert(
      fc.property(
        fc.oneof(plainEvent, event),
        fc.nat(),
        fc.array(mutation, { minLength: 1, maxLength: 3 }),
        (value, seq, edits) => {
          const written = lineOf(value, seq);
          if (written === undefined) return;
          let line: string = written;
          for (const edit of edits) {
            const at = edit.at % (line.length + 1);
            if (edit.kind === 'replace') line = line.slice(0, at) + edit.char + line.slice(at + 1);
            else if (edit.kind === 'insert') line = line.slice(0, at) + edit.char + line.slice(at);
            else if (edit.kind === 'delete') line = line.slice(0, at) + line.slice(at + 1);
            else
              line =
                line.slice(0, at) + line.slice(at + 1, at + 2) + line.slice(at, at + 1) + line.slice(at + 2);
          }
          if (expectSound(rehash(line), seq)) proofs++;
        },
      ),
      { numRuns: 5000 },
    );
    expect(proofs).toBeGreaterThan(200);
  });

  it('proves every record whose fields and data lie in the plain subset (property)', () => {
    fc.assert(
      fc.property(plainEvent, fc.nat({ max: 999_999_999_999_999 }), (value, seq) => {
        const line = lineOf(value, seq);
        expect(line).toBeDefined();
        expect(proveRecordLine(line as string, seq, sha256(String(seq))), line).toBe(
          JSON.parse(line as string).hash,
        );
      }),
      { numRuns: 2000 },
    );
  });

  const base = lineOf(
    {
      tenant: 'acme',
      session: 's1',
      type: 'tool.executed',
      time: Date.UTC(2026, 0, 1),
      data: { action: 'read_file', n: 3, ok: true },
    },
    7,
  ) as string;

  it('proves a usual record line', () => {
    expect(proveRecordLine(base, 7, sha256('7'))).toBe(JSON.parse(base).hash);
  });

  it('leaves to the full parser what lies outside the subset, which then still decides', () => {
    const outside = {
      'an escaped character': { note: 'say "hi"' },
      'a non-ASCII character': { note: 'café' },
      'a fraction': { ratio: 0.5 },
      'an exponent': { big: 1e21 },
      'an integer of 16 digits': { big: 1_000_000_000_000_000 },
    };
    for (const [what, data] of Object.entries(outside)) {
      const line = lineOf({ tenant: 'acme', session: 's1', type: 't', time: 0, data }, 0) as string;
      expect(prove(line), what).toBeUndefined();
      const parsed = parseAuditLine(line);
      expect(parsed.ok && parsed.selfValid, what).toBe(true);
    }
  });

  it('proves nothing that is not canonical, even with a matching hash', () => {
    const variants = [
      base.replace('"n":3', '"n":03'),
      base.replace('"n":3', '"n":-0'),
      base.replace('"n":3', '"n":3.0'),
      base.replace('"n":3', '"n": 3'),
      base.replace('"action":"read_file","n":3', '"n":3,"action":"read_file"'),
      base.replace('"n":3', '"n":3,"n":3'),
      base.replace('"action"', '"__proto__"'),
      base.replace('"action"', '"ok"'),
      base.replace('"seq":7', '"seq":07'),
      base.replace('"seq":7', '"seq":-7'),
      base.replace('"tenant":"acme"', '"tenant":""'),
      base.replace('"ts":"2026-01-01', '"ts":"2026-02-30'),
      base.replace('"ts":"2026-01-01T00:00:00.000Z"', '"ts":"2026-01-01T00:00:00Z"'),
      base.replace(/"prev":"(.)/, '"prev":"A'),
      `${base} `,
      `{"data":[],${base.slice(base.indexOf('"hash"'))}`,
    ];
    for (const variant of variants) {
      const line = rehash(variant);
      expect(line, variant).not.toBe(base);
      expect(prove(line), line).toBeUndefined();
      const parsed = parseAuditLine(line);
      expect(parsed.ok && parsed.selfValid, line).toBe(false);
    }
  });

  it('proves nothing but the record the chain expects next: another seq or prev is left to the full parser', () => {
    const hash = JSON.parse(base).hash as string;
    expect(proveRecordLine(base, 7, sha256('7'))).toBe(hash);
    const expectations: [string, number, string][] = [
      ['an earlier seq', 6, sha256('7')],
      ['a later seq', 8, sha256('7')],
      ["a longer seq that starts with the line's digits", 70, sha256('7')],
      ['another prev', 7, sha256('6')],
      ['a prev of another length', 7, sha256('7').slice(1)],
      ['a negative seq', -7, sha256('7')],
      ['a fractional seq', 7.5, sha256('7')],
      ['a seq of 16 digits', 1_000_000_000_000_000, sha256('7')],
    ];
    for (const [what, seq, prev] of expectations)
      expect(proveRecordLine(base, seq, prev), what).toBeUndefined();
    const long = lineOf(
      { tenant: 'acme', session: 's1', type: 't', time: 0, data: {} },
      1_000_000_000_000_000,
    );
    expect(
      proveRecordLine(long as string, 1_000_000_000_000_000, sha256('1000000000000000')),
    ).toBeUndefined();
    const seventy = lineOf({ tenant: 'acme', session: 's1', type: 't', time: 0, data: {} }, 70) as string;
    expect(proveRecordLine(seventy, 7, sha256('70'))).toBeUndefined();
    expect(proveRecordLine(seventy, 70, sha256('70'))).toBe(JSON.parse(seventy).hash);
  });

  it('proves keys in code-unit order even when JavaScript enumerates them in another order', () => {
    const line = rehash(base.replace('"action":"read_file","n":3,"ok":true', '"10":"a","9":"b"'));
    expect(prove(line)).toBeDefined();
    expectSound(line);
  });

  it('proves nothing whose hash does not match its content', () => {
    const line = base.replace('"n":3', '"n":4');
    expect(prove(line)).toBeUndefined();
    expect(prove(base.replace(/"hash":"(.)/, '"hash":"X'))).toBeUndefined();
  });

  it('leaves data nested to the canonical depth limit to the full parser, at the same depth it counts', () => {
    const nested = (levels: number) =>
      rehash(base.replace('"n":3', `"n":${'['.repeat(levels)}${']'.repeat(levels)}`));
    // data is at depth 1, its member at depth 2: arrays at depths 2 … levels + 1.
    const deepest = nested(MAX_CANONICAL_DEPTH - 2);
    expect(prove(deepest)).toBeDefined();
    expectSound(deepest);
    const tooDeep = nested(MAX_CANONICAL_DEPTH - 1);
    expect(prove(tooDeep)).toBeUndefined();
    const parsed = parseAuditLine(tooDeep);
    expect(parsed.ok && parsed.selfValid).toBe(false);
  });

  it('keeps the verifier accepting canonical records the fast path leaves to the full parser', async () => {
    const chain = createAuditChain();
    const lines = [{ note: 'say "hi"' }, { city: 'Zürich', ratio: 0.25 }, { plain: 'read_file' }].map(
      (data) =>
        serializeAuditRecord(
          chain.next({ tenant: 'acme', session: 's', type: 'tool.executed', time: 0, data }),
        ),
    );
    expect(proveRecordLine(lines[0] as string, 0, AUDIT_GENESIS_HASH)).toBeUndefined();
    const verification = await verifyAuditLog(lines);
    expect(verification).toMatchObject({ ok: true, records: 3 });
  });
});
