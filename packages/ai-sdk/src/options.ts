import {
  type AdapterOptions,
  type DenyBehaviour,
  type ResolvedAdapterOptions,
  resolveAdapterOptions,
} from '@ape/core/adapter';

export type { DenyBehaviour };

/**
 * What {@link createApeAiSdk} takes: the options every APE adapter takes (`AdapterOptions` of
 * `@ape/core/adapter`). `escalation` decides an escalation the SDK's approval flow did not ask about
 * (a call the adapter's pre-check did not expect to escalate); the default audit sink is
 * {@link ApeAiSdk.audit}.
 */
export interface ApeAiSdkOptions extends AdapterOptions {}

/** @internal The validated options. */
export type ResolvedOptions = ResolvedAdapterOptions;

/** @internal Validates {@link ApeAiSdkOptions}; the runtime validates the rest when a session starts. */
export function resolveOptions(options: ApeAiSdkOptions): ResolvedOptions {
  return resolveAdapterOptions('createApeAiSdk', options);
}
