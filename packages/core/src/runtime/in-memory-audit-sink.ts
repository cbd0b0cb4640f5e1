import { canonicalJson } from '../canonical-json.js';
import { deepFreeze } from '../deep-freeze.js';
import { AuditError, messageOf } from '../errors.js';
import type { AuditSink } from '../ports/audit-sink.js';
import type { AuditEvent } from '../types.js';
import { isAppendingRuntimeEvent } from './current-event.js';

/** An {@link AuditSink} that keeps events in an array, readable through `events`. */
export interface InMemoryAuditSink extends AuditSink {
  /** Every event appended so far, oldest first. */
  readonly events: readonly AuditEvent[];
}

/**
 * The default audit sink of `createRuntime`: a minimal recorder in memory, without a hash chain and
 * without persistence. Use `@ape/audit` for tamper-evident, durable logs. The runtime's own events
 * are kept as they are (frozen, with frozen data); another event whose `data` is frozen is kept in a
 * frozen copy of its fields with that data; any other is copied as plain JSON
 * (non-JSON data throws `AuditError`, `AUDIT_FAILURE`). Appending after `close` throws `AuditError`
 * (`AUDIT_FAILURE`).
 */
export function createInMemoryAuditSink(): InMemoryAuditSink {
  // An event whose data is frozen keeps that data object (in a frozen copy of the event's fields):
  // the runtime freezes what it records and hands it over. Any other event is kept as the canonical
  // JSON of its data, read back (copied and frozen) when `events` is read, so what its caller does
  // to its objects afterwards changes nothing recorded.
  const kept: (AuditEvent | PendingEvent)[] = [];
  const events: AuditEvent[] = [];
  let closed = false;
  return {
    get events(): readonly AuditEvent[] {
      for (let index = events.length; index < kept.length; index++) {
        const entry = kept[index]!;
        events.push(
          entry instanceof PendingEvent
            ? Object.freeze({
                ...entry.event,
                data: deepFreeze(JSON.parse(entry.data) as Record<string, unknown>),
              })
            : entry,
        );
      }
      return events;
    },
    append(event: AuditEvent): void {
      if (typeof event !== 'object' || event === null)
        throw new AuditError('An audit event must be an object.');
      if (closed) throw new AuditError('The in-memory audit sink is closed.', { event: event.type });
      // The runtime's own event is already a frozen object of the five fields with frozen data.
      if (isAppendingRuntimeEvent(event)) {
        kept.push(event);
        return;
      }
      const { type, tenant, session, time, data } = event;
      if (typeof data === 'object' && data !== null && Object.isFrozen(data)) {
        kept.push(Object.freeze({ type, tenant, session, time, data }));
        return;
      }
      let text: string;
      try {
        text = canonicalJson(data);
      } catch (error) {
        throw new AuditError(
          `The audit event ${String(type)} holds data that is not plain JSON (${messageOf(error)}).`,
          { event: type },
        );
      }
      kept.push(new PendingEvent({ type, tenant, session, time, data: {} }, text));
    },
    async flush(): Promise<void> {},
    async close(): Promise<void> {
      closed = true;
    },
  };
}

/** An event kept as the canonical JSON of its data until `events` is read. */
class PendingEvent {
  constructor(
    readonly event: AuditEvent,
    readonly data: string,
  ) {}
}
