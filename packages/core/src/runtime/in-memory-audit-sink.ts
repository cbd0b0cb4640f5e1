import { canonicalJson } from '../canonical-json.js';
import { deepFreeze } from '../deep-freeze.js';
import { AuditError, messageOf } from '../errors.js';
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
  // Each event is kept as its fields and the canonical JSON of its data, and read back (copied and
  // frozen) only when `events` is read: what the caller does to its objects after `append` changes
  // nothing recorded, and the runtime's hot path pays one serialisation per event.
  const kept: { readonly event: AuditEvent; readonly data: string }[] = [];
  const events: AuditEvent[] = [];
  let closed = false;
  return {
    get events(): readonly AuditEvent[] {
      for (let index = events.length; index < kept.length; index++) {
        const { event, data } = kept[index]!;
        events.push(
          Object.freeze({ ...event, data: deepFreeze(JSON.parse(data) as Record<string, unknown>) }),
        );
      }
      return events;
    },
    append(event: AuditEvent): void {
      if (typeof event !== 'object' || event === null)
        throw new AuditError('An audit event must be an object.');
      if (closed) throw new AuditError('The in-memory audit sink is closed.', { event: event.type });
      let data: string;
      try {
        data = canonicalJson(event.data);
      } catch (error) {
        throw new AuditError(
          `The audit event ${String(event.type)} holds data that is not plain JSON (${messageOf(error)}).`,
          {
            event: event.type,
          },
        );
      }
      const { type, tenant, session, time } = event;
      kept.push({ event: { type, tenant, session, time, data: {} }, data });
    },
    async flush(): Promise<void> {},
    async close(): Promise<void> {
      closed = true;
    },
  };
}
