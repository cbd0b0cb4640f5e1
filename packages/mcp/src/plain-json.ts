import { RELATED_TASK_META_KEY } from '@modelcontextprotocol/sdk/types.js';

// Checks of JSON values against the MCP SDK's schemas without running them, for the messages of
// nearly every exchange: each accepts a subset of what the schema accepts, chosen so that the
// schema would return the value unchanged (property tests in direct-calls.test.ts and
// stdio.test.ts hold them to the schemas).

const OBJECT_PROTOTYPE = Object.prototype;

/** An object as `JSON.parse` makes it (not an array, a class instance or `null`). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === OBJECT_PROTOTYPE;
}

/**
 * A plain object the SDK's schemas copy key by key (a record, a loose object): without a key named
 * `__proto__` of its own, which a copy by assignment would not keep.
 */
export function isOpenRecord(value: unknown): value is Record<string, unknown> {
  return isPlainObject(value) && !Object.hasOwn(value, '__proto__');
}

/** A `_meta` without the keys the SDK's schemas check (a progress token, a related task). */
export function isPlainMeta(value: unknown): boolean {
  return (
    isOpenRecord(value) &&
    !Object.hasOwn(value, 'progressToken') &&
    !Object.hasOwn(value, RELATED_TASK_META_KEY)
  );
}

/** A JSON-RPC request id the SDK's `RequestIdSchema` accepts: a string or a safe integer. */
export function isRequestId(value: unknown): boolean {
  return typeof value === 'string' || Number.isSafeInteger(value);
}
