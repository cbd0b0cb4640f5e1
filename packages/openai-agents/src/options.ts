import {
  type AdapterOptions,
  type DenyBehaviour,
  type ResolvedAdapterOptions,
  resolveAdapterOptions,
} from '@ape/core/adapter';

export type { DenyBehaviour };

/**
 * What {@link createApeOpenAIAgents} takes: the options every APE adapter takes (`AdapterOptions`
 * of `@ape/core/adapter`). `escalation` decides an escalation the `needsApproval` pre-check did not
 * expect; the default audit sink is {@link ApeOpenAIAgents.audit}.
 */
export interface ApeOpenAIAgentsOptions extends AdapterOptions {}

/** @internal The validated options. */
export type ResolvedOptions = ResolvedAdapterOptions;

/** @internal Validates {@link ApeOpenAIAgentsOptions}; the runtime validates the rest when a session starts. */
export function resolveOptions(options: ApeOpenAIAgentsOptions): ResolvedOptions {
  return resolveAdapterOptions('createApeOpenAIAgents', options);
}
