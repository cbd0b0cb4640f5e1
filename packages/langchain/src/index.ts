/**
 * `@ape/langchain`: APE for LangChain.js v1. An agent middleware for `createAgent` and a tool
 * wrapper for LangGraph put every tool call the model makes through the APE gate in calls mode; a
 * call the policy escalates interrupts the graph (`interrupt`), and the human's answer, given with
 * `Command({ resume })`, returns to APE with the approver's identity.
 *
 * @packageDocumentation
 */
export type {
  ApeLangChain,
  ApeMiddleware,
  ApeMiddlewareOptions,
  NamedTool,
  WrapToolOptions,
} from './adapter.js';
export { createApeLangChain } from './adapter.js';
export type { ProvenanceMode, Refusal } from '@ape/core/adapter';
export { DEFAULT_DATAFLOW_MIN_LENGTH, MAX_INDEXED_CHARACTERS, PROVENANCE_MODES } from '@ape/core/adapter';
export type { ApeApproval, ApeEscalation, ApprovalAnswer } from './escalation.js';
export { APPROVAL_ANSWER, approve, deny, ESCALATION_INTERRUPT, isApeEscalation } from './escalation.js';
export type { ApeLangChainOptions, DenyBehaviour, LineageOf } from './options.js';
export { ADAPTER_APPROVER } from './thread.js';
