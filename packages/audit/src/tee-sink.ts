import { type AuditEvent, AuditError, type AuditSink, wantsCanonicalData } from '@ape/core';

/**
 * Sends every event to several sinks, in the order given (e.g. a file for the record and the
 * console for the demo). Each call reaches every sink, even when one fails, and then fails if any
 * failed: with that sink's error when it is the only one, else an AuditError (`AUDIT_FAILURE`)
 * listing them (`details.failures`, causes in `cause`).
 */
export class TeeAuditSink implements AuditSink {
  readonly #sinks: readonly AuditSink[];
  /** True when one of the sinks serialises event data canonically (see core's `AuditSink`). */
  readonly canonicalData: boolean;

  /** @throws AuditError (`AUDIT_FAILURE`) when `sinks` is empty. */
  constructor(sinks: readonly AuditSink[]) {
    if (sinks.length === 0) throw new AuditError('TeeAuditSink needs at least one sink.', { field: 'sinks' });
    this.#sinks = [...sinks];
    this.canonicalData = this.#sinks.some(wantsCanonicalData);
  }

  append(event: AuditEvent): Promise<void> {
    return settle(
      'append',
      this.#sinks.map((sink) => callSink(() => sink.append(event))),
    );
  }

  flush(): Promise<void> {
    return settle(
      'flush',
      this.#sinks.map((sink) => callSink(() => sink.flush())),
    );
  }

  close(): Promise<void> {
    return settle(
      'close',
      this.#sinks.map((sink) => callSink(() => sink.close())),
    );
  }
}

function callSink(call: () => void | Promise<void>): Promise<void> {
  try {
    return Promise.resolve(call());
  } catch (error) {
    return Promise.reject(error);
  }
}

async function settle(operation: string, calls: readonly Promise<void>[]): Promise<void> {
  const results = await Promise.allSettled(calls);
  const failures: { index: number; reason: unknown }[] = [];
  results.forEach((result, index) => {
    if (result.status === 'rejected') failures.push({ index, reason: result.reason });
  });
  if (failures.length === 0) return;
  if (failures.length === 1) throw failures[0]!.reason;
  throw new AuditError(
    `${operation} failed in ${failures.length} sinks of the tee (indexes ${failures.map((f) => f.index).join(', ')}).`,
    { failures: failures.map((f) => f.index) },
    { cause: new AggregateError(failures.map((f) => f.reason)) },
  );
}
