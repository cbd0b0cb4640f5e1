import { type AdapterHandle, createAdapterHandle } from '@ape/core/adapter';
import { type ApeOpenAIAgentsOptions, resolveOptions } from './options.js';
import { type ApeThread, ThreadImplementation } from './thread.js';

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
    resolveOptions(options),
    (lineage, context) => new ThreadImplementation(lineage, context),
  );
}
