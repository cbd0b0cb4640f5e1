import type { AuditEvent } from '../types.js';

/**
 * The event the runtime's recorder is appending, set only while its sink's `append` runs.
 * Module-private: no other code can set it, so an event equal to it is the runtime's own: a plain
 * object of the five event fields, frozen, with frozen data.
 */
let appending: AuditEvent | undefined;

/** @internal Marks `event` as the runtime's own for the duration of `append` (see {@link isAppendingRuntimeEvent}). */
export function beginRuntimeAppend(event: AuditEvent): void {
  appending = event;
}

/** @internal Ends what {@link beginRuntimeAppend} began, if `event` is still the one marked. */
export function endRuntimeAppend(event: AuditEvent): void {
  if (appending === event) appending = undefined;
}

/**
 * @internal True when `event` is the event the runtime's recorder is appending right now (a sink of
 * core may keep it as it is, without a copy).
 */
export function isAppendingRuntimeEvent(event: unknown): boolean {
  return event === appending && event !== undefined;
}
