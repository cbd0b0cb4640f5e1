import { AuditError } from '../errors.js';
import type { AuditSink } from '../ports/audit-sink.js';
import type { AuditEvent } from '../types.js';

/** An {@link AuditSink} that keeps events in an array, readable through `events`. */
export interface InMemoryAuditSink extends AuditSink {
  /** Every event appended so far, oldest first. */
  readonly events: readonly AuditEvent[];
}

/**
 * The default audit sink of `createRuntime`: a minimal recorder in memory, without a hash chain and
 * without persistence. Use `@ape/audit` for tamper-evident, durable logs. Appending after `close`
 * throws `AuditError` (`AUDIT_FAILURE`).
 */
export function createInMemoryAuditSink(): InMemoryAuditSink {
  const events: AuditEvent[] = [];
  let closed = false;
  return {
    get events(): readonly AuditEvent[] {
      return events;
    },
    append(event: AuditEvent): void {
      if (closed) throw new AuditError('The in-memory audit sink is closed.', { event: event.type });
      events.push(event);
    },
    async flush(): Promise<void> {},
    async close(): Promise<void> {
      closed = true;
    },
  };
}
