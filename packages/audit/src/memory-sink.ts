import { type AuditEvent, AuditError, type AuditSink } from '@ape/core';
import { type AuditLineChain, type AuditRecord, createAuditLineChain } from './record.js';
import type { RedactionOptions } from './redact.js';

/** Options of {@link MemoryAuditSink}. */
export type MemoryAuditSinkOptions = RedactionOptions;

/**
 * Keeps hash-chained records in memory: the runtime's default sink and the one to assert on in
 * tests. `append` builds and stores the record before it resolves.
 */
export class MemoryAuditSink implements AuditSink {
  readonly #chain: AuditLineChain;
  readonly #records: AuditRecord[] = [];
  readonly #lines: string[] = [];
  #closed = false;

  constructor(options: MemoryAuditSinkOptions = {}) {
    this.#chain = createAuditLineChain(undefined, options);
  }

  /**
   * Records `event` as the next link of the chain.
   * @returns a promise rejected with AuditError (`AUDIT_FAILURE`) after `close()` or for a malformed event.
   */
  append(event: AuditEvent): Promise<void> {
    try {
      if (this.#closed) throw new AuditError('MemoryAuditSink is closed; the event was not recorded.');
      const { record, line } = this.#chain.nextWithLine(event);
      this.#records.push(record);
      this.#lines.push(line);
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Resolves at once: every appended record is already stored. */
  flush(): Promise<void> {
    return Promise.resolve();
  }

  /** Refuses further appends; the records stay readable. */
  close(): Promise<void> {
    this.#closed = true;
    return Promise.resolve();
  }

  /** Every record so far, in order (frozen records; a new array each call). */
  records(): readonly AuditRecord[] {
    return [...this.#records];
  }

  /** The records as JSON Lines (one canonical line per record, without `\n`), e.g. for `verifyAuditLog`. */
  lines(): string[] {
    return [...this.#lines];
  }
}
