/**
 * Contract suites for APE integrators: the vitest suites every implementation of a core port (ours
 * or yours) must pass. Import from `@ape/core/contracts` inside a vitest test file; this entry imports
 * `vitest` and is published as ESM only. The fakes (FakeClock, fake authority, recording sink,
 * scripted escalation, stub policy) live in `@ape/core/testing`, which needs no test runner.
 */
export {
  type AuditSinkContractOptions,
  type ObservedAuditEvent,
  runAuditSinkContract,
} from './audit-sink-contract.js';
export {
  type EscalationContractAnswer,
  type EscalationContractFactory,
  type EscalationContractSubject,
  runEscalationHandlerContract,
} from './escalation-handler-contract.js';
export { type ApprovalQueueContractSubject, runApprovalQueueContract } from './approval-queue-contract.js';
export { type RevocationFeedContractSubject, runRevocationFeedContract } from './revocation-feed-contract.js';
export { runTokenStoreContract } from './token-store-contract.js';
export { replayUsageBeginSchedule, type UsageBeginStep } from './usage-begin-contract.js';
export { runUsageStoreContract, type UsageStoreContractOptions } from './usage-store-contract.js';
