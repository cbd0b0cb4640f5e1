import { AuditError, CanonicalJsonError, canonicalJson, hashCanonical } from '@ape/core';

/** What a sink does to event data before recording it (defence in depth: the runtime redacts first). */
export interface RedactionOptions {
  /**
   * Default `true`: `data.args` is replaced by {@link redactArgs} and properties named like secrets
   * (`tokenId`, `token_id`, `secret`) are replaced by `"[redacted]"` at any depth. `false` records
   * `data` exactly as received.
   */
  readonly redact?: boolean;
  /** Argument names whose values are logged as they are (under `fields`); all others only by name. */
  readonly logFields?: readonly string[];
}

/** The logged form of a call's arguments: a digest, the sorted names, and the opted-in values. */
export interface RedactedArgs {
  /** Lower-case hex sha256 of the canonical JSON of the arguments (core `hashCanonical`). */
  readonly argsDigest: string;
  /** The argument names, sorted; empty when the arguments are not an object. */
  readonly argNames: readonly string[];
  /** Values of the arguments named in `logFields`, present only when at least one was logged. */
  readonly fields?: Readonly<Record<string, unknown>>;
}

/** Replacement written instead of a property whose name marks it as a secret. */
export const REDACTED_VALUE = '[redacted]';

const HEX_DIGEST = /^[0-9a-f]{64}$/;
const REDACTED_KEYS: ReadonlySet<string> = new Set(['argsDigest', 'argNames', 'fields']);

/**
 * Turns a call's arguments into their loggable form: `{ argsDigest, argNames }`, plus `fields` with
 * the values of the names listed in `logFields`. Hosts use it to log arguments the way the sinks do.
 *
 * @throws CanonicalJsonError (`NON_JSON_VALUE`) when `args` is not plain JSON.
 */
export function redactArgs(args: unknown, logFields: readonly string[] = []): RedactedArgs {
  const argsDigest = hashCanonical(args);
  if (!isPlainObject(args)) return { argsDigest, argNames: [] };
  const argNames = Object.keys(args).sort();
  let fields: Record<string, unknown> | undefined;
  for (const name of logFields) {
    if (name === '__proto__' || !Object.hasOwn(args, name)) continue;
    fields ??= {};
    fields[name] = args[name];
  }
  return fields === undefined ? { argsDigest, argNames } : { argsDigest, argNames, fields };
}

/** @internal Event data prepared for a record, with its canonical JSON text. */
export interface PreparedEventData {
  readonly data: Record<string, unknown>;
  /** `canonicalJson(data)`, computed once. */
  readonly text: string;
}

/**
 * @internal A deep, plain-JSON copy of event data with the sink-side redaction applied.
 * @throws AuditError (`AUDIT_FAILURE`) when the data is not plain JSON or holds a `__proto__` key.
 */
export function prepareEventData(data: unknown, options: RedactionOptions): Record<string, unknown> {
  return prepareEventDataWithText(data, options).data;
}

/**
 * @internal {@link prepareEventData} plus the canonical JSON of the result. The canonical text of the
 * input is reused when redaction changes nothing (a copy parsed from canonical text re-serialises
 * to the same text), so data is serialised once on the common path.
 * @throws AuditError (`AUDIT_FAILURE`) when the data is not plain JSON or holds a `__proto__` key.
 */
export function prepareEventDataWithText(data: unknown, options: RedactionOptions): PreparedEventData {
  return prepareFromText(canonicalDataText(data), options);
}

/**
 * @internal The canonical JSON of the event data as it will be recorded (after the sink-side
 * redaction), without building a copy when the redaction changes nothing: the data is first
 * serialised (which refuses accessors, proxies and non-JSON values, so reading it afterwards runs no
 * code), then walked once for what redaction or the `__proto__` refusal would touch; only then is a
 * copy made. Equal to `prepareEventDataWithText(data, options).text`.
 * @throws AuditError (`AUDIT_FAILURE`) as {@link prepareEventDataWithText} does.
 */
export function eventDataText(data: unknown, options: RedactionOptions): string {
  const text = canonicalDataText(data);
  // A text that starts with `{` is that of a non-array object; asking the value, not the text, leaves
  // the text unflattened until it is hashed (reading a character of a concatenated string copies it).
  if (isPlainObject(data) && !needsRedaction(data, options.redact !== false, true)) return text;
  return prepareFromText(text, options).text;
}

function canonicalDataText(data: unknown): string {
  try {
    return canonicalJson(data);
  } catch (error) {
    const path = CanonicalJsonError.isInstance(error) ? String(error.details.path ?? '$') : '$';
    throw new AuditError(
      `Audit event data is not plain JSON at ${path.replace(/^\$/, 'data')}.`,
      { path },
      {
        cause: error,
      },
    );
  }
}

/**
 * Whether `value` (plain JSON, already serialised) holds a `__proto__` key or, with `redact`, a
 * secret-named key or unredacted top-level `args`: what {@link prepareFromText} would refuse or change.
 *
 * Keys are walked with `for...in`, which reads V8's enumeration cache of an object's shape instead of
 * building an array of its keys (about three times faster on a `decision.made` record's data). It
 * also visits inherited enumerable keys, which only an `Object.prototype` polluted by someone else
 * has: every own key is still checked, so such a key can only add a reason to answer `true` (and
 * then the copy is made and checked as before), never hide one.
 */
function needsRedaction(value: unknown, redact: boolean, top: boolean): boolean {
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      const item: unknown = value[index];
      if (typeof item === 'object' && item !== null && needsRedaction(item, redact, false)) return true;
    }
    return false;
  }
  const record = value as Record<string, unknown>;
  for (const key in record) {
    if (key === '__proto__') return true;
    if (redact && (isSecretKey(key) || (top && key === 'args' && !isAlreadyRedacted(record[key]))))
      return true;
    const item = record[key];
    if (typeof item === 'object' && item !== null && needsRedaction(item, redact, false)) return true;
  }
  return false;
}

/**
 * Whether `key` names a secret: `tokenId`, `token_id` or `secret`, whose values are replaced by
 * {@link REDACTED_VALUE}. Compared directly, not looked up in a set.
 */
function isSecretKey(key: string): boolean {
  return key === 'tokenId' || key === 'token_id' || key === 'secret';
}

function prepareFromText(text: string, options: RedactionOptions): PreparedEventData {
  // A private copy: the caller may mutate its object after append, and the record must not change.
  const copy: unknown = JSON.parse(text);
  if (!isPlainObject(copy)) throw new AuditError('Audit event data must be a JSON object.', { path: 'data' });
  const redact = options.redact !== false;
  let changed = false;
  if (redact && Object.hasOwn(copy, 'args') && !isAlreadyRedacted(copy['args'])) {
    rejectProtoKeys(copy['args'], 'data.args');
    copy['args'] = redactArgs(copy['args'], options.logFields);
    changed = true;
  }
  // One walk of the copy: refuses `__proto__` keys and, when redacting, replaces secret-named values.
  if (scrub(copy, 'data', redact)) changed = true;
  return { data: copy, text: changed ? canonicalJson(copy) : text };
}

function isAlreadyRedacted(value: unknown): boolean {
  if (!isPlainObject(value)) return false;
  if (typeof value['argsDigest'] !== 'string' || !HEX_DIGEST.test(value['argsDigest'])) return false;
  if (!Array.isArray(value['argNames'])) return false;
  return Object.keys(value).every((key) => REDACTED_KEYS.has(key));
}

function rejectProtoKeys(value: unknown, path: string): void {
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) rejectProtoKeys(value[index], `${path}[${index}]`);
  } else if (isPlainObject(value)) {
    for (const key of Object.keys(value)) {
      if (key === '__proto__') {
        throw new AuditError(`Audit event data holds a "__proto__" key at ${path}; it is refused.`, { path });
      }
      rejectProtoKeys(value[key], `${path}.${key}`);
    }
  }
}

/**
 * Refuses a `__proto__` key anywhere in `value` (a copy parsed from JSON) and, with `redact`,
 * replaces secret-named properties in place; `true` when it replaced any.
 */
function scrub(value: unknown, path: string, redact: boolean): boolean {
  if (typeof value !== 'object' || value === null) return false;
  let replaced = false;
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      const item: unknown = value[index];
      if (typeof item === 'object' && item !== null && scrub(item, `${path}[${index}]`, redact))
        replaced = true;
    }
    return replaced;
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (key === '__proto__') {
      throw new AuditError(`Audit event data holds a "__proto__" key at ${path}; it is refused.`, { path });
    }
    if (redact && isSecretKey(key)) {
      record[key] = REDACTED_VALUE;
      replaced = true;
    } else {
      const item = record[key];
      if (typeof item === 'object' && item !== null && scrub(item, `${path}.${key}`, redact)) replaced = true;
    }
  }
  return replaced;
}

/** @internal */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}
