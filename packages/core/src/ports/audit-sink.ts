import type { AuditEvent } from '../types.js';

/**
 * Where the runtime records every decision and lifecycle event. `@ape/audit` ships memory, JSON
 * Lines file, console and tee sinks; implement this to send events elsewhere.
 *
 * Contract:
 * - Called by the runtime for every event, in order, for one session at a time per runtime (several
 *   runtimes may share a sink; the sink serialises appends).
 * - `append` must not drop an event: when it cannot keep up it applies back-pressure (returns a
 *   promise that settles later); it never resolves for an event it did not record.
 * - If `append` throws or rejects, the runtime fails closed: the step being recorded is denied and
 *   its tool does not run.
 * - `flush` resolves once every appended event is durable (as durable as the sink can make it);
 *   `close` flushes and releases resources; appending after `close` fails.
 * - Events arrive already redacted (see {@link AuditEvent}); a sink must not add secrets.
 */
export interface AuditSink {
  /**
   * Optional: `true` when the sink serialises each event's `data` with `canonicalJson` (it writes or
   * hashes canonical lines, as `@ape/audit`'s sinks do). The runtime then works out that text while
   * it records its frequent events (a gated call's `plan.extended`, `decision.made`, `token.*` and
   * `tool.executed`), field by field, and `canonicalJson(event.data)` returns it at once while
   * `append` runs (serialise there; later, the ordinary walk gives the same text). The text is the
   * same either way; a sink that does not serialise data should leave it unset (the runtime would
   * do the work for nothing).
   */
  readonly canonicalData?: boolean;
  append(event: AuditEvent): void | Promise<void>;
  flush(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Whether `sink` says it serialises event data canonically (`canonicalData: true`); a sink whose
 * property throws does not. What the runtime asks of its sink, and what a sink that forwards to other
 * sinks (`@ape/audit`'s `TeeAuditSink`) asks of each of them.
 */
export function wantsCanonicalData(sink: AuditSink): boolean {
  try {
    return sink.canonicalData === true;
  } catch {
    return false;
  }
}

const APPENDED_KEY = Symbol.for('ape.audit.appended');

/**
 * The promise an {@link AuditSink.append} whose own API returns a promise may return for an event
 * it has already recorded synchronously: the runtime recognises it and goes on at once, as it does
 * for an `append` that returns nothing (no microtask hop, no promise per record). It is resolved
 * and shared by every copy of `@ape/core` loaded in one realm (a global symbol), so a sink and a
 * runtime from different copies still recognise it. Return it only for an event recorded.
 */
export const AUDIT_APPENDED: Promise<void> = sharedAppended();

function sharedAppended(): Promise<void> {
  const registry = globalThis as { [APPENDED_KEY]?: unknown };
  const existing = registry[APPENDED_KEY];
  if (existing instanceof Promise) return existing as Promise<void>;
  // Not frozen: with async hooks enabled (an AsyncLocalStorage anywhere in the process), Node tags
  // every promise a `then` is called on, and a frozen promise makes that throw.
  const appended = Promise.resolve();
  try {
    Object.defineProperty(registry, APPENDED_KEY, { value: appended });
  } catch {
    // The key is taken by something else: this copy keeps its own (only sharing is lost).
  }
  return appended;
}
