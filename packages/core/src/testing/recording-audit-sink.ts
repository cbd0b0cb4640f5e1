import { deepFreeze } from '../deep-freeze.js';
import { AuditError } from '../errors.js';
import type { AuditSink } from '../ports/audit-sink.js';
import type { AuditEvent, AuditEventType } from '../types.js';

/** Options of {@link createRecordingAuditSink}. */
export interface RecordingAuditSinkOptions {
  /** When it returns true for an event, `append` rejects instead of recording it (fail-closed tests). */
  readonly failWhen?: (event: AuditEvent) => boolean;
}

/** An {@link AuditSink} test double that keeps every event and can be told to fail. */
export interface RecordingAuditSink extends AuditSink {
  readonly events: readonly AuditEvent[];
  /** The types of the recorded events, in order. */
  types(): readonly AuditEventType[];
  /** The recorded events of one type. */
  ofType(type: AuditEventType): readonly AuditEvent[];
  /** Changes the failure rule from now on (`undefined` stops failing). */
  failWhen(rule: ((event: AuditEvent) => boolean) | undefined): void;
}

/**
 * Creates a recording audit sink (asynchronous `append`, like a real sink): it keeps a copy of each
 * event and, like a real sink, rejects appends after `close` with AuditError (`AUDIT_FAILURE`).
 */
export function createRecordingAuditSink(options: RecordingAuditSinkOptions = {}): RecordingAuditSink {
  const events: AuditEvent[] = [];
  let rule = options.failWhen;
  let closed = false;
  return {
    get events(): readonly AuditEvent[] {
      return events;
    },
    types: () => events.map((event) => event.type),
    ofType: (type) => events.filter((event) => event.type === type),
    failWhen(next) {
      rule = next;
    },
    async append(event: AuditEvent): Promise<void> {
      if (closed) throw new AuditError('The recording audit sink is closed.', { event: event.type });
      if (rule?.(event) === true) throw new Error(`recording audit sink: refusing ${event.type}`);
      // A copy: what the caller does to its event afterwards does not change what was recorded.
      events.push(deepFreeze(structuredClone(event)));
    },
    async flush(): Promise<void> {},
    async close(): Promise<void> {
      closed = true;
    },
  };
}
