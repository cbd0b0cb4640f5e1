import {
  createHash,
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  randomBytes,
  sign,
  verify,
} from 'node:crypto';
import { AuditKeyError, AuditLogError } from './errors.js';

/**
 * C2SP signed notes (https://c2sp.org/signed-note) with Ed25519 keys from `node:crypto`, in the
 * key encodings of Go's `golang.org/x/mod/sumdb/note`: a verifier key is
 * `<name>+<key hash, 8 hex>+<base64(0x01 ‖ 32-byte public key)>`, a signer key is
 * `PRIVATE+KEY+<name>+<key hash>+<base64(0x01 ‖ 32-byte seed)>`, and the key hash is the first four
 * bytes of sha256(name ‖ "\n" ‖ 0x01 ‖ public key).
 */

const ALGORITHM_ED25519 = 0x01;
const SIGNER_PREFIX = 'PRIVATE+KEY+';
const SIGNATURE_PREFIX = '\u2014 ';
const MAX_SIGNATURES = 100;
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const KEY_HASH_PATTERN = /^[0-9a-f]{8}$/;
const BASE64_PATTERN = /^[A-Za-z0-9+/]*={0,2}$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is this pattern's job.
const CONTROL_BUT_NEWLINE = /[\u0000-\u0009\u000b-\u001f]/u;
/** @internal Any C0 control character or DEL: not allowed in a key name or a checkpoint line. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is this pattern's job.
export const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/u;

/** A key pair in note encodings: keep `signerKey` secret, publish `verifierKey`. */
export interface NoteKeyPair {
  readonly name: string;
  /** `PRIVATE+KEY+<name>+<hash>+<base64>`. */
  readonly signerKey: string;
  /** `<name>+<hash>+<base64>`. */
  readonly verifierKey: string;
}

/** A parsed signer key. */
export interface NoteSigner {
  readonly name: string;
  /** The 4-byte key hash as an unsigned integer. */
  readonly keyHash: number;
  /** The matching verifier key text. */
  readonly verifierKey: string;
  /** The Ed25519 signature (64 bytes) of `message`. */
  sign(message: Uint8Array): Uint8Array;
}

/** A parsed verifier key. */
export interface NoteVerifier {
  readonly name: string;
  readonly keyHash: number;
  /** True when `signature` is this key's Ed25519 signature of `message`. */
  verify(message: Uint8Array, signature: Uint8Array): boolean;
}

/** One signature line of a note. */
export interface NoteSignature {
  readonly name: string;
  readonly keyHash: number;
  /** The base64 text after the name: key hash and signature. */
  readonly base64: string;
}

/** A note whose signature by the expected key verified. */
export interface OpenedNote {
  /** The signed text, ending in `\n`. */
  readonly text: string;
  /** The signature lines that verified (by the given key). */
  readonly verified: readonly NoteSignature[];
  /** The other signature lines (other keys, e.g. witnesses), not checked. */
  readonly unverified: readonly NoteSignature[];
}

/** True when `name` can name a key: non-empty, no whitespace, no `+`. */
export function isValidKeyName(name: string): boolean {
  return name.length > 0 && !/[\s+]/u.test(name) && !CONTROL_CHARACTER.test(name);
}

function keyHashOf(name: string, publicKey: Uint8Array): number {
  const digest = createHash('sha256')
    .update(name, 'utf8')
    .update(new Uint8Array([0x0a, ALGORITHM_ED25519]))
    .update(publicKey)
    .digest();
  return digest.readUInt32BE(0);
}

function hex8(value: number): string {
  return value.toString(16).padStart(8, '0');
}

function strictBase64(text: string): Buffer | undefined {
  if (!BASE64_PATTERN.test(text) || text.length % 4 !== 0) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : undefined;
}

function publicKeyObject(raw: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, raw]), format: 'der', type: 'spki' });
}

function privateKeyObject(seed: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

function rawPublicKey(privateKey: KeyObject): Buffer {
  const der = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  return der.subarray(der.length - 32);
}

function encodeVerifierKey(name: string, publicKey: Uint8Array): string {
  const encoded = Buffer.concat([Buffer.from([ALGORITHM_ED25519]), publicKey]).toString('base64');
  return `${name}+${hex8(keyHashOf(name, publicKey))}+${encoded}`;
}

/**
 * Generates an Ed25519 key pair named `name` (by convention the log's origin).
 *
 * @throws AuditKeyError (`AUDIT_KEY_INVALID`) when `name` is empty or holds whitespace or `+`.
 */
export function generateNoteKeyPair(name: string): NoteKeyPair {
  if (!isValidKeyName(name)) {
    throw new AuditKeyError(`Key name ${JSON.stringify(name)} must be non-empty, without spaces or "+".`, {
      field: 'name',
    });
  }
  const seed = randomBytes(32);
  const publicKey = rawPublicKey(privateKeyObject(seed));
  const keyHash = hex8(keyHashOf(name, publicKey));
  const encodedSeed = Buffer.concat([Buffer.from([ALGORITHM_ED25519]), seed]).toString('base64');
  return Object.freeze({
    name,
    signerKey: `${SIGNER_PREFIX}${name}+${keyHash}+${encodedSeed}`,
    verifierKey: encodeVerifierKey(name, publicKey),
  });
}

interface KeyParts {
  readonly name: string;
  readonly keyHash: number;
  readonly key: Buffer;
}

function splitKey(text: string, kind: string, where: string): KeyParts {
  const fail = (why: string): never => {
    throw new AuditKeyError(`${where} is not a ${kind} key: ${why}.`, { source: where });
  };
  // The base64 key may itself hold "+": only the first two "+" separate fields.
  const first = text.indexOf('+');
  const second = first < 0 ? -1 : text.indexOf('+', first + 1);
  if (second < 0) fail('expected <name>+<8 hex digits>+<base64>');
  const name = text.slice(0, first);
  const hash = text.slice(first + 1, second);
  const encoded = text.slice(second + 1);
  if (!isValidKeyName(name)) fail('the name is empty or holds whitespace');
  if (!KEY_HASH_PATTERN.test(hash)) fail('the key hash is not 8 lower-case hex digits');
  const key = strictBase64(encoded);
  if (key === undefined) fail('the key is not canonical base64');
  if (key?.length !== 33 || key[0] !== ALGORITHM_ED25519)
    fail('the key is not an Ed25519 key (algorithm 1, 32 bytes)');
  return { name, keyHash: Number.parseInt(hash, 16), key: key as Buffer };
}

/**
 * Parses a verifier key (`<name>+<hash>+<base64>`); `where` names its source in errors.
 *
 * @throws AuditKeyError (`AUDIT_KEY_INVALID`) when it is malformed or its hash does not match.
 */
export function parseVerifierKey(text: string, where = 'the verifier key'): NoteVerifier {
  const trimmed = text.trim();
  if (trimmed.startsWith(SIGNER_PREFIX)) {
    throw new AuditKeyError(`${where} is a private signer key; give the public verifier key instead.`, {
      source: where,
    });
  }
  const { name, keyHash, key } = splitKey(trimmed, 'verifier', where);
  const publicKey = key.subarray(1);
  if (keyHashOf(name, publicKey) !== keyHash) {
    throw new AuditKeyError(`${where} is not a verifier key: its key hash does not match its name and key.`, {
      source: where,
    });
  }
  let keyObject: KeyObject;
  try {
    keyObject = publicKeyObject(publicKey);
  } catch (error) {
    throw new AuditKeyError(
      `${where} holds no usable Ed25519 public key.`,
      { source: where },
      { cause: error },
    );
  }
  return Object.freeze({
    name,
    keyHash,
    verify: (message: Uint8Array, signature: Uint8Array) =>
      signature.length === 64 && verify(null, message, keyObject, signature),
  });
}

/**
 * Parses a signer key (`PRIVATE+KEY+<name>+<hash>+<base64>`); `where` names its source in errors.
 *
 * @throws AuditKeyError (`AUDIT_KEY_INVALID`) when it is malformed or its hash does not match.
 */
export function parseSignerKey(text: string, where = 'the signer key'): NoteSigner {
  const trimmed = text.trim();
  if (!trimmed.startsWith(SIGNER_PREFIX)) {
    throw new AuditKeyError(`${where} is not a signer key: it must start with "${SIGNER_PREFIX}".`, {
      source: where,
    });
  }
  const { name, keyHash, key } = splitKey(trimmed.slice(SIGNER_PREFIX.length), 'signer', where);
  let privateKey: KeyObject;
  try {
    privateKey = privateKeyObject(key.subarray(1));
  } catch (error) {
    throw new AuditKeyError(`${where} holds no usable Ed25519 seed.`, { source: where }, { cause: error });
  }
  const publicKey = rawPublicKey(privateKey);
  if (keyHashOf(name, publicKey) !== keyHash) {
    throw new AuditKeyError(`${where} is not a signer key: its key hash does not match its name and key.`, {
      source: where,
    });
  }
  return Object.freeze({
    name,
    keyHash,
    verifierKey: encodeVerifierKey(name, publicKey),
    sign: (message: Uint8Array) => new Uint8Array(sign(null, message, privateKey)),
  });
}

/** @internal True when `text` can be a note's text: non-empty, ends in `\n`, no control character but `\n`. */
export function isValidNoteText(text: string): boolean {
  return text.length > 0 && text.endsWith('\n') && !CONTROL_BUT_NEWLINE.test(text);
}

/**
 * Signs `text` (which must end in `\n`) and returns the note: the text, a blank line, and the
 * signature line `— <name> <base64(key hash ‖ signature)>`.
 *
 * @throws AuditLogError (`AUDIT_INVALID`) when `text` cannot be a note's text.
 */
export function signNote(text: string, signer: NoteSigner): string {
  if (!isValidNoteText(text) || text.includes('\n\n')) {
    throw new AuditLogError(
      'Cannot sign: a note text must end in a newline and hold no blank line or control characters.',
      {
        problem: 'checkpoint-invalid',
      },
    );
  }
  const signature = signer.sign(Buffer.from(text, 'utf8'));
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32BE(signer.keyHash, 0);
  return `${text}\n${SIGNATURE_PREFIX}${signer.name} ${Buffer.concat([prefix, signature]).toString('base64')}\n`;
}

/**
 * Opens a signed note with `verifier`: splits text and signature lines, and checks the signature
 * lines made by that key (name and key hash). Lines by other keys are kept unverified. `where`
 * names the note's source in errors.
 *
 * @throws AuditLogError (`AUDIT_INVALID`, `details.problem` `'checkpoint-invalid'`) when the note is
 * malformed, and (`'checkpoint-signature'`) when no signature by `verifier` is on it or one of its
 * signatures does not verify.
 */
export function openNote(note: string, verifier: NoteVerifier, where = 'the note'): OpenedNote {
  const malformed = (why: string): never => {
    throw new AuditLogError(`${where} is not a signed note: ${why}.`, {
      problem: 'checkpoint-invalid',
      source: where,
    });
  };
  if (CONTROL_BUT_NEWLINE.test(note)) malformed('it holds control characters');
  const split = note.lastIndexOf('\n\n');
  if (split < 0) malformed('no blank line separates the text from the signatures');
  const text = note.slice(0, split + 1);
  const block = note.slice(split + 2);
  if (!isValidNoteText(text)) malformed('the text is empty');
  if (block.length === 0 || !block.endsWith('\n')) malformed('the signature lines must end in a newline');
  const lines = block.slice(0, -1).split('\n');
  if (lines.length > MAX_SIGNATURES) malformed(`more than ${MAX_SIGNATURES} signatures`);
  const verified: NoteSignature[] = [];
  const unverified: NoteSignature[] = [];
  const message = Buffer.from(text, 'utf8');
  for (const [index, line] of lines.entries()) {
    if (!line.startsWith(SIGNATURE_PREFIX)) malformed(`signature line ${index + 1} does not start with "— "`);
    const rest = line.slice(SIGNATURE_PREFIX.length);
    const space = rest.indexOf(' ');
    const name = rest.slice(0, space);
    const base64 = rest.slice(space + 1);
    const bytes = space > 0 ? strictBase64(base64) : undefined;
    if (!isValidKeyName(name) || bytes === undefined || bytes.length < 5) {
      malformed(`signature line ${index + 1} is not "— <name> <base64>"`);
    }
    const keyHash = (bytes as Buffer).readUInt32BE(0);
    const signature: NoteSignature = Object.freeze({ name, keyHash, base64 });
    if (name !== verifier.name || keyHash !== verifier.keyHash) {
      unverified.push(signature);
      continue;
    }
    if (!verifier.verify(message, (bytes as Buffer).subarray(4))) {
      throw new AuditLogError(
        `${where} carries a signature by key ${name}+${hex8(keyHash)} that does not verify: the text or the signature was altered.`,
        { problem: 'checkpoint-signature', source: where },
      );
    }
    if (!verified.some((seen) => seen.base64 === base64)) verified.push(signature);
  }
  if (verified.length === 0) {
    const others = unverified.map((item) => `${item.name}+${hex8(item.keyHash)}`).join(', ');
    throw new AuditLogError(
      `${where} is not signed by key ${verifier.name}+${hex8(verifier.keyHash)} (signed by: ${others}).`,
      { problem: 'checkpoint-signature', source: where },
    );
  }
  return Object.freeze({ text, verified: Object.freeze(verified), unverified: Object.freeze(unverified) });
}
