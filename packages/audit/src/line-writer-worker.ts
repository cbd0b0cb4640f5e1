import { Worker } from 'node:worker_threads';

/**
 * The worker's program (CommonJS, run with `eval`, so the same text serves the ESM and CJS builds
 * and the sources under test). It owns the end of the chain: for each record of a batch it puts the
 * previous hash into the record's line and hashes it. The batches that arrived while it worked (up
 * to `maxRecords` records) join the same round: one `writev` on the sink's file descriptor and,
 * when any of them asks, one `fdatasync`, before it answers each batch in order.
 *
 * In: `{ bytes, sizes, sync, leaves }`: `bytes` holds each record's head then tail (see
 * `AuditLineParts`) in UTF-8, `sizes` their byte counts (head, tail, head, tail, …); `sync` asks for
 * the `fdatasync`; `leaves` for the RFC 9162 leaf hash of each line. Out, per batch: `{ prev }` (the
 * hash of the batch's last record) with `leaves` (32 bytes per record), or `{ error, code }` when a
 * write or a sync failed; from then on every batch gets an error (the chain's end is unknown: the
 * sink fails).
 *
 * A line is built in place: head, `"prev":"P"`, tail are copied into the output, that text is
 * hashed, then the prev-and-tail part moves right to make room for `"hash":"H",`.
 */
const PROGRAM = `
'use strict';
const { parentPort, workerData, receiveMessageOnPort } = require('node:worker_threads');
const { writevSync, fdatasyncSync } = require('node:fs');
const crypto = require('node:crypto');
const hex = typeof crypto.hash === 'function'
  ? (bytes) => crypto.hash('sha256', bytes, 'hex')
  : (bytes) => crypto.createHash('sha256').update(bytes).digest('hex');
const LEAF_PREFIX = Buffer.of(0);
const HASH_FIELD = 74; // "hash":"<64 hex>",
const PREV_FIELD = 73; // "prev":"<64 hex>"
const fd = workerData.fd;
const maxRecords = workerData.maxRecords;
let prev = workerData.prev;
let failed = false;
// The lines of one batch after prev, in a buffer of their own.
const linesOf = (batch) => {
  const sizes = batch.sizes;
  // A Buffer arrives as a plain Uint8Array.
  const bytes = Buffer.from(batch.bytes.buffer, batch.bytes.byteOffset, batch.bytes.length);
  const count = sizes.length / 2;
  const leaves = batch.leaves ? new Uint8Array(32 * count) : undefined;
  const out = Buffer.allocUnsafe(bytes.length + count * (HASH_FIELD + PREV_FIELD + 1));
  let from = 0;
  let at = 0;
  for (let index = 0; index < count; index++) {
    const headBytes = sizes[2 * index];
    const tailBytes = sizes[2 * index + 1];
    const start = at;
    bytes.copy(out, at, from, from + headBytes);
    at += headBytes;
    out.write('"prev":"' + prev + '"', at, 'latin1');
    bytes.copy(out, at + PREV_FIELD, from + headBytes, from + headBytes + tailBytes);
    from += headBytes + tailBytes;
    const restBytes = PREV_FIELD + tailBytes;
    const hash = hex(out.subarray(start, at + restBytes));
    out.copyWithin(at + HASH_FIELD, at, at + restBytes);
    out.write('"hash":"' + hash + '",', at, 'latin1');
    at += HASH_FIELD + restBytes;
    if (leaves !== undefined) {
      leaves.set(crypto.createHash('sha256').update(LEAF_PREFIX).update(out.subarray(start, at)).digest(), 32 * index);
    }
    out[at++] = 10;
    prev = hash;
  }
  return { out: out.subarray(0, at), answer: { prev, leaves } };
};
parentPort.on('message', (first) => {
  if (failed) {
    parentPort.postMessage({ error: 'an earlier write failed', code: undefined });
    return;
  }
  // Group commit: the batches that arrived meanwhile join this write and its one sync.
  const answers = [];
  const buffers = [];
  let sync = false;
  let records = 0;
  let taken = 1;
  try {
    let batch = first;
    while (batch !== undefined) {
      const built = linesOf(batch);
      buffers.push(built.out);
      answers.push(built.answer);
      sync = sync || batch.sync;
      records += batch.sizes.length / 2;
      const next = records < maxRecords ? receiveMessageOnPort(parentPort) : undefined;
      batch = next === undefined ? undefined : next.message;
      if (batch !== undefined) taken++;
    }
    let pending = buffers;
    while (pending.length > 0) {
      let written = writevSync(fd, pending);
      const rest = [];
      for (const buffer of pending) {
        if (written >= buffer.length) written -= buffer.length;
        else {
          rest.push(buffer.subarray(written));
          written = 0;
        }
      }
      pending = rest;
    }
    if (sync) fdatasyncSync(fd);
  } catch (error) {
    failed = true;
    const failure = { error: String((error && error.message) || error), code: error && error.code };
    // Every batch taken in this round fails, and every later one.
    for (let index = 0; index < taken; index++) parentPort.postMessage(failure);
    return;
  }
  for (const answer of answers) {
    parentPort.postMessage(answer, answer.leaves === undefined ? [] : [answer.leaves.buffer]);
  }
});
parentPort.postMessage({ ready: true });
`;

/** Records one write and sync of the thread takes at most (a round ends at the batch that reaches it). */
const MAX_ROUND_RECORDS = 4096;

/** What the worker answers for a batch it wrote. */
export interface WrittenBatch {
  /** The hash of the batch's last record: the next record's `prev`. */
  readonly prev: string;
  /** The RFC 9162 leaf hash of each line (32 bytes each), when asked for. */
  readonly leaves: Uint8Array | undefined;
}

interface Waiting {
  readonly resolve: (value: WrittenBatch) => void;
  readonly reject: (error: Error) => void;
}

/**
 * @internal The file sink's writer thread: hashes, writes and syncs batches of record lines, in the
 * order they are sent, on the sink's file descriptor, so a durable log's sha256 and system calls
 * run beside the agent's thread instead of on it. The thread keeps the process alive only while a
 * batch is in flight. After a failure (a write, a sync, the thread itself) every batch in flight and
 * every later one is refused.
 */
export class LineWriterWorker {
  readonly #worker: Worker;
  /** The batches sent and not answered yet, oldest first (the thread answers in order). */
  readonly #waiting: Waiting[] = [];
  #failure: Error | undefined;
  #exited = false;

  private constructor(worker: Worker) {
    this.#worker = worker;
  }

  /**
   * Starts the thread for the file descriptor `fd`, whose chain continues after `prev` (lower-case
   * hex), and resolves once it runs.
   * @throws Error when the thread cannot start.
   */
  static async start(fd: number, prev: string): Promise<LineWriterWorker> {
    if (!/^[0-9a-f]{64}$/.test(prev)) throw new Error('the chain to continue does not end in a sha256 hash');
    const worker = new Worker(PROGRAM, {
      eval: true,
      workerData: { fd, prev, maxRecords: MAX_ROUND_RECORDS },
    });
    const writer = new LineWriterWorker(worker);
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      worker.once('error', onError);
      worker.once('message', () => {
        worker.off('error', onError);
        resolve();
      });
    }).catch(async (error: unknown) => {
      await worker.terminate();
      throw error;
    });
    worker.on('message', (message: { prev?: string; leaves?: Uint8Array; error?: string; code?: string }) =>
      writer.#answer(message),
    );
    worker.on('error', (error: Error) => writer.#stop(error));
    worker.on('exit', (code) => {
      writer.#exited = true;
      writer.#stop(new Error(`the writer thread exited (code ${code})`));
    });
    worker.unref();
    return writer;
  }

  /**
   * Writes one batch after the batches sent before it, then syncs it when `sync` (which covers
   * those before it too). `bytes` holds each record's head and tail in UTF-8 and `sizes` their byte
   * counts (head, tail, head, tail, …); both are handed over to the thread (unusable here
   * afterwards). Resolves in the order of the calls.
   * @throws Error when the write or the sync failed (this batch's or an earlier one's), or the
   * thread stopped.
   */
  write(bytes: Buffer, sizes: Int32Array, sync: boolean, leaves: boolean): Promise<WrittenBatch> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    return new Promise<WrittenBatch>((resolve, reject) => {
      // Alive while a batch is in flight: a process must not exit with its records unwritten.
      if (this.#waiting.length === 0) this.#worker.ref();
      this.#waiting.push({ resolve, reject });
      this.#worker.postMessage({ bytes, sizes, sync, leaves }, [
        bytes.buffer as ArrayBuffer,
        sizes.buffer as ArrayBuffer,
      ]);
    });
  }

  /** Stops the thread (after the last batch was answered). */
  async close(): Promise<void> {
    this.#stop(new Error('the writer thread is closed'));
    if (!this.#exited) await this.#worker.terminate();
  }

  #answer(message: { prev?: string; leaves?: Uint8Array; error?: string; code?: string }): void {
    const waiting = this.#waiting.shift();
    if (this.#waiting.length === 0) this.#worker.unref();
    if (message.error !== undefined || typeof message.prev !== 'string') {
      const error = Object.assign(new Error(message.error ?? 'the writer thread answered nothing'), {
        code: message.code,
      });
      this.#stop(error);
      waiting?.reject(error);
      return;
    }
    waiting?.resolve({ prev: message.prev, leaves: message.leaves });
  }

  #stop(error: Error): void {
    this.#failure ??= error;
    for (const waiting of this.#waiting.splice(0)) waiting.reject(this.#failure);
  }
}
