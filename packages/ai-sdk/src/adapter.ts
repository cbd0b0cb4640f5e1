import {
  type AdapterHandle,
  type AdapterOptions,
  createAdapterHandle,
  resolveAdapterOptions,
} from '@ape/core/adapter';
import { ThreadImplementation } from './thread.js';
import type { ApeThread } from './thread-api.js';

/**
 * What {@link createApeAiSdk} takes: the options every APE adapter takes (`AdapterOptions` of
 * `@ape/core/adapter`). `escalation` decides an escalation the SDK's approval flow did not ask about
 * (a call the adapter's pre-check did not expect to escalate); the default audit sink is
 * {@link ApeAiSdk.audit}.
 */
export interface ApeAiSdkOptions extends AdapterOptions {}

/**
 * APE for the Vercel AI SDK. Create with {@link createApeAiSdk}. Its members are those of every
 * adapter (`AdapterHandle` of `@ape/core/adapter`): `tenant`, `audit`, `usage`, `thread(lineage)`
 * and `close()`.
 */
export interface ApeAiSdk extends AdapterHandle<ApeThread> {}

/**
 * Puts APE between an AI SDK agent and its tools: wrap the tools of each conversation with
 * `ape.thread(id).tools({...})` and every call the model makes goes through the APE gate in calls
 * mode (intent, policy with the call's provenance, escalation through the SDK's tool approval flow,
 * a single-use token, the audit log). See docs/ai-sdk.md.
 * @throws ConfigurationError (`CONFIG_INVALID`) for malformed options (`details.field`).
 */
export function createApeAiSdk(options: ApeAiSdkOptions): ApeAiSdk {
  return createAdapterHandle(
    resolveAdapterOptions('createApeAiSdk', options),
    (lineage, context) => new ThreadImplementation(lineage, context),
  );
}
