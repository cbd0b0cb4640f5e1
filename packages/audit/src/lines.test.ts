import { canonicalJson } from '@ape/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import { isCanonicalParse, isRealDate, linesFromArray, parseAuditLine, splitLines } from './lines.js';
import { hashMerkleChildren, hashMerkleLeaf } from './merkle.js';
import { createAuditChain, serializeAuditRecord } from './record.js';
import { verifyAuditLog } from './verify.js';

/** Keys that stress the canonical order: integer-like, empty, non-ASCII, surrogate pairs, `__proto__`. */
const key = fc.oneof(
  fc.string({ maxLength: 4 }),
  fc.constantFrom('0', '1', '9', '10', '01', '', 'é', 'É', '\u{1F600}', '\uFB01', '__proto__', 'a', 'B'),
);
const json = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.string({ maxLength: 6, unit: 'binary' }),
    fc.double(),
    fc.integer(),
    fc.constantFrom(true, false, null, -0, 1e21, 1e-7, 0.1),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(key, tie('value'), { maxKeys: 4 }),
  ),
})).value;

/** Texts a log line could hold: canonical, JSON.stringify'd, re-ordered or re-spaced serialisations. */
function serialisations(value: unknown): string[] {
  const out: string[] = [];
  try {
    out.push(canonicalJson(value));
  } catch {
    // Not serialisable canonically (NaN, Infinity): only the other texts are tried.
  }
  const stringified = JSON.stringify(value);
  if (stringified !== undefined) {
    out.push(stringified, JSON.stringify(value, null, 1));
    out.push(
      stringified.replace(/,/, ', '),
      stringified.replace(/0\b/, '0.0'),
      stringified.replace(/e\+/, 'E+'),
    );
  }
  return out;
}

describe('isCanonicalParse', () => {
  it('never claims a text is canonical when canonicalJson of its parse differs (fast path is sound)', () => {
    fc.assert(
      fc.property(json, (value) => {
        for (const text of serialisations(value)) {
          let parsed: unknown;
          try {
            parsed = JSON.parse(text);
          } catch {
            continue;
          }
          if (!isCanonicalParse(parsed, text)) continue;
          expect(canonicalJson(parsed)).toBe(text);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('recognises the canonical JSON of plain values without integer-like keys', () => {
    fc.assert(
      fc.property(json, (value) => {
        let text: string;
        try {
          text = canonicalJson(value);
        } catch {
          return;
        }
        if (/"\d+":/.test(text)) return; // integer-like keys enumerate first: the caller falls back.
        expect(isCanonicalParse(JSON.parse(text), text)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('falls back on integer-like keys that JavaScript enumerates before the others', () => {
    const text = '{"10":1,"9":2}';
    expect(canonicalJson(JSON.parse(text))).toBe(text);
    expect(isCanonicalParse(JSON.parse(text), text)).toBe(false);
  });

  it('refuses unsorted keys, -0, exponents and whitespace', () => {
    for (const text of ['{"b":1,"a":2}', '{"a":-0}', '{"a":1E3}', '{"a": 1}', '{"a":1.0}', '[1,"\\u0041"]']) {
      expect(isCanonicalParse(JSON.parse(text), text), text).toBe(false);
    }
  });

  it('does not walk past the canonical depth limit', () => {
    const deep = `${'['.repeat(300)}${']'.repeat(300)}`;
    expect(isCanonicalParse(JSON.parse(deep), deep)).toBe(false);
  });
});

describe('isRealDate', () => {
  const pad = (value: number, width: number) => String(value).padStart(width, '0');
  const timestamp = fc
    .tuple(
      fc.integer({ min: 0, max: 9999 }),
      fc.integer({ min: 0, max: 99 }),
      fc.integer({ min: 0, max: 99 }),
      fc.integer({ min: 0, max: 99 }),
      fc.integer({ min: 0, max: 99 }),
      fc.integer({ min: 0, max: 99 }),
      fc.integer({ min: 0, max: 999 }),
    )
    .map(
      ([y, mo, d, h, mi, s, ms]) =>
        `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)}T${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}.${pad(ms, 3)}Z`,
    );

  it('agrees with a Date round trip on every string of the timestamp pattern', () => {
    fc.assert(
      fc.property(timestamp, (ts) => {
        const time = Date.parse(ts);
        const roundTrip = Number.isFinite(time) && new Date(time).toISOString() === ts;
        expect(isRealDate(ts)).toBe(roundTrip);
      }),
      { numRuns: 20_000 },
    );
  });

  it('knows leap days and the end of the day', () => {
    expect(isRealDate('2024-02-29T23:59:59.999Z')).toBe(true);
    expect(isRealDate('2023-02-29T00:00:00.000Z')).toBe(false);
    expect(isRealDate('1900-02-29T00:00:00.000Z')).toBe(false);
    expect(isRealDate('2000-02-29T00:00:00.000Z')).toBe(true);
    expect(isRealDate('2026-01-01T24:00:00.000Z')).toBe(false);
    expect(isRealDate('2026-04-31T00:00:00.000Z')).toBe(false);
  });
});

describe('splitLines', () => {
  async function collect(chunks: Uint8Array[], max = 1024) {
    const out = [];
    for await (const batch of splitLines(
      (async function* () {
        yield* chunks;
      })(),
      max,
    )) {
      out.push(...batch);
    }
    return out;
  }

  it('joins a line split across chunks and counts its bytes', async () => {
    const lines = await collect([Buffer.from('{"a":'), Buffer.from('"é"}\n{"b":1}')]);
    expect(lines).toEqual([
      { text: '{"a":"é"}', bytes: 11, terminated: true },
      { text: '{"b":1}', bytes: 7, terminated: false },
    ]);
  });

  it('keeps a byte-order mark as text (the line is then not JSON) instead of dropping it', async () => {
    const [line] = await collect([Buffer.from('\uFEFF{}\n')]);
    expect(line?.text).toBe('\uFEFF{}');
  });

  /** What splitting the whole input at once must give: each `\n`-ended piece decoded on its own. */
  function reference(bytes: Buffer, max: number) {
    const lines = [];
    let start = 0;
    while (start < bytes.length) {
      const newline = bytes.indexOf(0x0a, start);
      const end = newline === -1 ? bytes.length : newline;
      const piece = bytes.subarray(start, end);
      const terminated = newline !== -1;
      const size = end - start + (terminated ? 1 : 0);
      if (piece.length > max) {
        lines.push({ text: undefined, bytes: size, terminated, problem: `is longer than ${max} bytes` });
      } else if (!isUtf8(piece)) {
        lines.push({ text: undefined, bytes: size, terminated, problem: 'is not valid UTF-8' });
      } else {
        lines.push({ text: piece.toString('utf8'), bytes: size, terminated });
      }
      start = end + 1;
    }
    return lines;
  }

  it('gives the same lines however the bytes are cut into chunks, ASCII or not (property)', async () => {
    const piece = fc.oneof(
      fc.constantFrom('\n', '\n\n', '{"a":1}', 'é', '\uFEFF', 'x'.repeat(12), '\r\n'),
      fc.string({ maxLength: 6 }),
      fc.uint8Array({ maxLength: 4 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(piece, fc.boolean()), { maxLength: 12 }),
        fc.array(fc.nat({ max: 40 }), { maxLength: 6 }),
        async (pieces, cuts) => {
          // Latin1 pieces stand for raw bytes (invalid UTF-8 included); the others for text.
          const bytes = Buffer.concat(
            pieces.map(([text, raw]) => Buffer.from(text, raw ? 'latin1' : 'utf8')),
          );
          const chunks: Uint8Array[] = [];
          let at = 0;
          for (const cut of [...cuts].sort((a, b) => a - b)) {
            if (cut > at && cut < bytes.length) {
              chunks.push(new Uint8Array(bytes.subarray(at, cut)));
              at = cut;
            }
          }
          chunks.push(new Uint8Array(bytes.subarray(at)));
          expect(await collect(chunks, 10)).toEqual(reference(bytes, 10));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('marks invalid UTF-8 and over-long lines without decoding them', async () => {
    const lines = await collect(
      [Buffer.from([0x7b, 0xff, 0x7d, 0x0a]), Buffer.from(`${'x'.repeat(20)}\n`)],
      10,
    );
    expect(lines[0]).toEqual({ text: undefined, bytes: 4, terminated: true, problem: 'is not valid UTF-8' });
    expect(lines[1]).toMatchObject({ text: undefined, bytes: 21, problem: 'is longer than 10 bytes' });
  });
});

describe('verifying in batches', () => {
  function log(count: number): string[] {
    const chain = createAuditChain();
    return Array.from({ length: count }, (_, n) =>
      serializeAuditRecord(
        chain.next({
          type: 'tool.executed',
          tenant: 't',
          session: 's',
          time: Date.UTC(2026, 0, 1) + n,
          data: { n },
        }),
      ),
    );
  }

  it('verifies a log longer than one batch and finds a change in the second batch', async () => {
    const lines = log(5000);
    expect(await verifyAuditLog(lines)).toMatchObject({ ok: true, records: 5000 });
    lines[4500] = (lines[4500] as string).replace('"n":4500', '"n":4501');
    expect(await verifyAuditLog(lines)).toMatchObject({ ok: false, problem: 'edited', firstBadLine: 4501 });
  });

  it('reads an array element holding a newline as an unreadable line', async () => {
    const batches = [];
    for await (const batch of linesFromArray(['{}', 'a\nb'])()) batches.push(...batch);
    expect(batches[1]).toEqual({
      text: undefined,
      bytes: 4,
      terminated: true,
      problem: 'contains a newline',
    });
  });
});

describe('parseAuditLine', () => {
  const [line] = (() => {
    const chain = createAuditChain();
    return [
      serializeAuditRecord(
        chain.next({ type: 'tool.executed', tenant: 't', session: 's', time: 0, data: {} }),
      ),
    ];
  })();

  it('calls a number JSON cannot hold data that cannot be serialised canonically', () => {
    const text = (line as string).replace('"data":{}', '"data":{"x":1e400}');
    expect(parseAuditLine(text)).toEqual({
      ok: false,
      reason: 'has data that cannot be serialised canonically',
    });
  });

  it('names the field a value of the wrong shape is in', () => {
    const text = (line as string).replace('"seq":0', '"seq":-1');
    expect(parseAuditLine(text)).toMatchObject({
      ok: false,
      reason: expect.stringContaining('has a "seq" that'),
    });
  });
});

describe('Merkle hashing of bytes', () => {
  const sha = (...parts: Uint8Array[]) => {
    const hash = createHash('sha256');
    for (const part of parts) hash.update(part);
    return new Uint8Array(hash.digest());
  };

  it('hashes a byte leaf as sha256(0x00 ‖ bytes), equal to the same text as a string', () => {
    const bytes = Buffer.from('{"a":"é"}');
    expect(new Uint8Array(hashMerkleLeaf(bytes))).toEqual(sha(Uint8Array.of(0), bytes));
    expect(new Uint8Array(hashMerkleLeaf('{"a":"é"}'))).toEqual(sha(Uint8Array.of(0), bytes));
  });

  it('hashes children of any length as sha256(0x01 ‖ left ‖ right)', () => {
    const left = Uint8Array.of(1, 2, 3);
    const right = new Uint8Array(40).fill(7);
    expect(new Uint8Array(hashMerkleChildren(left, right))).toEqual(sha(Uint8Array.of(1), left, right));
    const a = new Uint8Array(32).fill(1);
    const b = new Uint8Array(32).fill(2);
    expect(new Uint8Array(hashMerkleChildren(a, b))).toEqual(sha(Uint8Array.of(1), a, b));
  });
});
