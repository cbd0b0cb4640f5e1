import { AUDIT_EVENT_TYPES, type AuditEvent, AuditError, canonicalJson, sha256 } from '@ape/core';
import { eventDataText, prepareEventDataWithText, type RedactionOptions } from './redact.js';

/** One line of an audit log. See docs/audit.md for the normative format. */
export interface AuditRecord {
  /** Position in the file's chain: 0 for the first record, then +1 per record. */
  readonly seq: number;
  /** ISO-8601 UTC with milliseconds (`2026-01-01T00:00:00.000Z`), from the event's `time`. */
  readonly ts: string;
  readonly tenant: string;
  readonly session: string;
  /** The event type (`noun.verb`, see core `AUDIT_EVENT_TYPES`). */
  readonly type: string;
  readonly data: Readonly<Record<string, unknown>>;
  /** `hash` of the previous record in the file, {@link AUDIT_GENESIS_HASH} for the first. */
  readonly prev: string;
  /** Lower-case hex sha256 of the canonical JSON of this record without `hash`. */
  readonly hash: string;
}

/** A record before its hash is computed: the exact input of {@link hashAuditRecord}. */
export type AuditRecordBody = Omit<AuditRecord, 'hash'>;

/** The `prev` of the first record of every file: 64 zeros. */
export const AUDIT_GENESIS_HASH = '0'.repeat(64);

/** Default cap on the UTF-8 size of one log line (without its `\n`), for writers and readers: 1 MiB. */
export const MAX_AUDIT_LINE_BYTES = 1_048_576;

/** The position of the next record in a chain. */
export interface AuditChainPosition {
  /** The `seq` the next record gets. */
  readonly seq: number;
  /** The `hash` of the last record, or {@link AUDIT_GENESIS_HASH} for an empty chain. */
  readonly prev: string;
}

/** @internal Every `ts` an APE writer produces matches this; verifiers require it. */
export const TIMESTAMP_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** sha256 (lower-case hex) of the canonical JSON of a record body. */
export function hashAuditRecord(body: AuditRecordBody): string {
  return sha256(
    canonicalJson({
      seq: body.seq,
      ts: body.ts,
      tenant: body.tenant,
      session: body.session,
      type: body.type,
      data: body.data,
      prev: body.prev,
    }),
  );
}

/** The canonical JSON line of a record, without the trailing `\n`. */
export function serializeAuditRecord(record: AuditRecord): string {
  return canonicalJson({
    seq: record.seq,
    ts: record.ts,
    tenant: record.tenant,
    session: record.session,
    type: record.type,
    data: record.data,
    prev: record.prev,
    hash: record.hash,
  });
}

/** @internal A record together with its line (canonical JSON, without `\n`). */
export interface AuditRecordWithLine {
  readonly record: AuditRecord;
  readonly line: string;
}

/**
 * Builds the record for `event` at `position`: validates the event, applies the sink-side redaction
 * (`options`, on by default), copies `data` and computes `hash`. Pure; the result is deep-frozen.
 *
 * @throws AuditError (`AUDIT_FAILURE`) when the event is malformed (empty tenant, bad time, non-JSON
 * or `__proto__`-keyed data); a sink rejects the append, and the runtime fails closed.
 */
export function createAuditRecord(
  event: AuditEvent,
  position: AuditChainPosition,
  options: RedactionOptions = {},
): AuditRecord {
  return createAuditRecordWithLine(event, position, options).record;
}

/**
 * @internal {@link createAuditRecord} plus the record's line, serialising `data` once: the record's
 * canonical JSON has its keys in the order `data, hash, prev, seq, session, tenant, ts, type`, so the
 * hashed text (without `hash`) is `{"data":D,REST}` and the line is `{"data":D,"hash":"H",REST}`.
 * Equal, byte for byte, to `serializeAuditRecord(record)`.
 */
export function createAuditRecordWithLine(
  event: AuditEvent,
  position: AuditChainPosition,
  options: RedactionOptions = {},
): AuditRecordWithLine {
  const checked = checkEvent(event);
  const prepared = prepareEventDataWithText(event.data, options);
  const data = freezeParsed(prepared.data) as Readonly<Record<string, unknown>>;
  const { line, hash } = lineOf(partsOf(checked, prepared.text, position.seq), position.prev);
  const record: AuditRecord = Object.freeze({
    seq: position.seq,
    ts: checked.ts,
    tenant: checked.tenant,
    session: checked.session,
    type: checked.type,
    data,
    prev: position.prev,
    hash,
  });
  return { record, line };
}

/** @internal What a sink that keeps lines (not record objects) needs of a new record. */
export interface AuditLine {
  readonly line: string;
  readonly hash: string;
}

/**
 * @internal The line and hash {@link createAuditRecordWithLine} gives, without building the record:
 * the event data is serialised once and copied only when redaction changes it. Same checks, same
 * errors, same bytes.
 */
export function createAuditLine(
  event: AuditEvent,
  position: AuditChainPosition,
  options: RedactionOptions = {},
): AuditLine {
  const fields = createAuditRecordFields(event, options);
  return lineOf(partsOf(fields, fields.data, position.seq), position.prev);
}

/** An event's fields around its data, as checked. */
interface CheckedEvent {
  /** The record's `ts`, from the event's `time`. */
  readonly ts: string;
  readonly tenant: string;
  readonly session: string;
  readonly type: string;
}

/**
 * Checks the event's fields around its data. Each is read once, so the strings checked are the
 * strings written (an accessor that answers differently on a second read changes nothing).
 */
function checkEvent(event: AuditEvent): CheckedEvent {
  if (typeof event !== 'object' || event === null) throw new AuditError('An audit event must be an object.');
  const { tenant, session, type, time } = event;
  requireText(tenant, 'tenant');
  requireText(session, 'session');
  requireText(type, 'type');
  return { ts: timestampOf(time), tenant, session, type };
}

/**
 * The record's canonical JSON has its keys in the order `data, hash, prev, seq, session, tenant,
 * ts, type`: the hashed text (without `hash`) is `{"data":D,REST}` and the line `{"data":D,"hash":"H",REST}`,
 * with `REST` the `prev` and the parts' tail.
 */
function lineOf(parts: AuditLineParts, prev: string): AuditLine {
  // `+`, not template literals: this runs four times per gated step, and V8 builds a template with
  // more work per piece.
  const rest = '"prev":' + (prev === lastHash ? '"' + lastHash + '"' : canonicalJson(prev)) + parts.tail;
  const head = parts.head;
  // Hashing flattens `hashed` into one string; the line is cut from it, so a line kept in memory
  // holds a few string pieces, not the tree of pieces the serialiser concatenated (which made
  // every collection of a long in-memory log slower).
  const hashed = head + rest;
  const hash = sha256(hashed);
  // The next record's `prev` (lower-case hex: nothing in it needs an escape).
  lastHash = hash;
  return { line: hashed.slice(0, head.length) + '"hash":"' + hash + '",' + hashed.slice(head.length), hash };
}

/**
 * The parts of a record's line: the head around its data text, and the tail after its `prev`
 * (`,"seq":N,"session":S,"tenant":T,"ts":"TS","type":Y}`). `ts` matched TIMESTAMP_PATTERN
 * (`timestampOf`): nothing in it needs an escape.
 */
function partsOf(event: CheckedEvent, dataText: string, seq: number): AuditLineParts {
  const tail =
    ',"seq":' +
    canonicalJson(seq) +
    ',"session":' +
    sessionJson.of(event.session) +
    ',"tenant":' +
    tenantJson.of(event.tenant) +
    ',"ts":"' +
    event.ts +
    '","type":' +
    (KNOWN_TYPE_JSON.get(event.type) ?? canonicalJson(event.type)) +
    '}';
  return { head: '{"data":' + dataText + ',', tail };
}

/**
 * @internal The parts of a record's line that the file sink's writer thread does not build itself.
 * With `P` the previous hash, `H` the record's hash, `N` its seq, and `S`, `T`, `TS`, `Y` the
 * canonical JSON of `event.session`, `event.tenant`, `ts` and `event.type`, the hashed text is
 * `{"data":D,"prev":"P","seq":N,"session":S,"tenant":T,"ts":TS,"type":Y}` (`D` is `data`) and the
 * line is that text with `"hash":"H",` before `"prev"`: the bytes {@link createAuditLine} gives.
 */
export interface AuditRecordFields {
  /** The event's data as its line holds it (canonical JSON, redacted). */
  readonly data: string;
  /** The record's `ts` (matches {@link TIMESTAMP_PATTERN}). */
  readonly ts: string;
  readonly session: string;
  readonly tenant: string;
  readonly type: string;
}

/**
 * @internal What a line is made of besides the thread's own text (see {@link AuditRecordFields}):
 * the event's checks, errors and redaction, without the hash or the tail.
 */
export function createAuditRecordFields(
  event: AuditEvent,
  options: RedactionOptions = {},
): AuditRecordFields {
  const { ts, tenant, session, type } = checkEvent(event);
  return { data: eventDataText(event.data, options), ts, session, tenant, type };
}

/** @internal The exact UTF-8 size of the line of a record with `fields` at `seq` (without `\n`). */
export function auditLineBytes(fields: AuditRecordFields, seq: number): number {
  const { head, tail } = partsOf(fields, fields.data, seq);
  return Buffer.byteLength(head, 'utf8') + Buffer.byteLength(tail, 'utf8') + LINE_BYTES_BESIDES_PARTS;
}

/** What a line holds besides its parts: `"hash":"H",` and `"prev":"P"` (64 hex digits each). */
const LINE_BYTES_BESIDES_PARTS = '"hash":"'.length + 64 + '",'.length + '"prev":"'.length + 64 + '"'.length;

/**
 * The line of `event` at `seq` without its `prev` and `hash`: with `P` the previous hash, the hashed
 * text is `head + '"prev":"' + P + '"' + tail`.
 */
interface AuditLineParts {
  /** `{"data":D,` */
  readonly head: string;
  /** `,"seq":N,…}` */
  readonly tail: string;
}

/*
 * The fields around a record's data repeat from record to record: the previous record's hash is the
 * next one's `prev`, and a log's records share a few sessions and one tenant. Their canonical JSON is
 * not worked out again for each record (scanning each string for characters to escape, four times
 * per gated step). Each memo answers exactly the text `canonicalJson` gives for its string, so a miss
 * (another chain, another session) only costs the scan.
 */

/** The hash of the last line built (any chain): lower-case hex, which needs no escape. */
let lastHash = '';

/** Remembers the canonical JSON of the last string it was asked for. */
class LastStringJson {
  #text: string | undefined;
  #json = '';

  of(text: string): string {
    if (text !== this.#text) {
      this.#json = canonicalJson(text);
      this.#text = text;
    }
    return this.#json;
  }
}

const sessionJson = new LastStringJson();
const tenantJson = new LastStringJson();

/** The JSON of the runtime's event types (a type from elsewhere is serialised as it comes). */
const KNOWN_TYPE_JSON: ReadonlyMap<string, string> = new Map(
  AUDIT_EVENT_TYPES.map((type) => [type, canonicalJson(type)]),
);

/** A running hash chain: turns events into consecutive records. One per file (or per memory log). */
export interface AuditChain {
  /** Where the next record goes. */
  readonly position: AuditChainPosition;
  /** Builds the next record and advances the chain; on a throw the chain does not move. */
  next(event: AuditEvent): AuditRecord;
}

/** @internal A chain that also hands out each record's line (see {@link createAuditRecordWithLine}). */
export interface AuditLineChain extends AuditChain {
  /** Like `next`, returning the record's line too. */
  nextWithLine(event: AuditEvent): AuditRecordWithLine;
  /** Like `next`, returning only the line and hash (no record object is built). */
  nextLine(event: AuditEvent): AuditLine;
}

/**
 * Creates a chain starting at `start` (default: seq 0 after the genesis hash), applying `options`
 * redaction to every record. All sinks build records through this one implementation.
 */
export function createAuditChain(
  start: AuditChainPosition = { seq: 0, prev: AUDIT_GENESIS_HASH },
  options: RedactionOptions = {},
): AuditChain {
  return createAuditLineChain(start, options);
}

/** @internal {@link createAuditChain} with `nextWithLine`. */
export function createAuditLineChain(
  start: AuditChainPosition = { seq: 0, prev: AUDIT_GENESIS_HASH },
  options: RedactionOptions = {},
): AuditLineChain {
  let position: AuditChainPosition = { seq: start.seq, prev: start.prev };
  const redaction: RedactionOptions = { ...options };
  const nextWithLine = (event: AuditEvent): AuditRecordWithLine => {
    const built = createAuditRecordWithLine(event, position, redaction);
    position = { seq: built.record.seq + 1, prev: built.record.hash };
    return built;
  };
  return {
    get position() {
      return position;
    },
    next(event) {
      return nextWithLine(event).record;
    },
    nextWithLine,
    nextLine(event) {
      const built = createAuditLine(event, position, redaction);
      position = { seq: position.seq + 1, prev: built.hash };
      return built;
    },
  };
}

function requireText(value: unknown, field: string): asserts value is string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new AuditError(`Audit event field "${field}" must be a non-empty string.`, { field });
  }
}

/**
 * Deep-freezes a value parsed by `JSON.parse` (plain objects, arrays and primitives only, no
 * accessors, nesting bounded by the canonical JSON depth limit it was checked against).
 */
function freezeParsed(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) freezeParsed(value[index]);
  } else {
    for (const key of Object.keys(value)) freezeParsed((value as Record<string, unknown>)[key]);
  }
  return Object.freeze(value);
}

const MAX_DATE_MS = 8.64e15;

/** The last time formatted (records of one step mostly share a millisecond). */
let lastTime = Number.NaN;
let lastTimestamp = '';

function timestampOf(time: unknown): string {
  if (time === lastTime) return lastTimestamp;
  if (typeof time === 'number' && Number.isFinite(time) && Math.abs(time) <= MAX_DATE_MS) {
    const ts = new Date(time).toISOString();
    if (TIMESTAMP_PATTERN.test(ts)) {
      lastTime = time;
      lastTimestamp = ts;
      return ts;
    }
  }
  throw new AuditError(
    `Audit event field "time" must be epoch milliseconds between years 0 and 9999, got ${String(time)}.`,
    { field: 'time' },
  );
}
