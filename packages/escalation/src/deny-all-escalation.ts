import {
  createDenyAllEscalationHandler,
  type EscalationHandler,
  type EscalationRequest,
  type EscalationResult,
} from '@ape/core';

/**
 * Options of {@link DenyAllEscalation}.
 * @deprecated Use `DenyAllEscalationHandlerOptions` of `@ape/core`.
 */
export interface DenyAllEscalationOptions {
  /** The reason recorded with every denial; defaults to one saying no approver is configured. */
  readonly reason?: string;
}

const DEFAULT_REASON =
  'no approver is configured, so every escalation is denied (deny-all default); ' +
  'configure CallbackEscalation, ConsoleEscalation or QueueEscalation to let a human approve';

/**
 * Denies every escalation at once, with approver `"deny-all"`, provenance `SYSTEM_TRUSTED` and a
 * reason saying why: a thin wrapper of `@ape/core`'s `createDenyAllEscalationHandler`, the one
 * deny-all handler and the runtime's default.
 * @deprecated Use `createDenyAllEscalationHandler({ reason })` from `@ape/core`; this class will be
 * removed in the next major version.
 */
export class DenyAllEscalation implements EscalationHandler {
  readonly #handler: EscalationHandler;

  /** @param options an optional custom reason (escaped and cut to 300 characters). */
  constructor(options: DenyAllEscalationOptions = {}) {
    const reason =
      typeof options.reason === 'string' && options.reason !== '' ? options.reason : DEFAULT_REASON;
    this.#handler = createDenyAllEscalationHandler({ reason });
  }

  /** Resolves to the same frozen denial for every request; ignores the signal (it never waits). */
  requestApproval(request: EscalationRequest, signal: AbortSignal): Promise<EscalationResult> {
    return this.#handler.requestApproval(request, signal);
  }
}
