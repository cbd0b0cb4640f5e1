/**
 * `@ape/ai-sdk`: APE for the Vercel AI SDK (`ai` 6.x). Wrap a conversation's tools and every call
 * the model makes goes through the APE gate in calls mode; a call the policy escalates becomes an
 * SDK tool approval request, and the human's answer returns to APE with the approver's identity.
 *
 * @packageDocumentation
 */
export type { ApeAiSdk, ApeAiSdkOptions } from './adapter.js';
export { createApeAiSdk } from './adapter.js';
export type { DenyBehaviour, ProvenanceMode, Refusal } from '@ape/core/adapter';
export { DEFAULT_DATAFLOW_MIN_LENGTH, MAX_INDEXED_CHARACTERS, PROVENANCE_MODES } from '@ape/core/adapter';
export type {
  ApeThread,
  ApprovalAnswer,
  ApprovalRequestLike,
  PendingApproval,
  WrapToolOptions,
  WrapToolsOptions,
} from './thread-api.js';
export { ADAPTER_APPROVER, MAX_PENDING_APPROVALS } from './thread-api.js';
