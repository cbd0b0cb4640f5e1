/**
 * `@ape/core/adapter`: the framework-neutral part of APE's framework adapters (`@ape/ai-sdk`,
 * `@ape/openai-agents`, `@ape/langchain`), written once: options and their validation, the
 * conversation's taint tracking and argument labelling, the refusal text, the labelling audit sink,
 * the per-lineage session and thread registry, one conversation's calls through the gate
 * (`AdapterConversation`), and the bookkeeping of escalations waiting for a human. Each adapter keeps only its framework glue. Import it to write an adapter for another
 * framework; an application uses an adapter package instead.
 *
 * @packageDocumentation
 */
export {
  answerOfRecorded,
  checkHumanAnswer,
  escalationResultOf,
  type HumanAnswer,
  hashOfInput,
  MAX_PENDING_APPROVALS,
  type PendingApprovalView,
  type PredictedCall,
  predictEscalation,
  type RecordedEscalation,
  rememberPending,
  sameInputHash,
} from './approvals.js';
export { labellingSink } from './audit-labels.js';
export { AdapterConversation } from './conversation.js';
export {
  type AdapterThread,
  ConversationThread,
  type ConversationThreadParameters,
} from './conversation-thread.js';
export type {
  AdapterFramework,
  ApprovalWording,
  CallOutcome,
  ConversationParameters,
  PendingEscalation,
} from './conversation-api.js';
export { denialText, type Refusal, refusalError, refusalOf } from './denial.js';
export {
  type AdapterOptions,
  adapterConfigError,
  type DenyBehaviour,
  type ResolvedAdapterOptions,
  resolveAdapterOptions,
} from './options.js';
export {
  DEFAULT_DATAFLOW_MIN_LENGTH,
  MAX_INDEXED_CHARACTERS,
  PROVENANCE_MODES,
  type ProvenanceMode,
  TaintTracker,
} from './provenance.js';
export {
  type AdapterSessionParameters,
  adapterIntent,
  createSerialQueue,
  type SerialQueue,
  startAdapterSession,
} from './session.js';
export {
  type AdapterHandle,
  type AdapterThreadContext,
  checkToolToWrap,
  createAdapterHandle,
  createThreadRegistry,
  isLineageId,
  type ThreadRegistry,
  ToolLabels,
  type WrapToolOptions,
  type WrapToolsOptions,
} from './threads.js';
