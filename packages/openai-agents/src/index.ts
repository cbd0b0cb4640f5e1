/**
 * `@ape/openai-agents`: APE for OpenAI Agents JS (`@openai/agents` 0.14.x). Wrap a conversation's
 * function tools and every call the model makes goes through the APE gate in calls mode; a call the
 * policy escalates becomes an SDK interruption (`needsApproval`), and the human's answer, given with
 * `thread.approve` / `thread.reject`, returns to APE with the approver's identity.
 *
 * @packageDocumentation
 */
export type { ApeOpenAIAgents, ApeOpenAIAgentsOptions } from './adapter.js';
export { createApeOpenAIAgents } from './adapter.js';
export type { DenyBehaviour, ProvenanceMode, Refusal } from '@ape/core/adapter';
export { DEFAULT_DATAFLOW_MIN_LENGTH, MAX_INDEXED_CHARACTERS, PROVENANCE_MODES } from '@ape/core/adapter';
export type {
  ApeThread,
  ApprovalAnswer,
  PendingApproval,
  WrapToolOptions,
  WrapToolsOptions,
} from './thread.js';
export { ADAPTER_APPROVER, MAX_PENDING_APPROVALS } from './thread.js';
