import { openCheckpoint, type VerifiedAuditCheckpoint } from './checkpoint.js';
import { AuditKeyError, AuditLogError } from './errors.js';
import { stat } from 'node:fs/promises';
import {
  CHUNK_BYTES,
  fileChunks,
  type LineSource,
  linesFromArray,
  parseAuditLine,
  splitLines,
} from './lines.js';
import { MerkleWorker } from './merkle-worker.js';
import { EMPTY_MERKLE_ROOT, MerkleTreeAccumulator, merkleHashBytes } from './merkle.js';
import { AUDIT_GENESIS_HASH, type AuditRecord, MAX_AUDIT_LINE_BYTES } from './record.js';
import { proveRecordLine } from './record-line-proof.js';
import type { NoteVerifier } from './signed-note.js';
import { messageOf } from '@ape/core';

/**
 * What {@link verifyAuditLog} found wrong. `'truncated'` is the only problem reported with
 * `ok: true`: a torn last line left by a crash, recoverable by cutting it off. The `checkpoint-*`
 * problems come from checking the log against a signed checkpoint (option `checkpoint`):
 * `'checkpoint-invalid'` (not a checkpoint), `'checkpoint-signature'` (not signed by the key, or
 * the signature does not verify), `'checkpoint-ahead'` (the checkpoint covers more records than the
 * log holds: its tail was cut or it was replaced by an older copy) and `'checkpoint-mismatch'` (the
 * records the checkpoint covers do not hash to its root: rewritten, replaced, or a fork).
 */
export type AuditProblem =
  | 'edited'
  | 'dropped'
  | 'inserted'
  | 'reordered'
  | 'duplicated'
  | 'bad-genesis'
  | 'malformed'
  | 'truncated'
  | 'checkpoint-invalid'
  | 'checkpoint-signature'
  | 'checkpoint-ahead'
  | 'checkpoint-mismatch';

/** What checking a log against a checkpoint found (in {@link AuditVerification}). */
export interface AuditCheckpointCheck {
  readonly origin: string;
  /** Records the checkpoint covers. */
  readonly size: number;
  /** The checkpoint's root hash (hex). */
  readonly rootHash: string;
  /** The key whose signature verified (`name+hash`). */
  readonly signedBy: string;
  /** True when the log's first `size` records have exactly this root. */
  readonly matches: boolean;
}

/** The outcome of verifying a log. See docs/audit.md, "Verification", for the exact rules. */
export interface AuditVerification {
  /** True when every complete line is a record and the chain is intact (a torn tail is allowed). */
  readonly ok: boolean;
  /** The number of leading records that verified. */
  readonly records: number;
  /** The `hash` of the last verified record; {@link AUDIT_GENESIS_HASH} when there is none. */
  readonly lastHash: string;
  /** Bytes of the verified prefix (for a line array: UTF-8 bytes plus one `\n` per line). */
  readonly intactBytes: number;
  /**
   * Lower-case hex RFC 9162 Merkle tree root of the `records` verified records (leaf = sha256(0x00 ‖
   * line bytes without `\n`)); the root of the empty tree when there are none.
   */
  readonly rootHash: string;
  /** With option `checkpoint` and a checkpoint whose signature verified: what comparing found. */
  readonly checkpoint?: AuditCheckpointCheck;
  /** With `ok: true`: the last line is torn (no `\n`, or not a record) and is not counted. */
  readonly truncated?: boolean;
  readonly problem?: AuditProblem;
  /** The seq of the first record missing, altered, inserted or out of place (see docs/audit.md). */
  readonly firstBadSeq?: number;
  /** The 1-based line where the problem is. */
  readonly firstBadLine?: number;
  /** One sentence for humans. */
  readonly message?: string;
}

/** Options of {@link verifyAuditLog}. */
export interface VerifyAuditLogOptions {
  /** Lines longer than this (UTF-8 bytes, without `\n`) are malformed. Default {@link MAX_AUDIT_LINE_BYTES}. */
  readonly maxLineBytes?: number;
  /**
   * Also proves the log matches a signed checkpoint: `note` is the checkpoint's signed-note text,
   * `key` the verifier key (text or parsed) it must be signed with, `source` its name in messages.
   * The log's first `size` records must hash to the checkpoint's root; records after them are
   * allowed (the log grew since).
   */
  readonly checkpoint?: {
    readonly note: string;
    readonly key: string | NoteVerifier;
    readonly source?: string;
  };
}

/**
 * Verifies an audit log: a file path, or its lines (each element one line without `\n`; a final
 * empty element is ignored). Detects edited, dropped, inserted, reordered and duplicated records, a
 * bad chain start and malformed lines, and tells a torn last line (recoverable truncation, `ok: true,
 * truncated: true`) from tampering. Streams files; memory does not grow with the file.
 *
 * @throws AuditLogError (`AUDIT_INVALID`) when the file cannot be read.
 */
export async function verifyAuditLog(
  source: string | readonly string[],
  options: VerifyAuditLogOptions = {},
): Promise<AuditVerification> {
  const maxLineBytes = options.maxLineBytes ?? MAX_AUDIT_LINE_BYTES;
  let checkpoint: VerifiedAuditCheckpoint | undefined;
  if (options.checkpoint !== undefined) {
    const { note, key, source: where = 'the checkpoint' } = options.checkpoint;
    try {
      checkpoint = openCheckpoint(note, key, where);
    } catch (error) {
      if (AuditKeyError.isInstance(error) || !AuditLogError.isInstance(error)) throw error;
      return checkpointRefused(error);
    }
  }
  let scanned: TreeVerification;
  try {
    scanned =
      typeof source === 'string'
        ? await verifyFileWithTree(source, maxLineBytes, checkpoint?.size)
        : await verifyLinesWithTree(linesFromArray(source, maxLineBytes), checkpoint?.size);
  } catch (error) {
    throw typeof source === 'string' ? readFailure(source, error) : error;
  }
  return checkpoint === undefined ? scanned.verification : compareCheckpoint(scanned, checkpoint);
}

function checkpointRefused(error: AuditLogError): AuditVerification {
  const problem =
    error.details['problem'] === 'checkpoint-signature' ? 'checkpoint-signature' : 'checkpoint-invalid';
  return {
    ok: false,
    records: 0,
    lastHash: AUDIT_GENESIS_HASH,
    intactBytes: 0,
    rootHash: hex(EMPTY_MERKLE_ROOT),
    problem,
    message: error.message,
  };
}

function compareCheckpoint(
  scanned: TreeVerification,
  checkpoint: VerifiedAuditCheckpoint,
): AuditVerification {
  const verification = scanned.verification;
  // `rootAtSize` is undefined when the log holds fewer records: never equal to a (string) root.
  const matches = scanned.rootAtSize === checkpoint.rootHash;
  const check: AuditCheckpointCheck = {
    origin: checkpoint.origin,
    size: checkpoint.size,
    rootHash: checkpoint.rootHash,
    signedBy: checkpoint.signedBy,
    matches,
  };
  if (!verification.ok || matches) return { ...verification, checkpoint: check };
  // A failed match replaces a torn-tail note (if any) as the problem; `truncated` stays true.
  const failed = {
    ok: false,
    records: verification.records,
    lastHash: verification.lastHash,
    intactBytes: verification.intactBytes,
    rootHash: verification.rootHash,
    ...(verification.truncated === true ? { truncated: true } : {}),
    checkpoint: check,
  };
  if (verification.records < checkpoint.size) {
    const missing = checkpoint.size - verification.records;
    const records = verification.records;
    return {
      ...failed,
      problem: 'checkpoint-ahead',
      firstBadSeq: records,
      message:
        `The checkpoint (signed by ${checkpoint.signedBy}) covers ${checkpoint.size} records but the log holds ` +
        `${records} intact record${records === 1 ? '' : 's'}: ${missing} record${missing === 1 ? ' was' : 's were'} ` +
        'cut from the end (tail truncation), or the log was replaced by an older copy.',
    };
  }
  return {
    ...failed,
    problem: 'checkpoint-mismatch',
    message:
      `The first ${checkpoint.size} records do not hash to the root signed in the checkpoint (by ${checkpoint.signedBy}): ` +
      'the log was rewritten (records changed and re-hashed), replaced, or is a fork with another history.',
  };
}

/** @internal Hex of a hash. */
export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** @internal A verification with the Merkle tree of its verified records. */
export interface TreeVerification {
  readonly verification: AuditVerification;
  /** The tree of the verified records (the sinks continue it). */
  readonly tree: MerkleTreeAccumulator;
  /** Hex root of the first `rootSize` records, when the log holds that many verified records. */
  readonly rootAtSize: string | undefined;
}

/** @internal Wraps an I/O error of reading a log. */
export function readFailure(path: string, error: unknown): AuditLogError {
  if (AuditLogError.isInstance(error)) return error;
  const code = (error as { code?: unknown }).code;
  return new AuditLogError(
    `Cannot read audit log ${path}: ${messageOf(error)}.`,
    { path, ...(typeof code === 'string' ? { cause: code } : {}) },
    { cause: error },
  );
}

interface Anomaly {
  readonly line: number;
  readonly record?: AuditRecord;
  readonly selfValid?: boolean;
  readonly reason?: string;
}

/** @internal The verifier over any line source; {@link verifyAuditLog} and the readers use it. */
export async function verifyLines(source: LineSource): Promise<AuditVerification> {
  return (await verifyLinesWithTree(source)).verification;
}

/**
 * @internal {@link verifyLines} that also builds the Merkle tree of the verified records (one
 * streaming pass, O(log n) memory) and keeps the root of the first `rootSize` records.
 */
export async function verifyLinesWithTree(
  source: LineSource,
  rootSize?: number,
  onLeaf?: (leafHash: Uint8Array, line: string) => void,
): Promise<TreeVerification> {
  const tree = new MerkleTreeAccumulator();
  let rootAtSize = rootSize === 0 ? hex(EMPTY_MERKLE_ROOT) : undefined;
  const result = await scanLines(source, (text) => {
    const leafHash = tree.appendLeafText(text);
    if (tree.size === rootSize) rootAtSize = hex(tree.root());
    onLeaf?.(merkleHashBytes(leafHash), text);
  });
  const rootHash = hex(tree.root());
  return { verification: { ...result, rootHash }, tree, rootAtSize };
}

/** Files from this size on are verified with the Merkle tree built on a second thread. */
const PARALLEL_MIN_BYTES = 4 * 1_048_576;

/** @internal How {@link verifyFileWithTree} reads (tests use small values). */
export interface FileVerifyTuning {
  /** Files of at least this many bytes build the Merkle tree on a worker thread. */
  readonly parallelMinBytes?: number;
  readonly chunkBytes?: number;
  /** See `MerkleWorkerLimits`. */
  readonly maxBehindBytes?: number;
  /** Called with the worker when one is started. */
  readonly onWorker?: (worker: MerkleWorker) => void;
}

/**
 * @internal {@link verifyLinesWithTree} of a file. A large file is read once and verified on two
 * threads: this one checks every line and the chain; a worker hashes the Merkle leaves and nodes of
 * the lines verified so far, from copies of the same chunks (see `MerkleWorker`). Same result as
 * the one-thread path; a failing worker fails the verification (throws `AUDIT_INVALID`).
 */
export async function verifyFileWithTree(
  path: string,
  maxLineBytes: number,
  rootSize: number | undefined,
  tuning: FileVerifyTuning = {},
): Promise<TreeVerification> {
  const chunkBytes = tuning.chunkBytes ?? CHUNK_BYTES;
  const { size } = await stat(path);
  if (size < (tuning.parallelMinBytes ?? PARALLEL_MIN_BYTES)) {
    return verifyLinesWithTree(() => splitLines(fileChunks(path, chunkBytes), maxLineBytes), rootSize);
  }
  const worker = new MerkleWorker(path, rootSize, {
    maxLineBytes,
    chunkBytes,
    ...(tuning.maxBehindBytes === undefined ? {} : { maxBehindBytes: tuning.maxBehindBytes }),
  });
  tuning.onWorker?.(worker);
  try {
    let verifiedBytes = 0;
    async function* shared(chunks: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
      for await (const chunk of chunks) {
        // The lines of the chunks before this one have been checked by now (generators are lazy).
        worker.through(verifiedBytes);
        await worker.add(chunk);
        yield chunk;
      }
    }
    let firstPass = true;
    // The worker sees the first pass only; a second pass (classifying a problem) needs no tree.
    const source: LineSource = () => {
      const chunks = fileChunks(path, chunkBytes);
      const read = firstPass ? shared(chunks) : chunks;
      firstPass = false;
      return splitLines(read, maxLineBytes);
    };
    const result = await scanLines(source, (_text, bytes) => {
      verifiedBytes += bytes;
    });
    const { tree, rootAtSize } = await worker.finish(result.intactBytes, result.records);
    return {
      verification: { ...result, rootHash: hex(tree.root()) },
      tree,
      rootAtSize:
        rootSize === 0
          ? hex(EMPTY_MERKLE_ROOT)
          : rootAtSize === undefined
            ? undefined
            : Buffer.from(rootAtSize, 'latin1').toString('hex'),
    };
  } finally {
    await worker.close();
  }
}

async function scanLines(
  source: LineSource,
  accept: (text: string, bytes: number) => void,
): Promise<Omit<AuditVerification, 'rootHash'>> {
  let expectedSeq = 0;
  let lastHash = AUDIT_GENESIS_HASH;
  let previousPrev = AUDIT_GENESIS_HASH;
  let intactBytes = 0;
  let line = 0;
  let malformed: Anomaly | undefined;
  let torn: number | undefined;
  scan: for await (const batch of source()) {
    for (const raw of batch) {
      line++;
      if (malformed !== undefined) break scan;
      if (!raw.terminated) {
        torn = line;
        break scan;
      }
      if (raw.text === undefined) {
        malformed = { line, reason: raw.problem ?? 'is unreadable' };
        continue;
      }
      // Usual records are proven valid (and next in the chain) in one scan; anything else is parsed
      // in full, which decides.
      let hash = proveRecordLine(raw.text, expectedSeq, lastHash);
      if (hash === undefined) {
        const parsed = parseAuditLine(raw.text);
        if (!parsed.ok) {
          malformed = { line, reason: parsed.reason };
          continue;
        }
        const { record, selfValid } = parsed;
        if (!selfValid || record.seq !== expectedSeq || record.prev !== lastHash) {
          const state = { expectedSeq, lastHash, previousPrev, intactBytes };
          return classify(source, { line, record, selfValid }, state);
        }
        hash = record.hash;
      }
      accept(raw.text, raw.bytes);
      previousPrev = lastHash;
      lastHash = hash;
      expectedSeq++;
      intactBytes += raw.bytes;
    }
  }
  const base = { ok: true, records: expectedSeq, lastHash, intactBytes };
  if (malformed !== undefined && line > malformed.line) {
    return {
      ...base,
      ok: false,
      problem: 'malformed',
      firstBadSeq: expectedSeq,
      firstBadLine: malformed.line,
      message: `Line ${malformed.line} (seq ${expectedSeq}) ${malformed.reason}; it is not the last line, so this is not a torn write.`,
    };
  }
  const tornLine = torn ?? malformed?.line;
  if (tornLine === undefined) return base;
  const why = torn !== undefined ? 'has no terminating newline' : (malformed?.reason ?? 'is unreadable');
  return {
    ...base,
    truncated: true,
    problem: 'truncated',
    firstBadLine: tornLine,
    message: `The last line (${tornLine}) ${why}: a torn write, recoverable by truncating the file to ${intactBytes} bytes.`,
  };
}

interface ChainState {
  readonly expectedSeq: number;
  readonly lastHash: string;
  readonly previousPrev: string;
  readonly intactBytes: number;
}

interface Surroundings {
  duplicateElsewhere: boolean;
  laterExpected: boolean;
  linked: boolean;
  next: { seq: number; prev: string; selfValid: boolean } | undefined;
}

async function survey(source: LineSource, anomaly: Required<Omit<Anomaly, 'reason'>>, state: ChainState) {
  const found: Surroundings = {
    duplicateElsewhere: false,
    laterExpected: false,
    linked: false,
    next: undefined,
  };
  const bad = anomaly.record;
  let line = 0;
  for await (const batch of source()) {
    for (const raw of batch) {
      line++;
      if (line === anomaly.line || raw.text === undefined || !raw.terminated) continue;
      const parsed = parseAuditLine(raw.text);
      if (!parsed.ok) continue;
      const { record, selfValid } = parsed;
      if (line === anomaly.line + 1) found.next = { seq: record.seq, prev: record.prev, selfValid };
      if (!selfValid) continue;
      if (record.hash === bad.hash) found.duplicateElsewhere = true;
      // A genuine record out of place still links into the chain: something names it as `prev`, or
      // the record it names as `prev` comes after it.
      if (record.prev === bad.hash || (line > anomaly.line && record.hash === bad.prev)) found.linked = true;
      if (line > anomaly.line && record.seq === state.expectedSeq && record.prev === state.lastHash) {
        found.laterExpected = true;
      }
    }
  }
  return found;
}

async function classify(
  source: LineSource,
  anomaly: Required<Omit<Anomaly, 'reason'>>,
  state: ChainState,
): Promise<Omit<AuditVerification, 'rootHash'>> {
  const { expectedSeq, lastHash, previousPrev } = state;
  const record = anomaly.record;
  const around = await survey(source, anomaly, state);
  const fail = (problem: AuditProblem, firstBadSeq: number, firstBadLine: number, message: string) => ({
    ok: false,
    records: expectedSeq,
    lastHash,
    intactBytes: state.intactBytes,
    problem,
    firstBadSeq,
    firstBadLine,
    message: `Line ${firstBadLine} (seq ${firstBadSeq}): ${message}`,
  });
  const line = anomaly.line;
  // A valid record at the wrong place: moved (it still links to its neighbours) or foreign.
  const misplaced = () =>
    around.linked
      ? fail(
          'reordered',
          expectedSeq,
          line,
          `record ${record.seq} appears where record ${expectedSeq} belongs.`,
        )
      : fail('inserted', expectedSeq, line, `a record claiming seq ${record.seq} was inserted.`);
  if (!anomaly.selfValid) {
    const next = around.next;
    if (next?.selfValid === true && next.seq === expectedSeq && next.prev === lastHash) {
      return fail('inserted', expectedSeq, line, 'a record that is not part of the chain was inserted.');
    }
    return fail(
      'edited',
      expectedSeq,
      line,
      'the record does not match its hash (or is not canonical JSON).',
    );
  }
  if (around.duplicateElsewhere) {
    return fail('duplicated', record.seq, line, `record ${record.seq} appears more than once.`);
  }
  if (expectedSeq === 0 && record.seq === 0 && record.prev !== AUDIT_GENESIS_HASH) {
    return fail('bad-genesis', 0, line, `the first record's prev is not the genesis value (64 zeros).`);
  }
  if (record.seq === expectedSeq) {
    return fail(
      'edited',
      expectedSeq - 1,
      line - 1,
      'the record was changed and re-hashed: the next record does not link to it.',
    );
  }
  if (around.laterExpected) {
    return misplaced();
  }
  if (record.seq === expectedSeq - 1 && record.prev === previousPrev) {
    return fail('inserted', expectedSeq - 1, line - 1, `two different records claim seq ${record.seq}.`);
  }
  if (record.seq > expectedSeq) {
    const missing = record.seq - expectedSeq;
    return fail(
      'dropped',
      expectedSeq,
      line,
      `${missing} record${missing === 1 ? ' is' : 's are'} missing before seq ${record.seq}.`,
    );
  }
  return misplaced();
}
