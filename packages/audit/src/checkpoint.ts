import { AuditLogError } from './errors.js';
import {
  CONTROL_CHARACTER,
  type NoteSigner,
  type NoteVerifier,
  openNote,
  parseSignerKey,
  parseVerifierKey,
  signNote,
} from './signed-note.js';

/**
 * The body of a C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint): the log's origin, its
 * tree size and the RFC 9162 root hash of the first `size` records, plus optional extension lines.
 */
export interface AuditCheckpoint {
  /** The log's identity: one line, by convention the signing key's name. */
  readonly origin: string;
  /** Records covered: the first `size` records of the log (seq 0 … size − 1). */
  readonly size: number;
  /** Lower-case hex of the Merkle tree root of those records. */
  readonly rootHash: string;
  /** Extra lines after the root hash (none when APE writes the checkpoint). */
  readonly extensions: readonly string[];
}

/** A checkpoint read from a signed note whose signature by the expected key verified. */
export interface VerifiedAuditCheckpoint extends AuditCheckpoint {
  /** The key (`name+hash`) whose signature verified. */
  readonly signedBy: string;
  /** The note's other signature lines (`name+hash`), e.g. witnesses; not checked. */
  readonly otherSignatures: readonly string[];
}

const SIZE_PATTERN = /^(0|[1-9][0-9]{0,15})$/;
const HEX_HASH_PATTERN = /^[0-9a-f]{64}$/;
const BASE64_HASH_PATTERN = /^[A-Za-z0-9+/]{43}=$/;

function invalid(where: string, why: string): AuditLogError {
  return new AuditLogError(`${where} is not a checkpoint: ${why}.`, {
    problem: 'checkpoint-invalid',
    source: where,
  });
}

function isOneLine(text: string): boolean {
  return text.length > 0 && !CONTROL_CHARACTER.test(text);
}

/**
 * The checkpoint body text: origin, size and base64 root hash lines (then extensions), each ending
 * in `\n`.
 *
 * @throws AuditLogError (`AUDIT_INVALID`, `details.problem` `'checkpoint-invalid'`) for an empty or
 * multi-line origin or extension, a size that is not a safe non-negative integer, or a root hash
 * that is not 64 lower-case hex digits.
 */
export function formatCheckpoint(
  checkpoint: Omit<AuditCheckpoint, 'extensions'> & Partial<AuditCheckpoint>,
): string {
  const where = 'the checkpoint to sign';
  if (!isOneLine(checkpoint.origin)) throw invalid(where, 'the origin must be one non-empty line');
  if (!Number.isSafeInteger(checkpoint.size) || checkpoint.size < 0)
    throw invalid(where, 'the size must be a non-negative integer');
  if (!HEX_HASH_PATTERN.test(checkpoint.rootHash))
    throw invalid(where, 'the root hash must be 64 lower-case hex digits');
  const extensions = checkpoint.extensions ?? [];
  if (!extensions.every(isOneLine)) throw invalid(where, 'every extension must be one non-empty line');
  const root = Buffer.from(checkpoint.rootHash, 'hex').toString('base64');
  return [checkpoint.origin, String(checkpoint.size), root, ...extensions]
    .map((line) => `${line}\n`)
    .join('');
}

/**
 * Parses a checkpoint body (the note text, without signatures); `where` names it in errors.
 *
 * @throws AuditLogError (`AUDIT_INVALID`, `'checkpoint-invalid'`) when it is not a checkpoint body.
 */
export function parseCheckpoint(text: string, where = 'the checkpoint'): AuditCheckpoint {
  if (!text.endsWith('\n')) throw invalid(where, 'the body must end in a newline');
  const lines = text.slice(0, -1).split('\n');
  const [origin, size, root, ...extensions] = lines;
  if (origin === undefined || !isOneLine(origin)) throw invalid(where, 'the first line (origin) is empty');
  if (size === undefined || !SIZE_PATTERN.test(size) || !Number.isSafeInteger(Number(size))) {
    throw invalid(where, 'the second line is not a tree size (a decimal integer without leading zeros)');
  }
  if (root === undefined || !BASE64_HASH_PATTERN.test(root)) {
    throw invalid(where, 'the third line is not a base64 SHA-256 root hash');
  }
  const rootBytes = Buffer.from(root, 'base64');
  if (rootBytes.length !== 32 || rootBytes.toString('base64') !== root) {
    throw invalid(where, 'the third line is not a canonical base64 SHA-256 root hash');
  }
  if (!extensions.every(isOneLine))
    throw invalid(where, 'an extension line is empty or holds control characters');
  return Object.freeze({
    origin,
    size: Number(size),
    rootHash: rootBytes.toString('hex'),
    extensions: Object.freeze([...extensions]),
  });
}

/**
 * Signs a checkpoint with a signer key (its `PRIVATE+KEY+…` text or a parsed signer) and returns
 * the signed note text, ready to store.
 *
 * @throws AuditKeyError (`AUDIT_KEY_INVALID`) for a malformed key; AuditLogError as {@link formatCheckpoint}.
 */
export function signCheckpoint(
  checkpoint: Omit<AuditCheckpoint, 'extensions'> & Partial<AuditCheckpoint>,
  signer: string | NoteSigner,
): string {
  const key = typeof signer === 'string' ? parseSignerKey(signer) : signer;
  return signNote(formatCheckpoint(checkpoint), key);
}

/**
 * Opens a signed checkpoint with a verifier key (its text or a parsed verifier): the note must
 * carry a valid signature by that key, and its text must be a checkpoint body. `where` names the
 * checkpoint in errors (a file name).
 *
 * @throws AuditKeyError (`AUDIT_KEY_INVALID`) for a malformed key.
 * @throws AuditLogError (`AUDIT_INVALID`) with `details.problem` `'checkpoint-invalid'` (not a
 * signed checkpoint) or `'checkpoint-signature'` (not signed by this key, or the signature does not
 * verify).
 */
export function openCheckpoint(
  note: string,
  verifier: string | NoteVerifier,
  where = 'the checkpoint',
): VerifiedAuditCheckpoint {
  const key = typeof verifier === 'string' ? parseVerifierKey(verifier) : verifier;
  const opened = openNote(note, key, where);
  const checkpoint = parseCheckpoint(opened.text, where);
  const hex8 = (value: number) => value.toString(16).padStart(8, '0');
  return Object.freeze({
    ...checkpoint,
    signedBy: `${key.name}+${hex8(key.keyHash)}`,
    otherSignatures: Object.freeze(opened.unverified.map((item) => `${item.name}+${hex8(item.keyHash)}`)),
  });
}

/**
 * Reads the checkpoint body of a signed note WITHOUT checking any signature: for tools that report
 * what a checkpoint claims before a key is at hand. Never trust its content.
 *
 * @throws AuditLogError (`AUDIT_INVALID`, `'checkpoint-invalid'`) when it is not a signed checkpoint.
 */
export function readUnverifiedCheckpoint(note: string, where = 'the checkpoint'): AuditCheckpoint {
  const split = note.lastIndexOf('\n\n');
  if (split < 0) throw invalid(where, 'no blank line separates the text from the signatures');
  return parseCheckpoint(note.slice(0, split + 1), where);
}
