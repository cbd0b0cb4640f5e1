import { open, rename } from 'node:fs/promises';
import { AuditError } from '@ape/core';
import { signCheckpoint } from './checkpoint.js';
import { MerkleTreeAccumulator } from './merkle.js';
import { type NoteSigner, parseSignerKey } from './signed-note.js';
import { syncDirectory } from './sync-directory.js';
import { hex } from './verify.js';

/** Option `checkpoint` of the sinks: where and how often to write signed checkpoints. */
export interface AuditCheckpointOptions {
  /** The signer key: its `PRIVATE+KEY+…` text (from `ape audit keygen`) or a parsed signer. */
  readonly key: string | NoteSigner;
  /**
   * The checkpoint file, replaced atomically (write to `<path>.tmp`, fsync, rename) each time. Put
   * it where the log's writer cannot rewrite history: see docs/audit.md, "Keeping checkpoints".
   */
  readonly path: string;
  /** Write a checkpoint once this many records were added since the last one. Default 1000. */
  readonly every?: number;
  /** And at the latest this many milliseconds after a record arrived. Default 1000. */
  readonly intervalMs?: number;
  /** The checkpoint's origin line. Default: the key's name. */
  readonly origin?: string;
}

/**
 * @internal Keeps the Merkle tree of a sink's stored records and writes signed checkpoints of it:
 * every `every` records, `intervalMs` after the first record not yet covered, and on `close`.
 * Writes never overlap; the first failure is kept and reported by `failure`.
 */
export class CheckpointWriter {
  readonly #signer: NoteSigner;
  readonly #path: string;
  readonly #every: number;
  readonly #intervalMs: number;
  readonly #origin: string;
  readonly #tree: MerkleTreeAccumulator;
  #lastSize = -1;
  #lastNote: string | undefined;
  #writing: Promise<void> = Promise.resolve();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #failure: AuditError | undefined;
  #closed = false;

  readonly #beforeWrite: (() => Promise<void>) | undefined;

  /**
   * `tree` holds the records already stored; `beforeWrite` runs before each checkpoint is written
   * (the file sink in `durable: false` mode syncs the log there, so a checkpoint never covers
   * records a power loss could take away).
   */
  constructor(
    options: AuditCheckpointOptions,
    tree: MerkleTreeAccumulator = new MerkleTreeAccumulator(),
    beforeWrite?: () => Promise<void>,
  ) {
    this.#beforeWrite = beforeWrite;
    this.#signer =
      typeof options.key === 'string' ? parseSignerKey(options.key, 'option checkpoint.key') : options.key;
    const every = options.every ?? 1000;
    const intervalMs = options.intervalMs ?? 1000;
    if (!Number.isSafeInteger(every) || every < 1) {
      throw new AuditError('Option checkpoint.every must be a positive integer.', {
        field: 'checkpoint.every',
      });
    }
    if (!Number.isFinite(intervalMs) || intervalMs <= 0) {
      throw new AuditError('Option checkpoint.intervalMs must be a positive number of milliseconds.', {
        field: 'checkpoint.intervalMs',
      });
    }
    if (typeof options.path !== 'string' || options.path.length === 0) {
      throw new AuditError('Option checkpoint.path must name a file.', { field: 'checkpoint.path' });
    }
    this.#path = options.path;
    this.#every = every;
    this.#intervalMs = intervalMs;
    this.#origin = options.origin ?? this.#signer.name;
    this.#tree = tree;
  }

  /** Records the tree covers (the sink's stored records). */
  get size(): number {
    return this.#tree.size;
  }

  /** The signed note of the last checkpoint written, if any. */
  get lastNote(): string | undefined {
    return this.#lastNote;
  }

  /** The first error writing a checkpoint, if one failed. */
  get failure(): AuditError | undefined {
    return this.#failure;
  }

  /** Adds stored records (their leaf hashes, in order); starts a checkpoint when one is due. */
  add(leafHashes: readonly Uint8Array[]): void {
    for (const leafHash of leafHashes) this.#tree.appendLeafHash(leafHash);
    if (this.#closed || leafHashes.length === 0) return;
    if (this.#tree.size - Math.max(this.#lastSize, 0) >= this.#every) {
      this.#start();
      return;
    }
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      this.#start();
    }, this.#intervalMs);
    this.#timer.unref?.();
  }

  /** Waits for the checkpoint being written, if any. */
  async settle(): Promise<void> {
    await this.#writing;
  }

  /** Stops the timer and writes a final checkpoint when records (or none yet) are uncovered. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#tree.size !== this.#lastSize) this.#start();
    await this.#writing;
  }

  #start(): void {
    if (this.#failure !== undefined) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const size = this.#tree.size;
    if (size === this.#lastSize) return;
    const note = signCheckpoint(
      { origin: this.#origin, size, rootHash: hex(this.#tree.root()) },
      this.#signer,
    );
    this.#lastSize = size;
    this.#writing = this.#writing.then(() => this.#write(note));
  }

  async #write(note: string): Promise<void> {
    if (this.#failure !== undefined) return;
    const temporary = `${this.#path}.tmp`;
    try {
      await this.#beforeWrite?.();
      const handle = await open(temporary, 'w', 0o644);
      try {
        await handle.writeFile(note, 'utf8');
        await handle.datasync();
      } finally {
        await handle.close();
      }
      await rename(temporary, this.#path);
      await syncDirectory(this.#path);
      this.#lastNote = note;
    } catch (error) {
      this.#failure = new AuditError(
        `Writing audit checkpoint ${this.#path} failed (${String((error as Error).message)}); the sink refuses further events.`,
        { path: this.#path },
        { cause: error },
      );
    }
  }
}
