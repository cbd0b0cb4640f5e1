/**
 * @ape/audit: tamper-evident, hash-chained audit logs for APE. Sinks implementing core's
 * `AuditSink` (memory, JSON Lines file, console, tee), the record and chain helpers they share, a
 * verifier that classifies tampering, and tenant-scoped readers. Format: docs/audit.md.
 */
export type { ConsoleAuditSinkOptions, AuditOutputStream } from './console-sink.js';
export { ConsoleAuditSink } from './console-sink.js';
export { AuditLogError } from './errors.js';
export type { AuditFileRecovery, JsonlFileAuditSink, JsonlFileAuditSinkOptions } from './jsonl-file-sink.js';
export { createJsonlFileAuditSink } from './jsonl-file-sink.js';
export type { MemoryAuditSinkOptions } from './memory-sink.js';
export { MemoryAuditSink } from './memory-sink.js';
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
export { REDACTED_VALUE, redactArgs } from './redact.js';
export { TeeAuditSink } from './tee-sink.js';
export type { AuditProblem, AuditVerification, VerifyAuditLogOptions } from './verify.js';
export { verifyAuditLog } from './verify.js';
