/**
 * @ape/audit: tamper-evident, hash-chained audit logs for APE. Sinks implementing core's
 * `AuditSink` (memory, JSON Lines file, console, tee), the record and chain helpers they share, a
 * verifier that classifies tampering, tenant-scoped readers, and the RFC 9162 Merkle tree with
 * signed checkpoints (C2SP signed notes), inclusion and consistency proofs. Format: docs/audit.md.
 */
export type { AuditCheckpoint, VerifiedAuditCheckpoint } from './checkpoint.js';
export {
  formatCheckpoint,
  openCheckpoint,
  parseCheckpoint,
  readUnverifiedCheckpoint,
  signCheckpoint,
} from './checkpoint.js';
export type { AuditCheckpointOptions } from './checkpoint-writer.js';
export type { ConsoleAuditSinkOptions, AuditOutputStream } from './console-sink.js';
export { ConsoleAuditSink } from './console-sink.js';
export { AuditKeyError, AuditLogError } from './errors.js';
export type { AuditFileRecovery, JsonlFileAuditSink, JsonlFileAuditSinkOptions } from './jsonl-file-sink.js';
export { createJsonlFileAuditSink } from './jsonl-file-sink.js';
export type {
  AuditConsistencyProof,
  AuditInclusionProof,
  AuditLogProofOptions,
  AuditProofCheck,
} from './log-proofs.js';
export {
  AUDIT_CONSISTENCY_PROOF_FORMAT,
  AUDIT_INCLUSION_PROOF_FORMAT,
  checkpointAuditLog,
  parseAuditConsistencyProof,
  parseAuditInclusionProof,
  proveAuditConsistency,
  proveAuditRecord,
  verifyAuditConsistency,
  verifyAuditInclusionProof,
} from './log-proofs.js';
export type { MemoryAuditSinkOptions } from './memory-sink.js';
export { MemoryAuditSink } from './memory-sink.js';
export {
  EMPTY_MERKLE_ROOT,
  hashMerkleChildren,
  hashMerkleLeaf,
  MERKLE_HASH_BYTES,
  MerkleTreeAccumulator,
  merkleConsistencyProof,
  merkleInclusionProof,
  merkleRootOf,
  rootFromInclusionProof,
  verifyMerkleConsistency,
  verifyMerkleInclusion,
} from './merkle.js';
export type { AuditQuery, ReadAuditLogOptions } from './read.js';
export { readAllAuditRecords, readAuditLog } from './read.js';
export type { AuditChain, AuditChainPosition, AuditRecord, AuditRecordBody } from './record.js';
export {
  AUDIT_GENESIS_HASH,
  createAuditChain,
  createAuditRecord,
  hashAuditRecord,
  MAX_AUDIT_LINE_BYTES,
  serializeAuditRecord,
} from './record.js';
export type { RedactedArgs, RedactionOptions } from './redact.js';
export type { AuditTornTail } from './repair.js';
export { cutTornTail, findTornTail } from './repair.js';
export type { NoteKeyPair, NoteSignature, NoteSigner, NoteVerifier, OpenedNote } from './signed-note.js';
export {
  generateNoteKeyPair,
  isValidKeyName,
  openNote,
  parseSignerKey,
  parseVerifierKey,
  signNote,
} from './signed-note.js';
export { REDACTED_VALUE, redactArgs } from './redact.js';
export { TeeAuditSink } from './tee-sink.js';
export type {
  AuditCheckpointCheck,
  AuditProblem,
  AuditVerification,
  VerifyAuditLogOptions,
} from './verify.js';
export { verifyAuditLog } from './verify.js';
