import * as nodeCrypto from 'node:crypto';

/**
 * RFC 9162 §2.1 Merkle tree hashing with SHA-256: leaf = sha256(0x00 ‖ leaf bytes), node =
 * sha256(0x01 ‖ left ‖ right), the root of n leaves splits at the largest power of two below n.
 * Hashes are 32-byte `Uint8Array`s here; the audit API turns them into lower-case hex.
 */

const LEAF_PREFIX = new Uint8Array([0x00]);

type OneShotHash = (algorithm: string, data: string | Uint8Array, outputEncoding: 'latin1') => string;

/** `crypto.hash` (Node ≥ 20.12) when present: one native call instead of a `Hash` object per hash. */
const oneShotHash = (nodeCrypto as unknown as { hash?: OneShotHash }).hash;

function sha256Bytes(data: string | Uint8Array): Uint8Array {
  // The digest as a latin1 string (one char per byte) copied into a Buffer costs less than half of
  // asking `crypto.hash` for a Buffer, which Node 20 builds on a slower path.
  return oneShotHash === undefined
    ? nodeCrypto.createHash('sha256').update(data).digest()
    : Buffer.from(oneShotHash('sha256', data, 'latin1'), 'latin1');
}

/** 0x01 ‖ left ‖ right, rewritten for every interior node (hashing copies it out). */
const nodeInput = new Uint8Array(1 + 2 * 32);
nodeInput[0] = 0x01;

/** Bytes in one SHA-256 hash. */
export const MERKLE_HASH_BYTES = 32;

/** The root of the empty tree: sha256 of nothing (RFC 9162 §2.1.1). */
export const EMPTY_MERKLE_ROOT: Uint8Array = nodeCrypto.createHash('sha256').digest();

/** The hash of one leaf: sha256(0x00 ‖ `data`). A string is taken as its UTF-8 bytes. */
export function hashMerkleLeaf(data: string | Uint8Array): Uint8Array {
  // U+0000 is the single byte 0x00 in UTF-8, so a string leaf needs no byte copy of its own.
  if (typeof data === 'string') return sha256Bytes(`\u0000${data}`);
  const input = new Uint8Array(1 + data.byteLength);
  input.set(LEAF_PREFIX, 0);
  input.set(data, 1);
  return sha256Bytes(input);
}

/** The hash of an interior node: sha256(0x01 ‖ `left` ‖ `right`). */
export function hashMerkleChildren(left: Uint8Array, right: Uint8Array): Uint8Array {
  if (left.byteLength !== MERKLE_HASH_BYTES || right.byteLength !== MERKLE_HASH_BYTES) {
    return sha256Bytes(Buffer.concat([nodeInput.subarray(0, 1), left, right]));
  }
  nodeInput.set(left, 1);
  nodeInput.set(right, 1 + MERKLE_HASH_BYTES);
  return sha256Bytes(nodeInput);
}

/** A hash as a 32-character latin1 string (one character per byte): the accumulator's own form. */
type LatinHash = string;

function latin1Of(bytes: Uint8Array): LatinHash {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

function bytesOf(hash: LatinHash): Uint8Array {
  return Buffer.from(hash, 'latin1');
}

function isLatinHash(hash: string): boolean {
  if (hash.length !== MERKLE_HASH_BYTES) return false;
  for (let index = 0; index < hash.length; index++) if (hash.charCodeAt(index) > 0xff) return false;
  return true;
}

/** sha256 as a latin1 string; no Buffer is built per hash. */
function sha256Latin1(data: string | Uint8Array): LatinHash {
  return oneShotHash === undefined
    ? nodeCrypto.createHash('sha256').update(data).digest('binary')
    : oneShotHash('sha256', data, 'latin1');
}

/** 0x01 ‖ left ‖ right for the accumulator, written from latin1 hashes (hashing copies it out). */
const accumulatorNodeInput = Buffer.alloc(1 + 2 * MERKLE_HASH_BYTES);
accumulatorNodeInput[0] = 0x01;

/** {@link hashMerkleChildren} over latin1 hashes. */
function hashLatinChildren(left: LatinHash, right: LatinHash): LatinHash {
  if (left.length !== MERKLE_HASH_BYTES || right.length !== MERKLE_HASH_BYTES) {
    return latin1Of(hashMerkleChildren(bytesOf(left), bytesOf(right)));
  }
  accumulatorNodeInput.write(left, 1, MERKLE_HASH_BYTES, 'latin1');
  accumulatorNodeInput.write(right, 1 + MERKLE_HASH_BYTES, MERKLE_HASH_BYTES, 'latin1');
  return sha256Latin1(accumulatorNodeInput);
}

/**
 * A Merkle tree built one leaf at a time in O(log n) memory: it keeps only the roots of the
 * perfect subtrees the leaves so far form (the "compact range" of the tree), largest first. They
 * are kept as latin1 strings, so appending a leaf allocates no Buffer (the verifier appends a
 * million of them).
 */
export class MerkleTreeAccumulator {
  #size = 0;
  readonly #stack: LatinHash[] = [];

  /** Leaves appended so far. */
  get size(): number {
    return this.#size;
  }

  /** Appends the hash of the next leaf (from {@link hashMerkleLeaf}). */
  appendLeafHash(leafHash: Uint8Array): void {
    this.#append(latin1Of(leafHash));
  }

  /** Hashes `data` as a leaf and appends it. */
  appendLeaf(data: string | Uint8Array): void {
    this.#append(typeof data === 'string' ? sha256Latin1(`\u0000${data}`) : latin1Of(hashMerkleLeaf(data)));
  }

  /**
   * @internal Hashes the line `text` (its UTF-8 bytes) as the next leaf, appends it and returns
   * the leaf hash as a latin1 string (see {@link merkleHashBytes}).
   */
  appendLeafText(text: string): string {
    // U+0000 is the single byte 0x00 in UTF-8, so the leaf prefix needs no byte copy of its own.
    const leaf = sha256Latin1(`\u0000${text}`);
    this.#append(leaf);
    return leaf;
  }

  #append(leaf: LatinHash): void {
    const stack = this.#stack;
    stack.push(leaf);
    // Each trailing 1 bit of the old size is a perfect subtree of the same height to merge with.
    let size = this.#size;
    while (size % 2 === 1) {
      const right = stack.pop() as LatinHash;
      const left = stack.pop() as LatinHash;
      stack.push(hashLatinChildren(left, right));
      size = (size - 1) / 2;
    }
    this.#size++;
  }

  /** The root of the tree of every leaf so far ({@link EMPTY_MERKLE_ROOT} when empty). */
  root(): Uint8Array {
    const stack = this.#stack;
    if (stack.length === 0) return EMPTY_MERKLE_ROOT;
    let root = stack[stack.length - 1] as LatinHash;
    for (let index = stack.length - 2; index >= 0; index--) {
      root = hashLatinChildren(stack[index] as LatinHash, root);
    }
    return bytesOf(root);
  }

  /**
   * @internal The tree of `size` leaves whose compact range (largest subtree first) is `stack`, in
   * latin1 hashes as another thread sent them; `undefined` when they cannot be such a state.
   */
  static fromCompactRange(size: unknown, stack: unknown): MerkleTreeAccumulator | undefined {
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0 || !Array.isArray(stack)) {
      return undefined;
    }
    let subtrees = 0;
    for (let rest = size; rest > 0; rest = Math.floor(rest / 2)) subtrees += rest % 2;
    if (stack.length !== subtrees) return undefined;
    const tree = new MerkleTreeAccumulator();
    for (const hash of stack) {
      if (typeof hash !== 'string' || !isLatinHash(hash)) return undefined;
      tree.#stack.push(hash);
    }
    tree.#size = size;
    return tree;
  }

  /** An independent copy (the sinks keep the state of the last checkpoint). */
  clone(): MerkleTreeAccumulator {
    const copy = new MerkleTreeAccumulator();
    copy.#size = this.#size;
    copy.#stack.push(...this.#stack);
    return copy;
  }
}

/** @internal The bytes of a hash {@link MerkleTreeAccumulator.appendLeafText} returned. */
export function merkleHashBytes(hash: string): Uint8Array {
  return bytesOf(hash);
}

/** The largest power of two strictly below `n` (n ≥ 2). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** MTH(D[start:end]) over leaf hashes, by RFC 9162 §2.1.1. */
export function merkleRootOf(
  leafHashes: readonly Uint8Array[],
  start = 0,
  end = leafHashes.length,
): Uint8Array {
  const n = end - start;
  if (n === 0) return EMPTY_MERKLE_ROOT;
  if (n === 1) return leafHashes[start] as Uint8Array;
  const k = splitPoint(n);
  return hashMerkleChildren(
    merkleRootOf(leafHashes, start, start + k),
    merkleRootOf(leafHashes, start + k, end),
  );
}

/**
 * The inclusion proof (audit path, RFC 9162 §2.1.3.1) of leaf `index` in the tree of the first
 * `size` leaf hashes. Requires `0 ≤ index < size ≤ leafHashes.length`.
 */
export function merkleInclusionProof(
  leafHashes: readonly Uint8Array[],
  index: number,
  size: number,
): Uint8Array[] {
  if (!(Number.isSafeInteger(index) && Number.isSafeInteger(size) && index >= 0 && index < size)) {
    throw new RangeError(`Leaf index ${index} is not inside a tree of ${size} leaves.`);
  }
  if (size > leafHashes.length) throw new RangeError(`A tree of ${size} leaves needs that many leaf hashes.`);
  const proof: Uint8Array[] = [];
  path(leafHashes, index, 0, size, proof);
  return proof;
}

function path(
  leaves: readonly Uint8Array[],
  index: number,
  start: number,
  end: number,
  out: Uint8Array[],
): void {
  const n = end - start;
  if (n <= 1) return;
  const k = splitPoint(n);
  if (index < k) {
    path(leaves, index, start, start + k, out);
    out.push(merkleRootOf(leaves, start + k, end));
  } else {
    path(leaves, index - k, start + k, end, out);
    out.push(merkleRootOf(leaves, start, start + k));
  }
}

/**
 * The consistency proof (RFC 9162 §2.1.4.1) that the tree of the first `size1` leaves is a prefix
 * of the tree of the first `size2`. Requires `0 ≤ size1 ≤ size2 ≤ leafHashes.length`; empty when
 * `size1` is 0 or equal to `size2`.
 */
export function merkleConsistencyProof(
  leafHashes: readonly Uint8Array[],
  size1: number,
  size2: number,
): Uint8Array[] {
  if (!(Number.isSafeInteger(size1) && Number.isSafeInteger(size2) && size1 >= 0 && size1 <= size2)) {
    throw new RangeError(`Tree size ${size1} cannot be a prefix of tree size ${size2}.`);
  }
  if (size2 > leafHashes.length)
    throw new RangeError(`A tree of ${size2} leaves needs that many leaf hashes.`);
  const proof: Uint8Array[] = [];
  if (size1 > 0 && size1 < size2) subproof(leafHashes, size1, 0, size2, true, proof);
  return proof;
}

function subproof(
  leaves: readonly Uint8Array[],
  m: number,
  start: number,
  end: number,
  complete: boolean,
  out: Uint8Array[],
): void {
  const n = end - start;
  if (m === n) {
    if (!complete) out.push(merkleRootOf(leaves, start, end));
    return;
  }
  const k = splitPoint(n);
  if (m <= k) {
    subproof(leaves, m, start, start + k, complete, out);
    out.push(merkleRootOf(leaves, start + k, end));
  } else {
    subproof(leaves, m - k, start + k, end, false, out);
    out.push(merkleRootOf(leaves, start, start + k));
  }
}

function isOdd(value: number): boolean {
  return value % 2 === 1;
}

function half(value: number): number {
  return Math.floor(value / 2);
}

/** @internal Byte-wise equality of two hashes. */
export function equalHashes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let index = 0; index < a.length; index++) difference |= (a[index] as number) ^ (b[index] as number);
  return difference === 0;
}

/**
 * The root an inclusion proof leads to (RFC 9162 §2.1.3.2), or `undefined` when the proof cannot
 * belong to leaf `index` of a tree of `size` leaves (wrong length, index out of range).
 */
export function rootFromInclusionProof(
  index: number,
  size: number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
): Uint8Array | undefined {
  if (!(Number.isSafeInteger(index) && Number.isSafeInteger(size) && index >= 0 && index < size))
    return undefined;
  if (leafHash.length !== MERKLE_HASH_BYTES) return undefined;
  const walk = { fn: index, sn: size - 1 };
  let root = leafHash;
  for (const sibling of proof) {
    if (walk.sn === 0 || sibling.length !== MERKLE_HASH_BYTES) return undefined;
    root = climb(walk) ? hashMerkleChildren(sibling, root) : hashMerkleChildren(root, sibling);
  }
  return walk.sn === 0 ? root : undefined;
}

/** True when `proof` shows leaf `index` with hash `leafHash` is in the tree of `size` leaves with `root`. */
export function verifyMerkleInclusion(
  index: number,
  size: number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  const computed = rootFromInclusionProof(index, size, leafHash, proof);
  return computed !== undefined && equalHashes(computed, root);
}

/**
 * True when `proof` shows the tree of `size1` leaves with `root1` is a prefix of the tree of
 * `size2` leaves with `root2` (RFC 9162 §2.1.4.2). Equal sizes need equal roots and an empty proof;
 * `size1` 0 is a prefix of everything (empty proof).
 */
export function verifyMerkleConsistency(
  size1: number,
  size2: number,
  root1: Uint8Array,
  root2: Uint8Array,
  proof: readonly Uint8Array[],
): boolean {
  if (!(Number.isSafeInteger(size1) && Number.isSafeInteger(size2) && size1 >= 0 && size1 <= size2))
    return false;
  if (size1 === size2) return proof.length === 0 && equalHashes(root1, root2);
  if (size1 === 0) return proof.length === 0;
  if (proof.length === 0 || proof.some((hash) => hash.length !== MERKLE_HASH_BYTES)) return false;
  const path = isPowerOfTwo(size1) ? [root1, ...proof] : [...proof];
  const walk = { fn: size1 - 1, sn: size2 - 1 };
  while (isOdd(walk.fn)) halve(walk);
  let firstRoot = path[0] as Uint8Array;
  let secondRoot = firstRoot;
  for (let index = 1; index < path.length; index++) {
    const node = path[index] as Uint8Array;
    if (walk.sn === 0) return false;
    if (climb(walk)) {
      firstRoot = hashMerkleChildren(node, firstRoot);
      secondRoot = hashMerkleChildren(node, secondRoot);
    } else {
      secondRoot = hashMerkleChildren(secondRoot, node);
    }
  }
  return walk.sn === 0 && equalHashes(firstRoot, root1) && equalHashes(secondRoot, root2);
}

/** The position of a proof walk (RFC 9162 §2.1.3.2, §2.1.4.2): `fn` the node, `sn` the last node of its level. */
interface ProofWalk {
  fn: number;
  sn: number;
}

function halve(walk: ProofWalk): void {
  walk.fn = half(walk.fn);
  walk.sn = half(walk.sn);
}

/**
 * One step of a proof walk up the tree: true when the proof's next node is the left sibling (it is
 * hashed as `node ‖ root`), false when it is the right one (`root ‖ node`).
 */
function climb(walk: ProofWalk): boolean {
  const left = isOdd(walk.fn) || walk.fn === walk.sn;
  if (left) {
    while (!isOdd(walk.fn) && walk.fn !== 0) halve(walk);
  }
  halve(walk);
  return left;
}

function isPowerOfTwo(value: number): boolean {
  let n = value;
  while (n > 1 && n % 2 === 0) n /= 2;
  return n === 1;
}
