import {
  type AuditCheckpoint,
  openCheckpoint,
  readUnverifiedCheckpoint,
  signCheckpoint,
} from './checkpoint.js';
import { AuditKeyError, AuditLogError, verificationFailed } from './errors.js';
import { linesFromFile, parseAuditLine } from './lines.js';
import {
  hashMerkleLeaf,
  merkleConsistencyProof,
  merkleInclusionProof,
  merkleRootOf,
  verifyMerkleConsistency,
  verifyMerkleInclusion,
} from './merkle.js';
import { MAX_AUDIT_LINE_BYTES } from './record.js';
import { type NoteSigner, type NoteVerifier, parseSignerKey } from './signed-note.js';
import { type AuditVerification, hex, readFailure, verifyLinesWithTree } from './verify.js';

/** The `format` of an inclusion proof document. */
export const AUDIT_INCLUSION_PROOF_FORMAT = 'ape-audit-inclusion-proof/v1';
/** The `format` of a consistency proof document. */
export const AUDIT_CONSISTENCY_PROOF_FORMAT = 'ape-audit-consistency-proof/v1';

/**
 * Proof that one record is in a log of `treeSize` records (RFC 9162 inclusion proof), checkable
 * without the log: a JSON document (`ape audit prove --json`).
 */
export interface AuditInclusionProof {
  readonly format: typeof AUDIT_INCLUSION_PROOF_FORMAT;
  /** The record's seq (its leaf index). */
  readonly seq: number;
  /** Records in the tree the proof is for. */
  readonly treeSize: number;
  /** The record's line (canonical JSON, without `\n`). */
  readonly record: string;
  /** Hex sha256(0x00 ‖ record). */
  readonly leafHash: string;
  /** The audit path, hex, leaf to root. */
  readonly path: readonly string[];
  /** Hex root of the first `treeSize` records. */
  readonly rootHash: string;
  /** The signed checkpoint (note text) the proof is for, when one was given. */
  readonly checkpoint?: string;
}

/** Proof that the first `size1` records of a log are a prefix of its first `size2` (RFC 9162). */
export interface AuditConsistencyProof {
  readonly format: typeof AUDIT_CONSISTENCY_PROOF_FORMAT;
  readonly size1: number;
  readonly size2: number;
  /** Hex root of the first `size1` records. */
  readonly root1: string;
  /** Hex root of the first `size2` records. */
  readonly root2: string;
  /** The consistency path, hex. */
  readonly path: readonly string[];
}

/** The outcome of checking a proof: a value, like {@link AuditVerification}. */
export interface AuditProofCheck {
  readonly ok: boolean;
  /** True when a checkpoint signature was verified with the given key. */
  readonly signatureChecked: boolean;
  /** The key whose signature verified (`name+hash`). */
  readonly signedBy?: string;
  readonly problem?:
    | 'proof-invalid'
    | 'proof-mismatch'
    | 'inconsistent'
    | 'checkpoint-invalid'
    | 'checkpoint-signature';
  /** One sentence for humans. */
  readonly message: string;
}

/** Options of the functions that read a log to prove something. */
export interface AuditLogProofOptions {
  /** Default {@link MAX_AUDIT_LINE_BYTES}. */
  readonly maxLineBytes?: number;
}

interface LogLeaves {
  readonly verification: AuditVerification;
  readonly leaves: Uint8Array[];
  readonly lines: Map<number, string>;
}

async function readLeaves(
  path: string,
  keepLines: ReadonlySet<number>,
  options: AuditLogProofOptions,
): Promise<LogLeaves> {
  const leaves: Uint8Array[] = [];
  const lines = new Map<number, string>();
  let verification: AuditVerification;
  try {
    const scanned = await verifyLinesWithTree(
      linesFromFile(path, options.maxLineBytes ?? MAX_AUDIT_LINE_BYTES),
      undefined,
      (leafHash, line) => {
        if (keepLines.has(leaves.length)) lines.set(leaves.length, line);
        leaves.push(leafHash);
      },
    );
    verification = scanned.verification;
  } catch (error) {
    throw readFailure(path, error);
  }
  if (!verification.ok) {
    throw verificationFailed(path, verification);
  }
  return { verification, leaves, lines };
}

/**
 * Reads and verifies a log and signs a checkpoint of all its intact records with `signer` (key
 * text or parsed). `origin` defaults to the key's name. A log with a torn last line is refused
 * unless `allowTornTail` (the checkpoint then covers the intact records).
 *
 * @throws AuditLogError (`AUDIT_INVALID`, `details.problem`) when the log fails verification or
 * has a torn tail; AuditKeyError (`AUDIT_KEY_INVALID`) for a malformed key.
 */
export async function checkpointAuditLog(
  path: string,
  signer: string | NoteSigner,
  options: AuditLogProofOptions & { readonly origin?: string; readonly allowTornTail?: boolean } = {},
): Promise<{ readonly note: string; readonly checkpoint: AuditCheckpoint }> {
  const key = typeof signer === 'string' ? parseSignerKey(signer) : signer;
  let verification: AuditVerification;
  try {
    verification = (
      await verifyLinesWithTree(linesFromFile(path, options.maxLineBytes ?? MAX_AUDIT_LINE_BYTES))
    ).verification;
  } catch (error) {
    throw readFailure(path, error);
  }
  const torn = verification.truncated === true && options.allowTornTail !== true;
  if (!verification.ok || torn) {
    throw new AuditLogError(
      `Refusing to checkpoint audit log ${path}: ${verification.message}${torn ? ' Run `ape audit repair` first, or allow the torn tail.' : ''}`,
      {
        path,
        problem: verification.problem,
        firstBadSeq: verification.firstBadSeq,
        firstBadLine: verification.firstBadLine,
      },
    );
  }
  const checkpoint: AuditCheckpoint = Object.freeze({
    origin: options.origin ?? key.name,
    size: verification.records,
    rootHash: verification.rootHash,
    extensions: Object.freeze([]),
  });
  return { note: signCheckpoint(checkpoint, key), checkpoint };
}

/**
 * Builds the inclusion proof of record `seq`. With `checkpoint` (a signed note; its signature is
 * checked later, by whoever verifies the proof), the proof is for the checkpoint's tree size, and
 * the log's first records must hash to its root; otherwise for every intact record of the log.
 *
 * @throws AuditLogError (`AUDIT_INVALID`, `details.problem`) when the log fails verification, `seq`
 * is not in the tree, or the log does not match the checkpoint.
 */
export async function proveAuditRecord(
  path: string,
  seq: number,
  options: AuditLogProofOptions & { readonly checkpoint?: string } = {},
): Promise<AuditInclusionProof> {
  const claimed = options.checkpoint === undefined ? undefined : readUnverifiedCheckpoint(options.checkpoint);
  const { verification, leaves, lines } = await readLeaves(path, new Set([seq]), options);
  const treeSize = claimed?.size ?? verification.records;
  if (!Number.isSafeInteger(seq) || seq < 0 || seq >= treeSize) {
    throw new AuditLogError(`Record ${seq} is not in the tree of ${treeSize} records of ${path}.`, {
      path,
      problem: 'proof-invalid',
      seq,
    });
  }
  if (treeSize > leaves.length) {
    throw new AuditLogError(
      `The checkpoint covers ${treeSize} records but ${path} holds ${leaves.length}: its tail was cut.`,
      { path, problem: 'checkpoint-ahead' },
    );
  }
  const rootHash = hex(merkleRootOf(leaves, 0, treeSize));
  if (claimed !== undefined && claimed.rootHash !== rootHash) {
    throw new AuditLogError(
      `The first ${treeSize} records of ${path} do not hash to the checkpoint's root.`,
      {
        path,
        problem: 'checkpoint-mismatch',
      },
    );
  }
  return Object.freeze({
    format: AUDIT_INCLUSION_PROOF_FORMAT,
    seq,
    treeSize,
    record: lines.get(seq) as string,
    leafHash: hex(leaves[seq] as Uint8Array),
    path: Object.freeze(merkleInclusionProof(leaves, seq, treeSize).map(hex)),
    rootHash,
    ...(options.checkpoint === undefined ? {} : { checkpoint: options.checkpoint }),
  });
}

/**
 * Builds the consistency proof between the first `size1` and the first `size2` intact records of a
 * log.
 *
 * @throws AuditLogError (`AUDIT_INVALID`, `details.problem`) when the log fails verification or
 * holds fewer than `size2` records (`'checkpoint-ahead'`), or the sizes are out of order.
 */
export async function proveAuditConsistency(
  path: string,
  size1: number,
  size2: number,
  options: AuditLogProofOptions = {},
): Promise<AuditConsistencyProof> {
  if (!(Number.isSafeInteger(size1) && Number.isSafeInteger(size2) && size1 >= 0 && size1 <= size2)) {
    throw new AuditLogError(`Tree size ${size1} cannot be a prefix of tree size ${size2}.`, {
      path,
      problem: 'inconsistent',
    });
  }
  const { leaves } = await readLeaves(path, new Set(), options);
  if (size2 > leaves.length) {
    throw new AuditLogError(
      `${path} holds ${leaves.length} intact records, fewer than ${size2}: its tail was cut.`,
      {
        path,
        problem: 'checkpoint-ahead',
      },
    );
  }
  return Object.freeze({
    format: AUDIT_CONSISTENCY_PROOF_FORMAT,
    size1,
    size2,
    root1: hex(merkleRootOf(leaves, 0, size1)),
    root2: hex(merkleRootOf(leaves, 0, size2)),
    path: Object.freeze(merkleConsistencyProof(leaves, size1, size2).map(hex)),
  });
}

const HEX_HASH = /^[0-9a-f]{64}$/;

function proofInvalid(where: string, why: string): AuditLogError {
  return new AuditLogError(`${where} is not a proof: ${why}.`, { problem: 'proof-invalid', source: where });
}

function parseObject(text: string, where: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw proofInvalid(where, 'it is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw proofInvalid(where, 'it is not a JSON object');
  return value as Record<string, unknown>;
}

function size(value: unknown, field: string, where: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw proofInvalid(where, `"${field}" is not a non-negative integer`);
  }
  return value;
}

function hash(value: unknown, field: string, where: string): string {
  if (typeof value !== 'string' || !HEX_HASH.test(value))
    throw proofInvalid(where, `"${field}" is not 64 lower-case hex digits`);
  return value;
}

function hashes(value: unknown, field: string, where: string): string[] {
  if (!Array.isArray(value) || value.length > 64)
    throw proofInvalid(where, `"${field}" is not a list of at most 64 hashes`);
  return value.map((item, index) => hash(item, `${field}[${index}]`, where));
}

/**
 * Parses an inclusion proof document (the JSON `ape audit prove --json` prints; other fields are
 * ignored). The audit package's one door for proof JSON: only the named fields are read.
 *
 * @throws AuditLogError (`AUDIT_INVALID`, `details.problem` `'proof-invalid'`) when it is not one.
 */
export function parseAuditInclusionProof(text: string, where = 'the proof'): AuditInclusionProof {
  const value = parseObject(text, where);
  if (value['format'] !== AUDIT_INCLUSION_PROOF_FORMAT) {
    throw proofInvalid(where, `"format" is not "${AUDIT_INCLUSION_PROOF_FORMAT}"`);
  }
  const record = value['record'];
  if (typeof record !== 'string') throw proofInvalid(where, '"record" is not a string');
  const checkpoint = value['checkpoint'];
  if (checkpoint !== undefined && typeof checkpoint !== 'string')
    throw proofInvalid(where, '"checkpoint" is not a string');
  return Object.freeze({
    format: AUDIT_INCLUSION_PROOF_FORMAT,
    seq: size(value['seq'], 'seq', where),
    treeSize: size(value['treeSize'], 'treeSize', where),
    record,
    leafHash: hash(value['leafHash'], 'leafHash', where),
    path: Object.freeze(hashes(value['path'], 'path', where)),
    rootHash: hash(value['rootHash'], 'rootHash', where),
    ...(checkpoint === undefined ? {} : { checkpoint }),
  });
}

/**
 * Parses a consistency proof document (the JSON `ape audit consistency --json` prints with
 * `--log`; other fields are ignored).
 *
 * @throws AuditLogError (`AUDIT_INVALID`, `details.problem` `'proof-invalid'`) when it is not one.
 */
export function parseAuditConsistencyProof(text: string, where = 'the proof'): AuditConsistencyProof {
  const value = parseObject(text, where);
  const proof = value['proof'] !== undefined && value['format'] === undefined ? value['proof'] : value;
  if (typeof proof !== 'object' || proof === null || Array.isArray(proof))
    throw proofInvalid(where, '"proof" is not an object');
  const fields = proof as Record<string, unknown>;
  if (fields['format'] !== AUDIT_CONSISTENCY_PROOF_FORMAT) {
    throw proofInvalid(where, `"format" is not "${AUDIT_CONSISTENCY_PROOF_FORMAT}"`);
  }
  return Object.freeze({
    format: AUDIT_CONSISTENCY_PROOF_FORMAT,
    size1: size(fields['size1'], 'size1', where),
    size2: size(fields['size2'], 'size2', where),
    root1: hash(fields['root1'], 'root1', where),
    root2: hash(fields['root2'], 'root2', where),
    path: Object.freeze(hashes(fields['path'], 'path', where)),
  });
}

const unhex = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'hex'));

function refused(error: unknown): AuditProofCheck {
  if (AuditKeyError.isInstance(error) || !AuditLogError.isInstance(error)) throw error;
  const problem =
    error.details['problem'] === 'checkpoint-signature' ? 'checkpoint-signature' : 'checkpoint-invalid';
  return { ok: false, signatureChecked: false, problem, message: error.message };
}

/**
 * Checks an inclusion proof without the log: the record is a self-valid record with the proof's
 * seq, its leaf hash is right, and its audit path leads to the root. With `key`, the proof must
 * carry a checkpoint signed by that key for the same tree size and root (otherwise the root is
 * only what the proof claims: `signatureChecked: false`).
 *
 * @throws AuditKeyError (`AUDIT_KEY_INVALID`) for a malformed key.
 */
export function verifyAuditInclusionProof(
  proof: AuditInclusionProof,
  options: { readonly key?: string | NoteVerifier } = {},
): AuditProofCheck {
  const mismatch = (message: string): AuditProofCheck => ({
    ok: false,
    signatureChecked: false,
    problem: 'proof-mismatch',
    message,
  });
  const parsed = parseAuditLine(proof.record);
  if (!parsed.ok || !parsed.selfValid) return mismatch(`The proof's record is not a valid audit record.`);
  if (parsed.record.seq !== proof.seq)
    return mismatch(`The proof's record has seq ${parsed.record.seq}, not ${proof.seq}.`);
  if (hex(hashMerkleLeaf(proof.record)) !== proof.leafHash)
    return mismatch(`The proof's leaf hash is not the hash of its record.`);
  const path = proof.path.map(unhex);
  if (!verifyMerkleInclusion(proof.seq, proof.treeSize, unhex(proof.leafHash), path, unhex(proof.rootHash))) {
    return mismatch(
      `The audit path does not lead from record ${proof.seq} to the root of a tree of ${proof.treeSize} records.`,
    );
  }
  let signedBy: string | undefined;
  if (proof.checkpoint !== undefined) {
    let checkpoint: AuditCheckpoint;
    try {
      if (options.key === undefined)
        checkpoint = readUnverifiedCheckpoint(proof.checkpoint, `the proof's checkpoint`);
      else {
        const opened = openCheckpoint(proof.checkpoint, options.key, `the proof's checkpoint`);
        signedBy = opened.signedBy;
        checkpoint = opened;
      }
    } catch (error) {
      return refused(error);
    }
    if (checkpoint.size !== proof.treeSize || checkpoint.rootHash !== proof.rootHash) {
      return mismatch(
        `The proof is for a tree of ${proof.treeSize} records that is not the checkpoint's (${checkpoint.size} records).`,
      );
    }
  } else if (options.key !== undefined) {
    return {
      ok: false,
      signatureChecked: false,
      problem: 'checkpoint-invalid',
      message: 'The proof carries no checkpoint, so nothing signed by the key vouches for its root.',
    };
  }
  const vouched =
    signedBy === undefined
      ? 'an unsigned root (give --key and a proof with a checkpoint to check who vouches for it)'
      : `the checkpoint signed by ${signedBy}`;
  return {
    ok: true,
    signatureChecked: signedBy !== undefined,
    ...(signedBy === undefined ? {} : { signedBy }),
    message: `Record ${proof.seq} is included in the tree of ${proof.treeSize} records of ${vouched}.`,
  };
}

/**
 * Checks that checkpoint `note2` extends checkpoint `note1` (same log, only appended to), with a
 * consistency proof. With `key` both checkpoints' signatures are checked; without it only what they
 * claim is compared (`signatureChecked: false`).
 *
 * @throws AuditKeyError (`AUDIT_KEY_INVALID`) for a malformed key.
 */
export function verifyAuditConsistency(
  note1: string,
  note2: string,
  proof: Pick<AuditConsistencyProof, 'size1' | 'size2' | 'path'>,
  options: { readonly key?: string | NoteVerifier; readonly sources?: readonly [string, string] } = {},
): AuditProofCheck {
  const [where1, where2] = options.sources ?? ['the first checkpoint', 'the second checkpoint'];
  let first: AuditCheckpoint;
  let second: AuditCheckpoint;
  let signedBy: string | undefined;
  try {
    if (options.key === undefined) {
      first = readUnverifiedCheckpoint(note1, where1);
      second = readUnverifiedCheckpoint(note2, where2);
    } else {
      const opened = openCheckpoint(note1, options.key, where1);
      second = openCheckpoint(note2, options.key, where2);
      first = opened;
      signedBy = opened.signedBy;
    }
  } catch (error) {
    return refused(error);
  }
  const checked = {
    signatureChecked: signedBy !== undefined,
    ...(signedBy === undefined ? {} : { signedBy }),
  };
  if (first.origin !== second.origin) {
    return {
      ok: false,
      ...checked,
      problem: 'inconsistent',
      message: `The checkpoints name different logs (${first.origin}, ${second.origin}).`,
    };
  }
  if (first.size > second.size) {
    return {
      ok: false,
      ...checked,
      problem: 'inconsistent',
      message: `${where2} (${second.size} records) is older than ${where1} (${first.size}): give them oldest first; a log never shrinks.`,
    };
  }
  if (proof.size1 !== first.size || proof.size2 !== second.size) {
    return {
      ok: false,
      ...checked,
      problem: 'proof-mismatch',
      message: `The proof is for sizes ${proof.size1} → ${proof.size2}, the checkpoints for ${first.size} → ${second.size}.`,
    };
  }
  const consistent = verifyMerkleConsistency(
    first.size,
    second.size,
    unhex(first.rootHash),
    unhex(second.rootHash),
    proof.path.map(unhex),
  );
  if (!consistent) {
    return {
      ok: false,
      ...checked,
      problem: 'inconsistent',
      message: `${where2} does not extend ${where1}: the first ${first.size} records differ between them (a fork, or a rewritten log).`,
    };
  }
  return {
    ok: true,
    ...checked,
    message: `${where2} (${second.size} records) extends ${where1} (${first.size} records): the log was only appended to.`,
  };
}
