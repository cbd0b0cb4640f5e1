export type { Action } from './action.js';
export { assertAction, isActionId, validateAction } from './action.js';
export { canonicalJson, hashCanonical, MAX_CANONICAL_DEPTH, sha256 } from './canonical-json.js';
export type { ArgumentLabels } from './argument-labels.js';
export { argumentLabels, escapeJsonPointer } from './argument-labels.js';
export type { DeepReadonly } from './deep-freeze.js';
export { deepFreeze } from './deep-freeze.js';
export type { ApeErrorCode, ApeErrorDetails } from './errors.js';
export {
  ActionError,
  ApeError,
  ArgumentsError,
  AuditError,
  AuthorityExpiredError,
  CanonicalJsonError,
  ClockError,
  ConfigurationError,
  EscalationDeniedError,
  EscalationRequiredError,
  IntentError,
  InternalError,
  messageOf,
  PlanError,
  PolicyDenyError,
  PolicyError,
  ProvenanceError,
  RuntimeStateError,
  StoreUnavailableError,
  TenantIsolationError,
  UnauthorizedActionError,
} from './errors.js';
export type { Intent, ValidatedIntent } from './intent.js';
export { createIntent, validateIntent } from './intent.js';
export type { Labeled } from './labeled.js';
export { createLabeled, isLabeled, labelOf, sourcesOf, unwrapLabeled } from './labeled.js';
export { ownEntries } from './own-entries.js';
export { combineLabels, isAtLeast, isProvenanceLabel, PROVENANCE_LABELS, trustRank } from './labels.js';
export type { Plan, PlanStep, ValidatedPlan } from './plan.js';
export { createPlan, validatePlan } from './plan.js';
export type {
  ApprovalAnswer,
  ApprovalBinding,
  ApprovalListFilter,
  ApprovalPublication,
  ApprovalQueue,
  ApprovalRecord,
  ApprovalSettleResult,
  ApprovalSettlement,
  PendingApproval,
} from './ports/approval-queue.js';
export { APPROVAL_BINDING_FIELDS } from './ports/approval-queue.js';
export { AUDIT_APPENDED, type AuditSink, wantsCanonicalData } from './ports/audit-sink.js';
export type { Authority } from './ports/authority.js';
export type { Clock } from './ports/clock.js';
export { systemClock } from './ports/clock.js';
export type { EscalationHandler, EscalationRequest, EscalationResult } from './ports/escalation-handler.js';
export type { PolicyEvaluator } from './ports/policy-evaluator.js';
export type {
  Revocation,
  RevocationFeed,
  RevocationStatus,
  RevocationSubject,
  RevocationTarget,
} from './ports/revocation-feed.js';
export type { TokenRecord, TokenStore } from './ports/token-store.js';
export type {
  UsageAcquireRequest,
  UsageAcquireResult,
  UsageBeginRequest,
  UsageBeginResult,
  UsageCounter,
  UsageLimit,
  UsagePreviousWrite,
  UsageReservation,
  UsageScope,
  UsageStore,
  UsageUndoRequest,
} from './ports/usage-store.js';
export { USAGE_SCOPES } from './ports/usage-store.js';
export type { DenyAllEscalationHandlerOptions } from './runtime/deny-all-escalation-handler.js';
export { createDenyAllEscalationHandler } from './runtime/deny-all-escalation-handler.js';
export type { InMemoryAuditSink } from './runtime/in-memory-audit-sink.js';
export { createInMemoryAuditSink } from './runtime/in-memory-audit-sink.js';
export type { ChainLink, ChainStep } from './runtime/call-chain.js';
export { chainNext, chainStart } from './runtime/call-chain.js';
export type { EnforcementMode, RuntimeConfig } from './runtime/config.js';
export {
  DEFAULT_ESCALATION_TIMEOUT_MS,
  DEFAULT_USAGE_TIMEOUT_MS,
  ENFORCEMENT_MODES,
} from './runtime/config.js';
export type { InMemoryUsageStoreOptions } from './runtime/in-memory-usage-store.js';
export {
  createInMemoryUsageStore,
  DEFAULT_MAX_USAGE_RESERVATIONS,
  DEFAULT_MAX_USAGE_WRITES,
} from './runtime/in-memory-usage-store.js';
export { POLICY_FAILURE_CODE } from './runtime/policy-decisions.js';
export { REVOCATION_STALE_CODE, REVOKED_CODE } from './runtime/revocation-check.js';
export { createRuntime } from './runtime/runtime.js';
export type {
  AgentRuntime,
  CallAuthorization,
  Gate,
  GateCallOptions,
  ProvenanceOptions,
  StepCallOptions,
} from './runtime/runtime-api.js';
export type { SessionMode } from './runtime/session.js';
export { USAGE_SCOPE_MISSING_CODE, USAGE_STORE_FAILURE_CODE } from './runtime/usage.js';
export {
  answeredSettlement,
  checkApprovalAnswer,
  checkApprovalBinding,
  checkApprovalPublication,
  checkCancelReason,
  findApprovalBindingMismatch,
} from './stores/approval-rules.js';
export type { InMemoryApprovalQueueOptions } from './stores/in-memory-approval-queue.js';
export { createInMemoryApprovalQueue } from './stores/in-memory-approval-queue.js';
export type { InMemoryRevocationFeedOptions } from './stores/in-memory-revocation-feed.js';
export { createInMemoryRevocationFeed } from './stores/in-memory-revocation-feed.js';
export {
  checkRevocationDetails,
  checkRevocationTarget,
  findRevocation,
  revocationTargetKey,
} from './stores/revocation-rules.js';
export type { TerminalTextOptions } from './terminal-text.js';
export {
  DEFAULT_TERMINAL_TEXT_LENGTH,
  escapeTerminalText,
  quoteTerminalText,
} from './terminal-text.js';
export type { Tool, ToolDefinition, ToolFunction, ToolLike } from './runtime/tool.js';
export { defineTool, isTool } from './runtime/tool.js';
export type { RuntimeEvent, RuntimeState } from './state-machine.js';
export { nextState, RUNTIME_EVENTS, RUNTIME_STATES, TRANSITIONS, transition } from './state-machine.js';
export type {
  ActionRequest,
  AuditEvent,
  AuditEventType,
  AuthorityToken,
  Decision,
  IntentScope,
  PolicyDecision,
  ProvenanceLabel,
  RevocationReason,
  SessionContext,
  TokenBinding,
} from './types.js';
export { AUDIT_EVENT_TYPES, TOKEN_BINDING_FIELDS } from './types.js';
export type { ValidationIssue, ValidationResult } from './validation.js';
export { formatIssues, schemas } from './validation.js';
