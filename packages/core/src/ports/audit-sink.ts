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
  append(event: AuditEvent): void | Promise<void>;
  flush(): Promise<void>;
  close(): Promise<void>;
}
