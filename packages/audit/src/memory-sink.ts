import { AUDIT_APPENDED, type AuditEvent, AuditError, type AuditSink, deepFreeze } from '@ape/core';
import { type AuditCheckpointOptions, CheckpointWriter } from './checkpoint-writer.js';
import { LineStore } from './line-store.js';
import { hashMerkleLeaf } from './merkle.js';
import { type AuditLineChain, type AuditRecord, createAuditLineChain } from './record.js';
import type { RedactionOptions } from './redact.js';

/** Options of {@link MemoryAuditSink}. */
export interface MemoryAuditSinkOptions extends RedactionOptions {
  /**
   * Write signed checkpoints of the records to a file (every `every` records, `intervalMs` after an
   * uncovered record, and at `close`). A failed checkpoint write makes every later call reject.
   */
  readonly checkpoint?: AuditCheckpointOptions;
}

/**
 * Keeps hash-chained records in memory: the one to assert on in tests and demos. (The runtime's
 * default sink is `createInMemoryAuditSink` of `@ape/core`, an unchained recorder.) `append` builds
 * the record and stores its line before it resolves. Lines are kept as UTF-8 bytes in large buffers
 * outside the JavaScript heap, so a long log costs the garbage collector nothing per record;
 * `lines()` and `records()` decode them when asked.
 */
export class MemoryAuditSink implements AuditSink {
  /** Hashes each event's canonical data: the runtime prepares that text (see core's `AuditSink`). */
  readonly canonicalData = true;
  readonly #chain: AuditLineChain;
  /** The records read back so far from `#lines` (a prefix of them, filled by `records()`). */
  readonly #records: AuditRecord[] = [];
  readonly #lines = new LineStore();
  #closed = false;
  readonly #checkpoints: CheckpointWriter | undefined;

  /** @throws AuditKeyError (`AUDIT_KEY_INVALID`) or AuditError (`AUDIT_FAILURE`) for bad `checkpoint` options. */
  constructor(options: MemoryAuditSinkOptions = {}) {
    const { checkpoint, ...redaction } = options;
    this.#chain = createAuditLineChain(undefined, redaction);
    this.#checkpoints = checkpoint === undefined ? undefined : new CheckpointWriter(checkpoint);
  }

  /**
   * Records `event` as the next link of the chain.
   * @returns a promise rejected with AuditError (`AUDIT_FAILURE`) after `close()` or for a malformed event.
   */
  append(event: AuditEvent): Promise<void> {
    try {
      if (this.#closed) throw new AuditError('MemoryAuditSink is closed; the event was not recorded.');
      const failure = this.#checkpoints?.failure;
      if (failure !== undefined) throw failure;
      const { line } = this.#chain.nextLine(event);
      this.#lines.push(line);
      this.#checkpoints?.add([hashMerkleLeaf(line)]);
      // Recorded synchronously: the runtime goes on without a microtask hop.
      return AUDIT_APPENDED;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Every appended record is already stored; with `checkpoint`, waits for the checkpoint being
   * written and rejects with its AuditError (`AUDIT_FAILURE`) if one failed.
   */
  async flush(): Promise<void> {
    await this.#checkpoints?.settle();
    const failure = this.#checkpoints?.failure;
    if (failure !== undefined) throw failure;
  }

  /** Refuses further appends (the records stay readable); with `checkpoint`, writes the last one. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#checkpoints?.close();
    const failure = this.#checkpoints?.failure;
    if (failure !== undefined) throw failure;
  }

  /** With option `checkpoint`: the signed note of the last checkpoint written, if any. */
  get lastCheckpoint(): string | undefined {
    return this.#checkpoints?.lastNote;
  }

  /** Every record so far, in order (frozen records; a new array each call). */
  records(): readonly AuditRecord[] {
    for (let index = this.#records.length; index < this.#lines.length; index++) {
      this.#records.push(recordOfLine(this.#lines.at(index)!));
    }
    return [...this.#records];
  }

  /** The records as JSON Lines (one canonical line per record, without `\n`), e.g. for `verifyAuditLog`. */
  lines(): string[] {
    return this.#lines.slice();
  }
}

/**
 * The record a line of this sink holds. The line is the sink's own canonical output (never input
 * from outside), so reading it back gives the record `append` built, field for field.
 */
function recordOfLine(line: string): AuditRecord {
  const parsed = JSON.parse(line) as AuditRecord;
  return deepFreeze({
    seq: parsed.seq,
    ts: parsed.ts,
    tenant: parsed.tenant,
    session: parsed.session,
    type: parsed.type,
    data: parsed.data,
    prev: parsed.prev,
    hash: parsed.hash,
  }) as AuditRecord;
}
