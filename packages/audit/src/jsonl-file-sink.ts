import { constants } from 'node:fs';
import { type FileHandle, open, stat } from 'node:fs/promises';
import { type AuditEvent, AuditError, type AuditSink, canonicalJson } from '@ape/core';
import { type AuditCheckpointOptions, CheckpointWriter } from './checkpoint-writer.js';
import { AuditLogError } from './errors.js';
import { MAX_UTF8_BYTES_PER_UNIT } from './line-store.js';
import { CODES_PER_RECORD, LineWriterWorker } from './line-writer-worker.js';
import { linesFromHandle } from './lines.js';
import { hashMerkleLeaf, MerkleTreeAccumulator } from './merkle.js';
import {
  AUDIT_GENESIS_HASH,
  type AuditChainPosition,
  type AuditRecordFields,
  auditLineBytes,
  createAuditLine,
  createAuditRecordFields,
  MAX_AUDIT_LINE_BYTES,
} from './record.js';
import type { RedactionOptions } from './redact.js';
import { syncDirectory } from './sync-directory.js';
import { verifyLinesWithTree } from './verify.js';

/** Options of {@link createJsonlFileAuditSink}. */
export interface JsonlFileAuditSinkOptions extends RedactionOptions {
  /**
   * Default `true`: each batch is fsynced before its appends resolve. `false`: appends resolve once
   * the batch is written to the operating system; only `flush()`/`close()` fsync.
   */
  readonly durable?: boolean;
  /**
   * Milliseconds to wait for more records before writing a batch. Default 0: the batch closes at
   * the next turn of the event loop, once every caller ready to run has queued its record (its size
   * is bounded by `maxPendingRecords`).
   */
  readonly groupCommitMs?: number;
  /** Records queued or being written before further appends wait for room. Default 1024. */
  readonly maxPendingRecords?: number;
  /** Largest line (UTF-8 bytes, without `\n`) written or read. Default {@link MAX_AUDIT_LINE_BYTES}. */
  readonly maxLineBytes?: number;
  /** Permissions of a newly created file. Default `0o600`. */
  readonly mode?: number;
  /**
   * Write signed checkpoints of the stored records (every `every` records, `intervalMs` after an
   * uncovered record, and at `close`) to `path`. A checkpoint only covers records already synced.
   * A failed checkpoint write fails the sink like a failed log write.
   */
  readonly checkpoint?: AuditCheckpointOptions;
  /**
   * Default `false`. `true`: a worker thread of this sink puts each record's `prev` into its line,
   * hashes it, writes the batch and syncs it (when `durable`); the calling thread only checks,
   * redacts and serialises each event. Same bytes in the file, same guarantees (an append resolves
   * once its batch is written, and synced when `durable`), while the sha256 and the system calls run
   * on another core. Costs a thread (started with the sink, stopped by `close`) and, per batch, a
   * message each way. With it, `position` is the chain after the records written so far.
   */
  readonly worker?: boolean;
}

/** What opening the file found. */
export interface AuditFileRecovery {
  /** The file existed and held at least one byte. */
  readonly existed: boolean;
  /** Intact records found (the new records continue from this seq). */
  readonly records: number;
  /** A torn last line (left by a crash) was cut off. */
  readonly truncated: boolean;
  /** Bytes cut off (0 unless `truncated`). */
  readonly truncatedBytes: number;
}

/** A hash-chained JSON Lines file sink. Create with {@link createJsonlFileAuditSink}. */
export interface JsonlFileAuditSink extends AuditSink {
  readonly path: string;
  /** What opening the file found and repaired. */
  readonly recovery: AuditFileRecovery;
  /**
   * The seq and prev of the next record (with option `worker`: of the next record after those
   * written so far; after `flush()` and `close()`, of the next record).
   */
  readonly position: AuditChainPosition;
  /** The error that failed the sink, if one did; a failed sink refuses every further call. */
  readonly failure: AuditError | undefined;
  /** With option `checkpoint`: the signed note of the last checkpoint written, if any. */
  readonly lastCheckpoint: string | undefined;
  /**
   * Queues `event` and resolves once its line is written (and fsynced when `durable`). Never drops:
   * when `maxPendingRecords` are pending, it waits for room. Rejects with AuditError
   * (`AUDIT_FAILURE`) after `close()`, once the sink failed, or for a malformed event.
   */
  append(event: AuditEvent): Promise<void>;
}

interface Pending {
  readonly event: AuditEvent;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

interface Queued {
  /** The line and its `\n`; with a writer thread, the record's data text. */
  readonly text: string;
  /** With a writer thread: the rest of the record, which the thread builds the line around. */
  readonly fields: AuditRecordFields | undefined;
  /** The record's Merkle leaf hash, computed here only when the sink writes checkpoints without a thread. */
  readonly leaf: Uint8Array | undefined;
}

/**
 * The one promise every append of a batch answers with, and its settling functions: a batch is
 * written and synced as a whole, so its appends resolve (or fail) together, and a record costs no
 * promise of its own.
 */
interface BatchDone {
  readonly promise: Promise<void>;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

function batchDone(): BatchDone {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((onResolved, onRejected) => {
    resolve = onResolved;
    reject = onRejected;
  });
  return { promise, resolve, reject };
}

/**
 * Opens (creating it if needed) a JSON Lines audit file. An existing file is verified first: a torn
 * last line is cut off (see `recovery`), and the chain resumes after the last intact record. One
 * sink per file: concurrent writers, in or across processes, are not coordinated.
 *
 * @throws AuditLogError (`AUDIT_INVALID`) when the existing file fails verification (it is left untouched).
 * @throws AuditError (`AUDIT_FAILURE`) when the options are invalid or the file cannot be opened.
 */
export async function createJsonlFileAuditSink(
  path: string,
  options: JsonlFileAuditSinkOptions = {},
): Promise<JsonlFileAuditSink> {
  const settings = checkOptions(options);
  // Parse the key before touching the file: a bad key must not leave a new empty log behind.
  const checkpointOptions = options.checkpoint;
  if (checkpointOptions !== undefined) new CheckpointWriter(checkpointOptions);
  const existedBefore = await exists(path);
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDWR | constants.O_APPEND | constants.O_CREAT, settings.mode);
  } catch (error) {
    throw new AuditError(
      `Cannot open audit log ${path}: ${String((error as Error).message)}.`,
      { path },
      { cause: error },
    );
  }
  let thread: LineWriterWorker | undefined;
  try {
    const info = await handle.stat();
    let recovery: AuditFileRecovery = { existed: false, records: 0, truncated: false, truncatedBytes: 0 };
    let position: AuditChainPosition = { seq: 0, prev: AUDIT_GENESIS_HASH };
    let tree = new MerkleTreeAccumulator();
    // Only a regular file holds a chain to resume; a device or pipe starts a fresh one.
    if (info.isFile() && info.size > 0) {
      const scanned = await verifyLinesWithTree(linesFromHandle(handle, settings.maxLineBytes));
      const verification = scanned.verification;
      tree = scanned.tree;
      if (!verification.ok) {
        throw new AuditLogError(`Refusing to append to audit log ${path}: ${verification.message}`, {
          path,
          problem: verification.problem,
          firstBadSeq: verification.firstBadSeq,
          firstBadLine: verification.firstBadLine,
        });
      }
      const truncatedBytes = info.size - verification.intactBytes;
      if (truncatedBytes > 0) {
        await handle.truncate(verification.intactBytes);
        await handle.datasync();
      }
      recovery = {
        existed: true,
        records: verification.records,
        truncated: truncatedBytes > 0,
        truncatedBytes,
      };
      position = { seq: verification.records, prev: verification.lastHash };
    }
    if (!existedBefore) await syncDirectory(path);
    const checkpoints =
      checkpointOptions === undefined
        ? undefined
        : new CheckpointWriter(
            checkpointOptions,
            tree,
            settings.durable ? undefined : () => handle.datasync(),
          );
    thread = settings.worker ? await startThread(path, handle.fd, position.prev) : undefined;
    return new FileSink(path, handle, settings, recovery, position, checkpoints, thread);
  } catch (error) {
    await handle.close();
    if (AuditLogError.isInstance(error) || AuditError.isInstance(error)) throw error;
    throw new AuditError(
      `Cannot open audit log ${path}: ${String((error as Error).message)}.`,
      { path },
      { cause: error },
    );
  }
}

interface Settings {
  readonly durable: boolean;
  readonly groupCommitMs: number;
  readonly maxPendingRecords: number;
  readonly maxLineBytes: number;
  readonly mode: number;
  readonly redaction: RedactionOptions;
  readonly worker: boolean;
}

function checkOptions(options: JsonlFileAuditSinkOptions): Settings {
  const groupCommitMs = options.groupCommitMs ?? 0;
  const maxPendingRecords = options.maxPendingRecords ?? 1024;
  const maxLineBytes = options.maxLineBytes ?? MAX_AUDIT_LINE_BYTES;
  if (!Number.isFinite(groupCommitMs) || groupCommitMs < 0) {
    throw new AuditError('Option groupCommitMs must be a non-negative number of milliseconds.', {
      field: 'groupCommitMs',
    });
  }
  if (!Number.isSafeInteger(maxPendingRecords) || maxPendingRecords < 1) {
    throw new AuditError('Option maxPendingRecords must be a positive integer.', {
      field: 'maxPendingRecords',
    });
  }
  if (!Number.isSafeInteger(maxLineBytes) || maxLineBytes < 1) {
    throw new AuditError('Option maxLineBytes must be a positive integer.', { field: 'maxLineBytes' });
  }
  if (options.worker !== undefined && typeof options.worker !== 'boolean') {
    throw new AuditError('Option worker must be a boolean.', { field: 'worker' });
  }
  const redaction: RedactionOptions = {
    ...(options.redact === undefined ? {} : { redact: options.redact }),
    ...(options.logFields === undefined ? {} : { logFields: [...options.logFields] }),
  };
  return {
    durable: options.durable ?? true,
    groupCommitMs,
    maxPendingRecords,
    maxLineBytes,
    mode: options.mode ?? 0o600,
    redaction,
    worker: options.worker ?? false,
  };
}

/** Starts the writer thread of the log at `path`. @throws AuditError (`AUDIT_FAILURE`). */
async function startThread(path: string, fd: number, prev: string): Promise<LineWriterWorker> {
  try {
    return await LineWriterWorker.start(fd, prev);
  } catch (error) {
    throw new AuditError(
      `Cannot start the writer thread of audit log ${path}: ${String((error as Error).message)}.`,
      { path },
      { cause: error },
    );
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

class FileSink implements JsonlFileAuditSink {
  /** Writes each event's canonical data: the runtime prepares that text (see core's `AuditSink`). */
  readonly canonicalData = true;
  readonly path: string;
  readonly recovery: AuditFileRecovery;
  readonly #handle: FileHandle;
  readonly #settings: Settings;
  #position: AuditChainPosition;
  #queue: Queued[] = [];
  /** What the appends of the records in `#queue` answer with; created with the queue's first record. */
  #queueDone: BatchDone | undefined;
  readonly #waiting: Pending[] = [];
  #inFlight = 0;
  #writer: Promise<void> | undefined;
  /** With a thread: the batches sent to it and not answered yet, oldest first. */
  readonly #flights: Promise<void>[] = [];
  #failure: AuditError | undefined;
  #closing: Promise<void> | undefined;
  readonly #checkpoints: CheckpointWriter | undefined;
  /** With option `worker`: the thread that hashes, writes and syncs the batches. */
  readonly #thread: LineWriterWorker | undefined;
  /** With a thread: the seq the next admitted record gets (`#position` follows the writes). */
  #nextSeq: number;
  /** With a thread: the seq of the next record sent to it. */
  #sentSeq: number;
  /** With a thread: the index of each string in the thread's table of names (see `#writeBatch`). */
  readonly #names = new Map<string, number>();

  constructor(
    path: string,
    handle: FileHandle,
    settings: Settings,
    recovery: AuditFileRecovery,
    position: AuditChainPosition,
    checkpoints: CheckpointWriter | undefined,
    thread: LineWriterWorker | undefined,
  ) {
    this.#checkpoints = checkpoints;
    this.#thread = thread;
    this.#nextSeq = position.seq;
    this.#sentSeq = position.seq;
    this.path = path;
    this.#handle = handle;
    this.#settings = settings;
    this.recovery = Object.freeze({ ...recovery });
    this.#position = position;
  }

  get position(): AuditChainPosition {
    return this.#position;
  }

  get failure(): AuditError | undefined {
    return this.#failure;
  }

  get lastCheckpoint(): string | undefined {
    return this.#checkpoints?.lastNote;
  }

  append(event: AuditEvent): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (this.#closing !== undefined) {
      return Promise.reject(
        new AuditError(`Audit log ${this.path} is closed; the event was not recorded.`, { path: this.path }),
      );
    }
    if (this.#waiting.length > 0 || this.#pendingCount() >= this.#settings.maxPendingRecords) {
      return new Promise<void>((resolve, reject) => {
        this.#waiting.push({ event, resolve, reject });
      });
    }
    try {
      return this.#admit(event);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  async flush(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    await this.#drain();
    await this.#sync();
    await this.#checkpoints?.settle();
    this.#checkCheckpoints();
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    try {
      await this.#drain();
      await this.#sync();
      await this.#checkpoints?.close();
      this.#checkCheckpoints();
    } finally {
      // Every batch was answered (drained, or the sink failed): the thread has nothing left to do.
      await this.#thread?.close();
      await this.#handle.close();
    }
  }

  /** Fails the sink when a checkpoint could not be written. */
  #checkCheckpoints(): void {
    const failure = this.#checkpoints?.failure;
    if (failure === undefined) return;
    this.#fail(failure.cause ?? failure, undefined);
    throw this.#failure;
  }

  #pendingCount(): number {
    return this.#queue.length + this.#inFlight;
  }

  /**
   * Queues `event`'s record and returns the promise of the batch it joins.
   * @throws AuditError when the record cannot be built or is too large (nothing is queued).
   */
  #admit(event: AuditEvent): Promise<void> {
    let item: Queued;
    if (this.#thread === undefined) {
      const { hash, line } = createAuditLine(event, this.#position, this.#settings.redaction);
      this.#checkLineBytes(line);
      this.#position = { seq: this.#position.seq + 1, prev: hash };
      const leaf = this.#checkpoints === undefined ? undefined : hashMerkleLeaf(line);
      item = { text: line + '\n', fields: undefined, leaf };
    } else {
      const fields = createAuditRecordFields(event, this.#settings.redaction);
      this.#checkFieldBytes(fields);
      this.#nextSeq++;
      item = { text: fields.data, fields, leaf: undefined };
    }
    this.#queueDone ??= batchDone();
    const done = this.#queueDone;
    this.#queue.push(item);
    // A long burst goes out to the thread in parts: the thread starts on the first while this
    // thread serialises the rest (it joins what arrives meanwhile to the same sync).
    if (this.#thread !== undefined && this.#queue.length >= THREAD_BATCH_RECORDS) this.#send();
    this.#writer ??= this.#write();
    return done.promise;
  }

  /**
   * Refuses a line of more than `maxLineBytes` UTF-8 bytes. UTF-8 takes at most 3 bytes per UTF-16
   * code unit, so the exact size is counted only for a line whose bound passes the limit (counting
   * a line built by concatenation costs as much as copying it).
   */
  #checkLineBytes(line: string): void {
    if (line.length * MAX_UTF8_BYTES_PER_UNIT <= this.#settings.maxLineBytes) return;
    this.#refuseOver(Buffer.byteLength(line, 'utf8'));
  }

  /**
   * {@link #checkLineBytes} for a record the writer thread builds the line of: its data text takes
   * at most 3 bytes per code unit, and the JSON of each string around it at most 6 per code unit (an
   * escape) and its quotes; the exact size is counted only when that bound passes the limit.
   */
  #checkFieldBytes(fields: AuditRecordFields): void {
    const names = fields.session.length + fields.tenant.length + fields.ts.length + fields.type.length;
    const bound =
      fields.data.length * MAX_UTF8_BYTES_PER_UNIT +
      names * MAX_JSON_BYTES_PER_UNIT +
      LINE_BYTES_AROUND_FIELDS;
    if (bound <= this.#settings.maxLineBytes) return;
    this.#refuseOver(auditLineBytes(fields, this.#nextSeq));
  }

  #refuseOver(bytes: number): void {
    if (bytes > this.#settings.maxLineBytes) {
      throw new AuditError(
        `Audit record of ${bytes} bytes exceeds maxLineBytes (${this.#settings.maxLineBytes}); it was not recorded.`,
        { bytes, maxLineBytes: this.#settings.maxLineBytes },
      );
    }
  }

  #admitWaiting(): void {
    while (this.#waiting.length > 0 && this.#pendingCount() < this.#settings.maxPendingRecords) {
      const pending = this.#waiting.shift()!;
      let done: Promise<void>;
      try {
        done = this.#admit(pending.event);
      } catch (error) {
        pending.reject(error);
        continue;
      }
      done.then(pending.resolve, pending.reject);
    }
  }

  async #write(): Promise<void> {
    try {
      while (this.#failure === undefined) {
        if (this.#queue.length === 0) {
          // Settled only once every batch is written: `#drain` waits for this loop.
          const oldest = this.#flights[0];
          if (oldest === undefined) break;
          await oldest;
          continue;
        }
        // Close the batch only after the callers that are ready to run have run: the appends a
        // resolved batch unblocks arrive in one burst of continuations, and taking the queue at the
        // first of them would write a batch of one and make the rest wait a whole fsync round.
        if (this.#settings.groupCommitMs > 0) await delay(this.#settings.groupCommitMs);
        else await nextTurn();
        // A failure meanwhile (a flush's sync) refused the queue: there is nothing left to write.
        if (this.#failure !== undefined || this.#queue.length === 0) continue;
        if (this.#thread !== undefined) {
          // The thread writes the batches in the order they are sent, grouping those that wait.
          this.#send();
          continue;
        }
        // One batch at a time: written and synced here before the next is taken.
        const { batch, done } = this.#takeQueue();
        await this.#flight(batch, done);
      }
    } finally {
      this.#writer = undefined;
    }
  }

  /** Sends the queue to the thread as one batch. */
  #send(): void {
    const { batch, done } = this.#takeQueue();
    this.#flights.push(this.#flight(batch, done));
  }

  /** Takes the queue (not empty) and its promise as the next batch, leaving both empty. */
  #takeQueue(): { readonly batch: readonly Queued[]; readonly done: BatchDone } {
    const batch = this.#queue;
    const done = this.#queueDone!;
    this.#queue = [];
    this.#queueDone = undefined;
    return { batch, done };
  }

  /** Writes `batch`, then settles its appends; never rejects (a failure fails the sink). */
  async #flight(batch: readonly Queued[], done: BatchDone): Promise<void> {
    this.#inFlight += batch.length;
    let leaves: readonly Uint8Array[] | undefined;
    try {
      leaves = await this.#writeBatch(batch);
    } catch (error) {
      this.#fail(error, done);
      return;
    } finally {
      // Batches are answered in the order they were sent: this one is the oldest in flight.
      if (this.#thread !== undefined) this.#flights.shift();
    }
    this.#inFlight -= batch.length;
    if (this.#checkpoints !== undefined) {
      this.#checkpoints.add(leaves ?? batch.map((item) => item.leaf as Uint8Array));
      if (this.#checkpoints.failure !== undefined) {
        // The batch is stored, but the previous checkpoint write failed: refuse from here on.
        this.#fail(this.#checkpoints.failure.cause ?? this.#checkpoints.failure, done);
        return;
      }
    }
    done.resolve();
    this.#admitWaiting();
  }

  /**
   * Writes `batch` (and syncs it when durable) here or on the thread; with the thread, moves
   * `#position` past the batch and returns its Merkle leaf hashes when the sink writes checkpoints.
   */
  async #writeBatch(batch: readonly Queued[]): Promise<readonly Uint8Array[] | undefined> {
    const thread = this.#thread;
    if (thread === undefined) {
      let text = '';
      for (let index = 0; index < batch.length; index++) text += batch[index]!.text;
      await writeAll(this.#handle, Buffer.from(text, 'utf8'));
      if (this.#settings.durable) await this.#handle.datasync();
      return undefined;
    }
    // The data texts travel as bytes in a buffer the thread takes over (no copy, no string to
    // rebuild), sized for the most UTF-8 they can take. The strings around them (session, tenant,
    // ts, type) repeat from record to record: the thread keeps a table of their canonical JSON, a
    // record names them by index, and a batch carries only the strings new to the table. The table
    // starts over (on both sides) before it would outgrow MAX_NAMES. The thread builds the rest of
    // each line.
    let units = 0;
    let joined = '';
    for (let index = 0; index < batch.length; index++) {
      const text = batch[index]!.text;
      units += text.length;
      joined += text;
    }
    const buffer = Buffer.allocUnsafeSlow(units * MAX_UTF8_BYTES_PER_UNIT);
    // One write for the whole batch; when it took one byte per code unit, every text is ASCII and
    // each record's size is its length. Otherwise each text is written again on its own.
    const ascii = buffer.write(joined, 0, 'utf8') === units;
    const codes = new Int32Array(batch.length * CODES_PER_RECORD);
    // At most one new name per string a record names (all of its codes but its data's size).
    const reset = this.#names.size + batch.length * (CODES_PER_RECORD - 1) > MAX_NAMES;
    if (reset) this.#names.clear();
    const names = this.#names;
    const added: string[] = [];
    const nameOf = (text: string): number => {
      let index = names.get(text);
      if (index === undefined) {
        index = names.size;
        names.set(text, index);
        added.push(canonicalJson(text));
      }
      return index;
    };
    let offset = 0;
    for (let index = 0; index < batch.length; index++) {
      const item = batch[index]!;
      const fields = item.fields!;
      const dataBytes = ascii ? item.text.length : buffer.write(item.text, offset, 'utf8');
      const code = index * CODES_PER_RECORD;
      codes[code] = dataBytes;
      codes[code + 1] = nameOf(fields.session);
      codes[code + 2] = nameOf(fields.tenant);
      codes[code + 3] = nameOf(fields.ts);
      codes[code + 4] = nameOf(fields.type);
      offset += dataBytes;
    }
    const bytes = buffer.subarray(0, offset);
    const seq = this.#sentSeq;
    this.#sentSeq += batch.length;
    const written = await thread.write(
      bytes,
      codes,
      { reset, added },
      seq,
      this.#settings.durable,
      this.#checkpoints !== undefined,
    );
    this.#position = { seq: this.#position.seq + batch.length, prev: written.prev };
    const leaves = written.leaves;
    if (leaves === undefined) return undefined;
    return Array.from({ length: batch.length }, (_, index) => leaves.subarray(32 * index, 32 * index + 32));
  }

  async #drain(): Promise<void> {
    while (this.#writer !== undefined) await this.#writer;
    if (this.#failure !== undefined) throw this.#failure;
  }

  async #sync(): Promise<void> {
    try {
      await this.#handle.datasync();
    } catch (error) {
      this.#fail(error, undefined);
      throw this.#failure;
    }
  }

  /** Fails the sink: `batch` (the batch whose write failed, if any), the queue and every waiting append are refused. */
  #fail(error: unknown, batch: BatchDone | undefined): void {
    this.#failure ??= new AuditError(
      `Writing audit log ${this.path} failed (${String((error as Error).message)}); the sink refuses further events.`,
      { path: this.path },
      { cause: error },
    );
    const failure = this.#failure;
    this.#inFlight = 0;
    batch?.reject(failure);
    if (this.#queue.length > 0) this.#takeQueue().done.reject(failure);
    for (const item of this.#waiting.splice(0)) item.reject(failure);
  }
}

async function writeAll(handle: FileHandle, buffer: Buffer): Promise<void> {
  let offset = 0;
  while (offset < buffer.length) {
    const { bytesWritten } = await handle.write(buffer, offset, buffer.length - offset);
    offset += bytesWritten;
  }
}

/** The most UTF-8 bytes one UTF-16 code unit of a string takes in its JSON (`\uXXXX`). */
const MAX_JSON_BYTES_PER_UNIT = 6;

/**
 * Bytes of a line besides its data text and the characters of its session, tenant, ts and type:
 * `{"data":`, `,"hash":"H"` and `,"prev":"P"` (64 hex digits each), `,"seq":` and at most 16 digits,
 * the other four keys, their quotes, and `}`.
 */
const LINE_BYTES_AROUND_FIELDS =
  '{"data":'.length +
  ',"hash":"",'.length +
  64 +
  '"prev":""'.length +
  64 +
  ',"seq":'.length +
  16 +
  ',"session":,"tenant":,"ts":,"type":}'.length +
  4 * 2;

/** Strings the writer thread's table of names holds at most (about 40 bytes each for sessions). */
const MAX_NAMES = 16_384;

/** Records queued before they go to the writer thread without waiting for the turn to end. */
const THREAD_BATCH_RECORDS = 128;

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
