/**
 * Test helpers for APE integrators: fakes of the core ports and contract suites that every
 * implementation of a port (ours or yours) must pass. Import from `@ape/core/testing`; the contract
 * suites need `vitest`.
 */
export { FakeClock } from './fake-clock.js';
export { runTokenStoreContract } from './token-store-contract.js';
export { type ApprovalQueueContractSubject, runApprovalQueueContract } from './approval-queue-contract.js';
export { type RevocationFeedContractSubject, runRevocationFeedContract } from './revocation-feed-contract.js';
export { runUsageStoreContract } from './usage-store-contract.js';
export {
  type EscalationContractAnswer,
  type EscalationContractFactory,
  type EscalationContractSubject,
  runEscalationHandlerContract,
} from './escalation-handler-contract.js';
export {
  type AuditSinkContractOptions,
  type ObservedAuditEvent,
  runAuditSinkContract,
} from './audit-sink-contract.js';
export {
  createFakeAuthority,
  type FakeAuthority,
  type FakeAuthorityOptions,
  type RecordedRevocation,
} from './fake-authority.js';
export {
  createRecordingAuditSink,
  type RecordingAuditSink,
  type RecordingAuditSinkOptions,
} from './recording-audit-sink.js';
export {
  createScriptedEscalationHandler,
  type ScriptedAnswer,
  type ScriptedEscalationHandler,
} from './scripted-escalation-handler.js';
export { createStubPolicy, type StubPolicy, type StubPolicyOptions } from './stub-policy.js';
