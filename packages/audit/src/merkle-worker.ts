import { Worker } from 'node:worker_threads';
import { AuditLogError } from './errors.js';
import { MerkleTreeAccumulator } from './merkle.js';

/**
 * The worker's program (CommonJS, run with `eval`, so the same text serves the ESM and CJS builds
 * and the sources under test). It hashes the RFC 9162 leaves and nodes of the lines the main thread
 * verified, from copies of the very chunks the main thread read: the file is read once.
 *
 * Messages in: `{ chunk }` (the next bytes of the file, after one free leading byte), `{ through }`
 * (the first `through` bytes hold only verified lines: hash them), `{ end }` (as `through`, then
 * reply with the tree). Out: `{ done }` (bytes hashed so far) and `{ size, stack, rootAtSize }`.
 * Anything inconsistent throws, which the main thread reports as a failed verification step.
 */
const PROGRAM = `
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const crypto = require('node:crypto');
const sha = typeof crypto.hash === 'function'
  ? (data) => crypto.hash('sha256', data, 'latin1')
  : (data) => crypto.createHash('sha256').update(data).digest('latin1');
const rootSize = workerData.rootSize;
const node = Buffer.alloc(65);
node[0] = 1;
const children = (left, right) => {
  node.write(left, 1, 32, 'latin1');
  node.write(right, 33, 32, 'latin1');
  return sha(node);
};
const stack = [];
let size = 0;
let rootAtSize;
const root = () => {
  let value = stack[stack.length - 1];
  for (let index = stack.length - 2; index >= 0; index--) value = children(stack[index], value);
  return value;
};
const append = (leaf) => {
  stack.push(leaf);
  let rest = size;
  while (rest % 2 === 1) {
    const right = stack.pop();
    const left = stack.pop();
    stack.push(children(left, right));
    rest = (rest - 1) / 2;
  }
  size++;
  if (size === rootSize) rootAtSize = root();
};
// Chunks not fully hashed: bytes[0] is free, the file's bytes start at index 1; position = next index.
const pending = [];
let position = 1;
let carried = [Buffer.alloc(1)];
let consumed = 0;
let received = 0;
const hashThrough = (through) => {
  if (through > received) throw new Error('told to hash ' + through + ' bytes, received ' + received);
  while (consumed < through) {
    const bytes = pending[0];
    if (bytes === undefined) throw new Error('no bytes left at ' + consumed + ' of ' + through);
    const newline = bytes.indexOf(10, position);
    if (newline === -1) {
      carried.push(bytes.subarray(position));
      consumed += bytes.length - position;
      pending.shift();
      position = 1;
      continue;
    }
    consumed += newline - position + 1;
    if (consumed > through) throw new Error('a line ends at ' + consumed + ', past ' + through);
    if (carried.length === 1 && position > 1) {
      // The byte before the line is the previous line's newline, already hashed: 0x00 now.
      bytes[position - 1] = 0;
      append(sha(bytes.subarray(position - 1, newline)));
    } else {
      carried.push(bytes.subarray(position, newline));
      append(sha(Buffer.concat(carried)));
      carried = [Buffer.alloc(1)];
    }
    position = newline + 1;
  }
  if (consumed !== through) throw new Error('hashed ' + consumed + ' bytes, not ' + through);
};
parentPort.on('message', (message) => {
  if (message.chunk !== undefined) {
    const bytes = Buffer.from(message.chunk.buffer, message.chunk.byteOffset, message.chunk.byteLength);
    received += bytes.length - 1;
    pending.push(bytes);
  } else if (message.through !== undefined) {
    hashThrough(message.through);
    parentPort.postMessage({ done: consumed });
  } else {
    hashThrough(message.end);
    parentPort.postMessage({ size, stack, rootAtSize });
  }
});
`;

/** Verified bytes the worker may have left to hash before the reader waits: memory stays flat. */
const MAX_BEHIND_BYTES = 8 * 1_048_576;

/** @internal How a {@link MerkleWorker} bounds what it holds. */
export interface MerkleWorkerLimits {
  /** The verifier's line limit: no verifiable line spans more unverified bytes than this. */
  readonly maxLineBytes: number;
  readonly chunkBytes: number;
  /** Default 8 MiB (tests use 0: wait after every chunk). */
  readonly maxBehindBytes?: number;
}

/** The tree a {@link MerkleWorker} built. */
export interface MerkleWorkerResult {
  readonly tree: MerkleTreeAccumulator;
  /** Latin1 root of the first `rootSize` leaves, when the tree reached that size. */
  readonly rootAtSize: string | undefined;
}

/**
 * @internal Builds the Merkle tree of a log's verified lines on a second thread while the main
 * thread verifies the chain: {@link add} each chunk as it is read, {@link through} after each
 * batch of lines is verified, {@link finish} with the verified prefix, {@link close} on every path.
 * A worker that fails, exits or disagrees makes {@link add}/{@link finish} reject with an
 * `AuditLogError` (`AUDIT_INVALID`): verification fails closed, never reports "intact".
 */
export class MerkleWorker {
  readonly #worker: Worker;
  readonly #path: string;
  /** Unverified bytes beyond which no line can be accepted: the rest is not sent. */
  readonly #maxAhead: number;
  readonly #maxBehind: number;
  readonly #exited: Promise<number>;
  #sent = 0;
  #through = 0;
  #done = 0;
  #dropping = false;
  #failure: AuditLogError | undefined;
  #waiting: { resolve: () => void; reject: (error: unknown) => void } | undefined;
  #result:
    | { resolve: (value: MerkleWorkerResult) => void; reject: (error: unknown) => void; records: number }
    | undefined;
  #closed = false;

  /** `rootSize`: also keep the root of the first `rootSize` leaves. `path` names the log in errors. */
  constructor(path: string, rootSize: number | undefined, limits: MerkleWorkerLimits) {
    this.#path = path;
    this.#maxAhead = limits.maxLineBytes + 2 * limits.chunkBytes;
    this.#maxBehind = limits.maxBehindBytes ?? MAX_BEHIND_BYTES;
    this.#worker = new Worker(PROGRAM, { eval: true, workerData: { rootSize } });
    this.#exited = new Promise((resolve) => this.#worker.once('exit', resolve));
    this.#worker.on('message', (message: Record<string, unknown>) => this.#receive(message));
    this.#worker.on('error', (error) => this.#fail(`failed: ${error.message}`, error));
    this.#worker.on('messageerror', (error) => this.#fail(`sent an unreadable message: ${error.message}`));
    this.#worker.on('exit', (code) => this.#fail(`stopped early (exit code ${code})`));
  }

  /**
   * Hands a copy of the next chunk of the file to the worker; waits while it is far behind. Once
   * the unverified bytes exceed what one acceptable line can span (an over-long line, which fails
   * verification), the rest of the file is not sent; a later claim that it verified fails closed.
   */
  async add(chunk: Uint8Array): Promise<void> {
    this.#check();
    if (this.#dropping || this.#sent - this.#through > this.#maxAhead) {
      this.#dropping = true;
      return;
    }
    const copy = new Uint8Array(chunk.byteLength + 1);
    copy.set(chunk, 1);
    this.#worker.postMessage({ chunk: copy }, [copy.buffer]);
    this.#sent += chunk.byteLength;
    while (this.#through - this.#done > this.#maxBehind) {
      await new Promise<void>((resolve, reject) => {
        this.#waiting = { resolve, reject };
      });
    }
  }

  /** The first `bytes` bytes of the file hold only verified lines. */
  through(bytes: number): void {
    this.#check();
    if (bytes === this.#through) return;
    this.#through = bytes;
    this.#worker.postMessage({ through: bytes });
  }

  /** The tree of the lines in the first `bytes` bytes, which must be `records` lines. */
  finish(bytes: number, records: number): Promise<MerkleWorkerResult> {
    this.#check();
    return new Promise((resolve, reject) => {
      this.#result = { resolve, reject, records };
      this.#worker.postMessage({ end: bytes });
    });
  }

  /** Settles with the exit code once the worker thread has stopped. */
  get exited(): Promise<number> {
    return this.#exited;
  }

  /** Stops the worker (every path: done, failed, or verification ended early). */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#worker.terminate();
  }

  #receive(message: Record<string, unknown>): void {
    if (typeof message['done'] === 'number') {
      this.#done = message['done'];
      const waiting = this.#waiting;
      this.#waiting = undefined;
      waiting?.resolve();
      return;
    }
    const result = this.#result;
    const { size, stack, rootAtSize } = message as { size: unknown; stack: unknown; rootAtSize: unknown };
    const tree = MerkleTreeAccumulator.fromCompactRange(size, stack);
    if (result === undefined || tree === undefined || tree.size !== result.records) {
      this.#fail(`hashed ${String(size)} records where ${String(result?.records)} verified`);
      return;
    }
    this.#result = undefined;
    result.resolve({ tree, rootAtSize: typeof rootAtSize === 'string' ? rootAtSize : undefined });
  }

  #fail(why: string, cause?: unknown): void {
    if (this.#closed || this.#failure !== undefined) return;
    this.#failure = new AuditLogError(
      `Cannot verify audit log ${this.#path}: the Merkle tree worker ${why}. The log was not verified; run the verification again.`,
      { path: this.#path, step: 'merkle-worker' },
      cause === undefined ? undefined : { cause },
    );
    this.#waiting?.reject(this.#failure);
    this.#result?.reject(this.#failure);
    this.#waiting = undefined;
    this.#result = undefined;
  }

  #check(): void {
    if (this.#failure !== undefined) throw this.#failure;
  }
}
