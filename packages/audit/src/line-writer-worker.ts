import { Worker } from 'node:worker_threads';

/** Numbers per record in a batch's `codes`: data bytes, then session, tenant, ts and type names. */
export const CODES_PER_RECORD = 5;

/**
 * The worker's program (CommonJS, run with `eval`, so the same text serves the ESM and CJS builds
 * and the sources under test). It owns the end of the chain: for each record of a batch it builds
 * the record's line around the data text it was sent (see `AuditRecordFields`), puts the previous
 * hash into it and hashes it. The batches that arrived while it worked (up to `maxRecords` records)
 * join the same round: one `writev` on the sink's file descriptor and, when any of them asks, one
 * `fdatasync`, before it answers each batch in order.
 *
 * In: `{ bytes, codes, names, seq, sync, leaves }`: `bytes` holds each record's data text in UTF-8;
 * `codes` five numbers per record: the data text's byte count, then the index in the thread's table
 * of names of the canonical JSON of its session, tenant, ts and type; `names` updates that table
 * before the batch is read (`reset` empties it, then `added` go at its end); `seq` is the first
 * record's seq; `sync` asks for the `fdatasync`; `leaves` for the RFC 9162 leaf hash of each line.
 * Out, per batch: `{ prev }` (the hash of the batch's last record) with `leaves` (32 bytes per
 * record), or `{ error, code }` when a write or a sync failed; from then on every batch gets an
 * error (the chain's end is unknown: the sink fails).
 *
 * A line is built in place, in bytes: the keys are constant bytes, the names are kept in UTF-8, the
 * data text is copied from `bytes`, and only `prev` (hex) and the seq's digits are written from
 * values. `{"data":`, the data text, `,"prev":"P"` and the rest are written into the output, that
 * text is hashed, then the part from `"prev"` on moves right to make room for `"hash":"H",`. (Building
 * the text after the data as one string and encoding it cost a fifth more per record; this work is on
 * the durable step's critical path: a batch is answered only after its round's sync.)
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
const CODES = ${CODES_PER_RECORD};
const ascii = (text) => Buffer.from(text, 'latin1');
const DATA_KEY = ascii('{"data":');
const PREV_KEY = ascii(',"prev":"');
const SEQ_KEY = ascii('","seq":');
const SESSION_KEY = ascii(',"session":');
const TENANT_KEY = ascii(',"tenant":');
const TS_KEY = ascii(',"ts":');
const TYPE_KEY = ascii(',"type":');
const HASH_KEY = ascii('"hash":"');
const HASH_FIELD = 74; // "hash":"<64 hex>",
// Bytes of a line besides its data text and its four names: {"data":, the comma after the data,
// the hash field, "prev":"<64 hex>", ,"seq": and at most 16 digits, the four keys, } and the newline.
const FIXED_BYTES = 8 + 1 + HASH_FIELD + 73 + 7 + 16 + 11 + 10 + 6 + 8 + 1 + 1;
const fd = workerData.fd;
const maxRecords = workerData.maxRecords;
let prev = workerData.prev;
// The canonical JSON of the strings records name by index, in UTF-8.
let names = [];
// Copies the bytes of src into out at offset at; returns the offset after them.
const place = (out, at, src) => {
  out.set(src, at);
  return at + src.length;
};
// Writes the decimal digits of a seq (a safe integer, at least 0) at offset at; returns their count.
const writeDigits = (out, at, value) => {
  let digits = 1;
  for (let power = 10; power <= value; power *= 10) digits++;
  let rest = value;
  for (let index = at + digits - 1; index >= at; index--) {
    const digit = rest % 10;
    out[index] = 48 + digit;
    rest = (rest - digit) / 10;
  }
  return digits;
};
const linesOf = (batch) => {
  const codes = batch.codes;
  if (batch.names.reset) names = [];
  for (const name of batch.names.added) names.push(Buffer.from(name, 'utf8'));
  // A Buffer arrives as a plain Uint8Array.
  const bytes = batch.bytes;
  const count = codes.length / CODES;
  let size = bytes.length + count * FIXED_BYTES;
  for (let index = 0; index < count; index++) {
    const at = CODES * index;
    size += names[codes[at + 1]].length + names[codes[at + 2]].length + names[codes[at + 3]].length + names[codes[at + 4]].length;
  }
  const leaves = batch.leaves ? new Uint8Array(32 * count) : undefined;
  const out = Buffer.allocUnsafeSlow(size);
  const buffer = out.buffer;
  let seq = batch.seq;
  let from = 0;
  let at = 0;
  for (let index = 0; index < count; index++) {
    const code = CODES * index;
    const dataBytes = codes[code];
    const start = at;
    // The hashed text: {"data":D,"prev":"P","seq":N,"session":S,"tenant":T,"ts":TS,"type":Y}
    at = place(out, at, DATA_KEY);
    out.set(bytes.subarray(from, from + dataBytes), at);
    at += dataBytes;
    from += dataBytes;
    // Where "hash":"H", goes, after the comma that follows the data.
    const hashAt = at + 1;
    let end = place(out, at, PREV_KEY);
    end += out.write(prev, end, 'latin1');
    end = place(out, end, SEQ_KEY);
    end += writeDigits(out, end, seq);
    const session = names[codes[code + 1]];
    const tenant = names[codes[code + 2]];
    const ts = names[codes[code + 3]];
    const type = names[codes[code + 4]];
    end = place(out, end, SESSION_KEY);
    end = place(out, end, session);
    end = place(out, end, TENANT_KEY);
    end = place(out, end, tenant);
    end = place(out, end, TS_KEY);
    end = place(out, end, ts);
    end = place(out, end, TYPE_KEY);
    end = place(out, end, type);
    out[end++] = 125; // }
    const hash = hex(new Uint8Array(buffer, start, end - start));
    out.copyWithin(hashAt + HASH_FIELD, hashAt, end);
    let field = place(out, hashAt, HASH_KEY);
    field += out.write(hash, field, 'latin1');
    out[field] = 34; // "
    out[field + 1] = 44; // ,
    at = end + HASH_FIELD;
    if (leaves !== undefined) {
      leaves.set(crypto.createHash('sha256').update(LEAF_PREFIX).update(new Uint8Array(buffer, start, at - start)).digest(), 32 * index);
    }
    out[at++] = 10;
    prev = hash;
    seq++;
  }
  return { out: out.subarray(0, at), answer: { prev, leaves } };
};
let failed = false;
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
      records += batch.codes.length / CODES;
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

/** How a batch changes the thread's table of names: `reset` empties it, then `added` go at its end. */
export interface NameUpdate {
  readonly reset: boolean;
  readonly added: readonly string[];
}

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
   * those before it too). `bytes` holds each record's data text in UTF-8; `codes` has
   * {@link CODES_PER_RECORD} numbers per record: its data text's byte count, then the index in the
   * thread's table of names (canonical JSON texts) of its session, tenant, ts and type, after
   * `names` updated that table; `seq` is the seq of the batch's first record. `bytes` and `codes`
   * are handed over to the thread (unusable here afterwards). Resolves in the order of the calls.
   * @throws Error when the write or the sync failed (this batch's or an earlier one's), or the
   * thread stopped.
   */
  write(
    bytes: Buffer,
    codes: Int32Array,
    names: NameUpdate,
    seq: number,
    sync: boolean,
    leaves: boolean,
  ): Promise<WrittenBatch> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    return new Promise<WrittenBatch>((resolve, reject) => {
      // Alive while a batch is in flight: a process must not exit with its records unwritten.
      if (this.#waiting.length === 0) this.#worker.ref();
      this.#waiting.push({ resolve, reject });
      this.#worker.postMessage({ bytes, codes, names, seq, sync, leaves }, [
        bytes.buffer as ArrayBuffer,
        codes.buffer as ArrayBuffer,
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
