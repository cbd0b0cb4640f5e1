import {
  type AdapterHandle,
  type AdapterOptions,
  createAdapterHandle,
  resolveAdapterOptions,
} from '@ape/core/adapter';
import { type ApeThread, ThreadImplementation } from './thread.js';

/**
 * What {@link createApeOpenAIAgents} takes: the options every APE adapter takes (`AdapterOptions`
 * of `@ape/core/adapter`). `escalation` decides an escalation the `needsApproval` pre-check did not
 * expect; the default audit sink is {@link ApeOpenAIAgents.audit}.
 */
export interface ApeOpenAIAgentsOptions extends AdapterOptions {}

/**
 * APE for OpenAI Agents JS. Create with {@link createApeOpenAIAgents}. Its members are those of
 * every adapter (`AdapterHandle` of `@ape/core/adapter`): `tenant`, `audit`, `usage`,
 * `thread(lineage)` and `close()`.
 */
export interface ApeOpenAIAgents extends AdapterHandle<ApeThread> {}

/**
 * Puts APE between an OpenAI Agents JS agent and its tools: wrap the tools of each conversation with
 * `ape.thread(id).tools([...])` and every call the model makes goes through the APE gate in calls
 * mode (intent, policy with the call's provenance, escalation through `needsApproval` and the run's
 * interruptions, a single-use token, the audit log). See docs/openai-agents.md.
 * @throws ConfigurationError (`CONFIG_INVALID`) for malformed options (`details.field`).
 */
export function createApeOpenAIAgents(options: ApeOpenAIAgentsOptions): ApeOpenAIAgents {
  return createAdapterHandle(
    resolveAdapterOptions('createApeOpenAIAgents', options),
    (lineage, context) => new ThreadImplementation(lineage, context),
  );
}
