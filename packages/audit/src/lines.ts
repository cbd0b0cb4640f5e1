import { isAscii, isUtf8 } from 'node:buffer';
import { createReadStream } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { MAX_CANONICAL_DEPTH, sha256 } from '@ape/core';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import recordSchema from '../schema/audit-record.json';
import { type AuditRecord, MAX_AUDIT_LINE_BYTES, serializeAuditRecord } from './record.js';
import { isPlainObject } from './redact.js';

/** @internal One line of a log as read: its text (unless unreadable), size and whether `\n` ended it. */
export interface RawLine {
  /** The decoded line without its `\n`; `undefined` when it was too long or not UTF-8 (see `problem`). */
  readonly text: string | undefined;
  /** Bytes the line occupies in the file, including its `\n` when terminated. */
  readonly bytes: number;
  readonly terminated: boolean;
  readonly problem?: string;
}

/**
 * @internal A restartable sequence of lines (the verifier reads twice when it finds a problem), in
 * batches: one batch per chunk read, so a million-line log costs thousands of awaits, not millions.
 */
export type LineSource = () => AsyncIterable<readonly RawLine[]>;

/** @internal The result of parsing one line. */
export type ParsedLine =
  | { readonly ok: true; readonly record: AuditRecord; readonly selfValid: boolean }
  | { readonly ok: false; readonly reason: string };

const NEWLINE = 0x0a;
/** @internal Bytes read at a time from a log file. */
export const CHUNK_BYTES = 262_144;
const ARRAY_BATCH = 4096;

/** @internal Lines of an in-memory log; every element counts as a terminated line, a final `''` is ignored. */
export function linesFromArray(lines: readonly string[], maxLineBytes = MAX_AUDIT_LINE_BYTES): LineSource {
  return async function* () {
    const count = lines.length > 0 && lines[lines.length - 1] === '' ? lines.length - 1 : lines.length;
    let batch: RawLine[] = [];
    for (let index = 0; index < count; index++) {
      const text = lines[index] ?? '';
      const bytes = Buffer.byteLength(text, 'utf8') + 1;
      if (text.includes('\n'))
        batch.push({ text: undefined, bytes, terminated: true, problem: 'contains a newline' });
      else if (bytes - 1 > maxLineBytes) batch.push(tooLong(bytes, true, maxLineBytes));
      else batch.push({ text, bytes, terminated: true });
      if (batch.length === ARRAY_BATCH) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
  };
}

/** @internal Lines of a file, streamed. */
export function linesFromFile(path: string, maxLineBytes = MAX_AUDIT_LINE_BYTES): LineSource {
  return () => splitLines(fileChunks(path), maxLineBytes);
}

/** @internal The bytes of a file, streamed in chunks of `chunkBytes` (default {@link CHUNK_BYTES}). */
export function fileChunks(path: string, chunkBytes = CHUNK_BYTES): AsyncIterable<Uint8Array> {
  return createReadStream(path, { highWaterMark: chunkBytes });
}

/** @internal Lines of an open file handle, read by position (the handle stays open). */
export function linesFromHandle(handle: FileHandle, maxLineBytes = MAX_AUDIT_LINE_BYTES): LineSource {
  return () => splitLines(readChunks(handle), maxLineBytes);
}

async function* readChunks(handle: FileHandle): AsyncIterable<Uint8Array> {
  let position = 0;
  for (;;) {
    const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, CHUNK_BYTES, position);
    if (bytesRead === 0) return;
    position += bytesRead;
    yield buffer.subarray(0, bytesRead);
  }
}

/**
 * @internal Splits bytes on `\n` only (never `\r`), bounding memory per line to `maxLineBytes`; one
 * batch of lines per chunk. A line must be well-formed UTF-8 (checked on the bytes, so a byte-order
 * mark is kept as text and never silently dropped). The whole lines of a chunk that are all ASCII
 * (the usual log) are decoded with one call and cut from that text: the same lines, without a
 * Buffer and a decoding per line.
 */
export async function* splitLines(
  chunks: AsyncIterable<Uint8Array>,
  maxLineBytes: number,
): AsyncIterable<readonly RawLine[]> {
  let parts: Uint8Array[] = [];
  let length = 0;
  const finish = (terminated: boolean): RawLine => {
    const bytes = length + (terminated ? 1 : 0);
    if (length > maxLineBytes) return tooLong(bytes, terminated, maxLineBytes);
    const joined = parts.length === 1 ? parts[0]! : Buffer.concat(parts, length);
    if (!isUtf8(joined)) return { text: undefined, bytes, terminated, problem: 'is not valid UTF-8' };
    const text = Buffer.from(joined.buffer, joined.byteOffset, joined.byteLength).toString('utf8');
    return { text, bytes, terminated };
  };
  /** Adds the bytes `chunk[start, end)` to the line being read. */
  const take = (chunk: Uint8Array, start: number, end: number) => {
    length += end - start;
    if (length <= maxLineBytes) parts.push(chunk.subarray(start, end));
  };
  const newLine = (batch: RawLine[]) => {
    batch.push(finish(true));
    parts = [];
    length = 0;
  };
  for await (const chunk of chunks) {
    const batch: RawLine[] = [];
    let start = 0;
    const last = chunk.lastIndexOf(NEWLINE);
    if (last !== -1 && length > 0) {
      // The line carried over from the previous chunk ends at this chunk's first newline.
      const end = chunk.indexOf(NEWLINE);
      take(chunk, 0, end);
      newLine(batch);
      start = end + 1;
    }
    if (last >= start) {
      const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      if (isAscii(bytes.subarray(start, last + 1))) {
        asciiLines(bytes, start, last + 1, maxLineBytes, batch);
      } else {
        for (let end = chunk.indexOf(NEWLINE, start); end !== -1; end = chunk.indexOf(NEWLINE, start)) {
          take(chunk, start, end);
          newLine(batch);
          start = end + 1;
        }
      }
      start = last + 1;
    }
    if (start < chunk.length) take(chunk, start, chunk.length);
    if (batch.length > 0) yield batch;
  }
  if (length > 0) yield [finish(false)];
}

/**
 * Bytes decoded at once by {@link asciiLines}: a string over 128 KiB goes to V8's large-object
 * space, which made decoding about 40 times slower per byte here than in 64 KiB pieces.
 */
const ASCII_WINDOW = 65_536;

/** Adds the lines of `bytes[start, end)` (ASCII, every line ending in `\n`): one byte per character. */
function asciiLines(bytes: Buffer, start: number, end: number, maxLineBytes: number, batch: RawLine[]): void {
  let at = start;
  while (at < end) {
    // Whole lines of at most ASCII_WINDOW bytes, or the one longer line that starts at `at`.
    let stop = bytes.lastIndexOf(NEWLINE, Math.min(at + ASCII_WINDOW, end) - 1) + 1;
    if (stop <= at) {
      stop = bytes.indexOf(NEWLINE, at) + 1;
      if (stop - 1 - at > maxLineBytes) {
        batch.push(tooLong(stop - at, true, maxLineBytes));
        at = stop;
        continue;
      }
    }
    const text = bytes.toString('latin1', at, stop);
    let from = 0;
    for (let newline = text.indexOf('\n'); newline !== -1; newline = text.indexOf('\n', from)) {
      const size = newline - from;
      batch.push(
        size > maxLineBytes
          ? tooLong(size + 1, true, maxLineBytes)
          : { text: text.slice(from, newline), bytes: size + 1, terminated: true },
      );
      from = newline + 1;
    }
    at = stop;
  }
}

function tooLong(bytes: number, terminated: boolean, maxLineBytes: number): RawLine {
  return { text: undefined, bytes, terminated, problem: `is longer than ${maxLineBytes} bytes` };
}

/**
 * @internal Parses one line into a record. `ok: false` when it is not a record at all (not JSON, wrong
 * shape, a `__proto__` key); `selfValid: false` when it is a record whose line is not its canonical
 * JSON or whose `hash` does not match its content.
 */
export function parseAuditLine(text: string): ParsedLine {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'is not JSON' };
  }
  const reason = shapeProblem(value);
  if (reason !== undefined) return { ok: false, reason };
  const record = value as AuditRecord;
  if (!isCanonicalParse(record, text)) {
    let canonical: string;
    try {
      canonical = serializeAuditRecord(record);
    } catch {
      return { ok: false, reason: 'has data that cannot be serialised canonically' };
    }
    if (canonical !== text) return { ok: true, record, selfValid: false };
  }
  return { ok: true, record, selfValid: sha256(hashInputOfCanonicalLine(text)) === record.hash };
}

/**
 * @internal Fast proof that `text` is the canonical JSON of `value` (its `JSON.parse` result): the
 * native `JSON.stringify` prints strings and numbers exactly as `canonicalJson` does, so when it
 * reproduces `text` and every object's keys already come in canonical order (UTF-16 code units,
 * which also rules out integer-like keys that JavaScript enumerates first), `canonicalJson(value)`
 * is `text` too. `false` means "not proven" (the caller then serialises canonically); never a
 * false `true`.
 */
export function isCanonicalParse(value: unknown, text: string): boolean {
  return keysInCanonicalOrder(value, 0) && JSON.stringify(value) === text;
}

function keysInCanonicalOrder(value: unknown, depth: number): boolean {
  if (typeof value !== 'object' || value === null) return true;
  if (depth >= MAX_CANONICAL_DEPTH) return false;
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      if (!keysInCanonicalOrder(value[index], depth + 1)) return false;
    }
    return true;
  }
  const keys = Object.keys(value);
  for (let index = 0; index < keys.length; index++) {
    const key = keys[index] as string;
    if (index > 0 && !((keys[index - 1] as string) < key)) return false;
    if (!keysInCanonicalOrder((value as Record<string, unknown>)[key], depth + 1)) return false;
  }
  return true;
}

const HASH_MEMBER = ',"hash":"';
const HASH_MEMBER_LENGTH = HASH_MEMBER.length + 64 + 1;

/**
 * @internal The hash input of a canonical record line: the line without its `,"hash":"…"` member
 * (see `createAuditRecordWithLine`). The top-level member is the last occurrence: only `data` comes
 * before it, and the fields after it are hex, a number and strings, which cannot hold an unescaped
 * quote. Equal to the canonical JSON `hashAuditRecord` hashes, without serialising again.
 */
export function hashInputOfCanonicalLine(line: string): string {
  const at = line.lastIndexOf(HASH_MEMBER);
  return line.slice(0, at) + line.slice(at + HASH_MEMBER_LENGTH);
}

let validateRecord: ValidateFunction | undefined;

/** The record schema (`@ape/audit/schema/audit-record.json`), compiled once on first use. */
function recordValidator(): ValidateFunction {
  validateRecord ??= new Ajv2020({ allErrors: false, strict: true }).compile(recordSchema);
  return validateRecord;
}

function shapeProblem(value: unknown): string | undefined {
  if (!isPlainObject(value)) return 'is not a JSON object';
  const validate = recordValidator();
  if (!validate(value)) {
    const error = validate.errors?.[0];
    if (error?.keyword === 'additionalProperties') {
      return `has an unknown field "${String((error.params as { additionalProperty?: unknown }).additionalProperty)}"`;
    }
    if (error?.keyword === 'required') {
      return `misses the field "${String((error.params as { missingProperty?: unknown }).missingProperty)}"`;
    }
    const field = error?.instancePath.slice(1) || 'record';
    return `has a "${field}" that does not fit the record schema (${error?.message ?? 'invalid'})`;
  }
  const { ts, data } = value as { ts: string; data: unknown };
  if (!isRealDate(ts)) return 'has a malformed "ts"';
  if (hasProtoKey(data, 0)) return 'has a "__proto__" key in "data"';
  return undefined;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * True when `ts` (already matching the schema's `YYYY-MM-DDTHH:mm:ss.sssZ` pattern) names a real
 * instant exactly as `Date.prototype.toISOString` prints it: month 1–12, a day that month has (leap
 * years by the Gregorian rule), hour 0–23, minute and second 0–59. Same answer as a `Date` round
 * trip, without building one per record.
 */
export function isRealDate(ts: string): boolean {
  return isRealDateAt(ts, 0);
}

/**
 * @internal {@link isRealDate} of the 24 characters of `text` from `at`, read in place (the
 * verifier's fast path checks the `ts` inside a line without cutting it out).
 */
export function isRealDateAt(text: string, at: number): boolean {
  const year = digitsAt(text, at, 4);
  const month = digitsAt(text, at + 5, 2);
  const day = digitsAt(text, at + 8, 2);
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = month === 2 && leap ? 29 : (DAYS_IN_MONTH[month - 1] as number);
  if (day > days) return false;
  return (
    digitsAt(text, at + 11, 2) < 24 && digitsAt(text, at + 14, 2) < 60 && digitsAt(text, at + 17, 2) < 60
  );
}

/** The value of `count` decimal digits of `text` from `at` (the caller checked they are digits). */
function digitsAt(text: string, at: number, count: number): number {
  let value = 0;
  for (let index = at; index < at + count; index++) value = value * 10 + text.charCodeAt(index) - 0x30;
  return value;
}

function hasProtoKey(value: unknown, depth: number): boolean {
  if (depth > MAX_CANONICAL_DEPTH) return false;
  if (Array.isArray(value)) return value.some((item) => hasProtoKey(item, depth + 1));
  if (typeof value !== 'object' || value === null) return false;
  for (const key of Object.keys(value)) {
    if (key === '__proto__' || hasProtoKey((value as Record<string, unknown>)[key], depth + 1)) return true;
  }
  return false;
}
