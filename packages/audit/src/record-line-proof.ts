import { MAX_CANONICAL_DEPTH, sha256 } from '@ape/core';
import { isRealDateAt } from './lines.js';

const QUOTE = 0x22;
const COMMA = 0x2c;
const COLON = 0x3a;
const MINUS = 0x2d;
const ZERO = 0x30;
const NINE = 0x39;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
/** Digits of the longest integer taken: every integer of up to 15 digits is exact in a double. */
const MAX_INTEGER_DIGITS = 15;
/** A nested container this deep is left to the full parser (record 0, `data` 1, as `isCanonicalParse`). */
const DATA_DEPTH = 1;

const DATA_START = '{"data":';
/** `,"hash":"` + 64 hex + `"`: what the hash input leaves out (see `hashInputOfCanonicalLine`). */
const HASH_MEMBER_LENGTH = 9 + 64 + 1;
/** The members after `data`, up to `seq`'s digits: `,"hash":"` H `","prev":"` P `","seq":` N. */
const HASH_START = ',"hash":"';
const PREV_START = '","prev":"';
const SEQ_START = '","seq":';
const HASH_AT = HASH_START.length;
const PREV_AT = HASH_AT + 64 + PREV_START.length;
const SEQ_AT = PREV_AT + 64 + SEQ_START.length;
/** A character JSON.stringify prints as it is, in the plain subset: printable ASCII but `"` and `\\`. */
const PLAIN_CHARACTER = '[\\x20\\x21\\x23-\\x5b\\x5d-\\x7e]';
const PLAIN_TEXT = `${PLAIN_CHARACTER}+`;
/** From the comma after `seq`'s digits to the `ts` value: non-empty plain `session` and `tenant`. */
const SESSION_TO_TS = new RegExp(`,"session":"${PLAIN_TEXT}","tenant":"${PLAIN_TEXT}","ts":"`, 'y');
/**
 * The `ts` value (the schema's pattern) and a non-empty plain `type`, to the end of the line. One
 * sticky expression runs as native code, several times faster than a character loop in JavaScript.
 */
const TS_TO_END = new RegExp(
  `\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z","type":"${PLAIN_TEXT}"}$`,
  'y',
);

/**
 * @internal The verifier's fast path: proves, in one scan of `line` and one hash, that
 * `parseAuditLine(line)` would return `{ ok: true, selfValid: true }` with a record whose `seq` is
 * `seq` and whose `prev` is `prev`, and returns that record's `hash`; or returns `undefined` ("not
 * proven": the caller parses the line in full, which decides). Never a false proof, so the fast
 * path accepts nothing the full parser rejects. `seq` and `prev` are what the chain expects next:
 * `prev` must be 64 lower-case hex characters (the genesis value or a verified record's hash), so
 * comparing the line's `prev` with it also proves that field's form; the `hash` field is proven by
 * equality with the digest computed here, which is lower-case hex by construction.
 *
 * It proves only lines in a plain subset of canonical JSON, the one APE writers produce for usual
 * records: the eight fields in canonical order, strings of printable ASCII with nothing to escape
 * (`tenant`, `session`, `type` non-empty), integers of at most 15 digits without a fraction or an
 * exponent, `true`, `false`, `null`, objects with keys in strictly increasing order and no
 * `__proto__` key, nesting below the canonical depth limit. For such a line `JSON.stringify` of its
 * `JSON.parse` reproduces it byte for byte with keys in canonical order, so it is its canonical
 * JSON; the schema, the date and the `__proto__` checks of the full parser hold by construction.
 */
export function proveRecordLine(line: string, seq: number, prev: string): string | undefined {
  if (!line.startsWith(DATA_START) || line.charCodeAt(DATA_START.length) !== OPEN_OBJECT) return undefined;
  if (!(Number.isSafeInteger(seq) && seq >= 0) || prev.length !== 64) return undefined;
  const seqText = String(seq);
  if (seqText.length > MAX_INTEGER_DIGITS) return undefined;
  const dataEnd = endOfValue(line, DATA_START.length, DATA_DEPTH);
  if (dataEnd < 0) return undefined;
  // Fixed positions up to `seq`: the hash is checked against the digest below, `prev` against the
  // expected one (both 64 lower-case hex), `seq` against the expected digits.
  const hashAt = dataEnd + HASH_AT;
  const prevAt = dataEnd + PREV_AT;
  const seqAt = dataEnd + SEQ_AT;
  if (
    !line.startsWith(HASH_START, dataEnd) ||
    !line.startsWith(PREV_START, hashAt + 64) ||
    !line.startsWith(prev, prevAt) ||
    !line.startsWith(SEQ_START, prevAt + 64) ||
    !line.startsWith(seqText, seqAt)
  ) {
    return undefined;
  }
  SESSION_TO_TS.lastIndex = seqAt + seqText.length;
  if (!SESSION_TO_TS.test(line)) return undefined;
  const tsAt = SESSION_TO_TS.lastIndex;
  TS_TO_END.lastIndex = tsAt;
  if (!TS_TO_END.test(line) || !isRealDateAt(line, tsAt)) return undefined;
  const digest = sha256(line.slice(0, dataEnd) + line.slice(dataEnd + HASH_MEMBER_LENGTH));
  return line.startsWith(digest, hashAt) ? digest : undefined;
}

/**
 * The index after the value starting at `at` when it lies in the plain subset, else -1. `depth` is
 * the depth a container starting at `at` has (the `keysInCanonicalOrder` count).
 */
function endOfValue(line: string, at: number, depth: number): number {
  const first = line.charCodeAt(at);
  if (first === QUOTE) return endOfString(line, at + 1);
  if (first === OPEN_OBJECT) return depth >= MAX_CANONICAL_DEPTH ? -1 : endOfObject(line, at + 1, depth);
  if (first === OPEN_ARRAY) return depth >= MAX_CANONICAL_DEPTH ? -1 : endOfArray(line, at + 1, depth);
  if (first === MINUS || (first >= ZERO && first <= NINE)) return endOfInteger(line, at);
  if (line.startsWith('true', at) || line.startsWith('null', at)) return at + 4;
  if (line.startsWith('false', at)) return at + 5;
  return -1;
}

/** `at` is just after `{`. Keys strictly increasing by UTF-16 code units (here: ASCII bytes). */
function endOfObject(line: string, at: number, depth: number): number {
  if (line.charCodeAt(at) === CLOSE_OBJECT) return at + 1;
  let previousStart = -1;
  let previousEnd = -1;
  let position = at;
  for (;;) {
    if (line.charCodeAt(position) !== QUOTE) return -1;
    const keyStart = position + 1;
    const keyEnd = endOfString(line, keyStart) - 1;
    if (keyEnd < 0 || line.charCodeAt(keyEnd + 1) !== COLON) return -1;
    if (keyEnd - keyStart === 9 && line.startsWith('__proto__', keyStart)) return -1;
    if (previousStart >= 0 && !isBefore(line, previousStart, previousEnd, keyStart, keyEnd)) return -1;
    previousStart = keyStart;
    previousEnd = keyEnd;
    position = endOfValue(line, keyEnd + 2, depth + 1);
    if (position < 0) return -1;
    const next = line.charCodeAt(position);
    if (next === CLOSE_OBJECT) return position + 1;
    if (next !== COMMA) return -1;
    position++;
  }
}

/** `at` is just after `[`. */
function endOfArray(line: string, at: number, depth: number): number {
  if (line.charCodeAt(at) === CLOSE_ARRAY) return at + 1;
  let position = at;
  for (;;) {
    position = endOfValue(line, position, depth + 1);
    if (position < 0) return -1;
    const next = line.charCodeAt(position);
    if (next === CLOSE_ARRAY) return position + 1;
    if (next !== COMMA) return -1;
    position++;
  }
}

/** The rest of a plain string, closing quote included. */
const PLAIN_STRING_REST = new RegExp(`${PLAIN_CHARACTER}*"`, 'y');

/** `at` is just after the opening quote; returns the index after the closing quote. */
function endOfString(line: string, at: number): number {
  // A sticky regular expression runs as native code: several times faster than a charCodeAt loop.
  PLAIN_STRING_REST.lastIndex = at;
  return PLAIN_STRING_REST.test(line) ? PLAIN_STRING_REST.lastIndex : -1;
}

/** `0` or `-`? [1-9][0-9]* with at most {@link MAX_INTEGER_DIGITS} digits (never `-0`). */
function endOfInteger(line: string, at: number): number {
  const start = line.charCodeAt(at) === MINUS ? at + 1 : at;
  const first = line.charCodeAt(start);
  if (first === ZERO) return start === at ? start + 1 : -1;
  if (!(first > ZERO && first <= NINE)) return -1;
  let position = start + 1;
  while (isDigit(line.charCodeAt(position))) position++;
  return position - start > MAX_INTEGER_DIGITS ? -1 : position;
}

function isDigit(code: number): boolean {
  return code >= ZERO && code <= NINE;
}

/** True when `line[aStart, aEnd)` sorts strictly before `line[bStart, bEnd)` by code units. */
function isBefore(line: string, aStart: number, aEnd: number, bStart: number, bEnd: number): boolean {
  const aLength = aEnd - aStart;
  const bLength = bEnd - bStart;
  const common = Math.min(aLength, bLength);
  for (let index = 0; index < common; index++) {
    const a = line.charCodeAt(aStart + index);
    const b = line.charCodeAt(bStart + index);
    if (a !== b) return a < b;
  }
  return aLength < bLength;
}
