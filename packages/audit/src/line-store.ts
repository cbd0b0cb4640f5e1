/** The first chunk's size; each next chunk doubles it, up to {@link LARGEST_CHUNK}. */
const FIRST_CHUNK = 4 * 1024;

/** The largest chunk, except for a line longer than that (it gets a chunk of its own size). */
const LARGEST_CHUNK = 1024 * 1024;

/**
 * @internal UTF-8 takes at most 3 bytes per UTF-16 code unit (a surrogate pair is 4 bytes for 2
 * units): a string of L units is at most 3L bytes.
 */
export const MAX_UTF8_BYTES_PER_UNIT = 3;

/**
 * @internal An append-only list of text lines kept as UTF-8 bytes in large buffers outside the
 * JavaScript heap. A long in-memory log then costs the garbage collector nothing per line: a line
 * kept as a string survives every young-generation collection after it and is copied by each (a
 * quarter of a hash-chained step's time went to that). Reading a line decodes it again.
 *
 * Lines must be well-formed UTF-16 (no lone surrogate), which canonical JSON is: it escapes lone
 * surrogates, so every line reads back exactly as it was added.
 */
export class LineStore {
  readonly #chunks: Buffer[] = [];
  /** The chunk being filled, and how many of its bytes are used. */
  #chunk: Buffer | undefined;
  #used = 0;
  /** For line `i`: the chunk that holds it, and where it ends (it starts where line `i − 1` ended, or at 0). */
  #chunkOf = new Uint32Array(64);
  #endOf = new Float64Array(64);
  #count = 0;

  /** How many lines were added. */
  get length(): number {
    return this.#count;
  }

  /** Bytes allocated for lines so far (every chunk's size): what the store holds outside the heap. */
  get capacity(): number {
    let bytes = 0;
    for (const chunk of this.#chunks) bytes += chunk.length;
    return bytes;
  }

  /** Adds `line` at the end. */
  push(line: string): void {
    let chunk = this.#chunk;
    if (chunk === undefined || chunk.length - this.#used < line.length * MAX_UTF8_BYTES_PER_UNIT) {
      const bytes = Buffer.byteLength(line, 'utf8');
      if (chunk === undefined || chunk.length - this.#used < bytes) chunk = this.#newChunk(bytes);
    }
    const written = chunk.write(line, this.#used, 'utf8');
    const index = this.#count;
    if (index === this.#endOf.length) this.#grow();
    this.#used += written;
    this.#chunkOf[index] = this.#chunks.length - 1;
    this.#endOf[index] = this.#used;
    this.#count = index + 1;
  }

  /** Line `index` (0-based), decoded; `undefined` past the end. */
  at(index: number): string | undefined {
    if (!Number.isSafeInteger(index) || index < 0 || index >= this.#count) return undefined;
    const chunkIndex = this.#chunkOf[index]!;
    const start = index > 0 && this.#chunkOf[index - 1] === chunkIndex ? this.#endOf[index - 1]! : 0;
    return this.#chunks[chunkIndex]!.toString('utf8', start, this.#endOf[index]!);
  }

  /** Every line from `from` on, decoded, in order. */
  slice(from = 0): string[] {
    const lines: string[] = [];
    for (let index = Math.max(0, from); index < this.#count; index++) lines.push(this.at(index)!);
    return lines;
  }

  #newChunk(bytes: number): Buffer {
    const previous = this.#chunk?.length ?? FIRST_CHUNK / 2;
    // Not zero-filled: a line is only ever read back from bytes it wrote (`at` stops at its end).
    const chunk = Buffer.allocUnsafeSlow(Math.max(Math.min(previous * 2, LARGEST_CHUNK), bytes));
    this.#chunks.push(chunk);
    this.#chunk = chunk;
    this.#used = 0;
    return chunk;
  }

  #grow(): void {
    const chunkOf = new Uint32Array(this.#chunkOf.length * 2);
    chunkOf.set(this.#chunkOf);
    this.#chunkOf = chunkOf;
    const endOf = new Float64Array(this.#endOf.length * 2);
    endOf.set(this.#endOf);
    this.#endOf = endOf;
  }
}
