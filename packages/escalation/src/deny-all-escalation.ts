import type { EscalationHandler, EscalationRequest, EscalationResult } from '@ape/core';
import { boundedText, systemDenial } from './answers.js';

/** Options of {@link DenyAllEscalation}. */
export interface DenyAllEscalationOptions {
  /** The reason recorded with every denial; defaults to one saying no approver is configured. */
  readonly reason?: string;
}

const DEFAULT_REASON =
  'no approver is configured, so every escalation is denied (deny-all default); ' +
  'configure CallbackEscalation, ConsoleEscalation or QueueEscalation to let a human approve';

/**
 * The default escalation handler: denies every escalation at once, with approver `"deny-all"`,
 * provenance `SYSTEM_TRUSTED` and a reason saying why. Never asks anyone, never approves.
 */
export class DenyAllEscalation implements EscalationHandler {
  readonly #denial: EscalationResult;

  /** @param options an optional custom reason (escaped and cut to 300 characters). */
  constructor(options: DenyAllEscalationOptions = {}) {
    const reason =
      typeof options.reason === 'string' && options.reason !== '' ? options.reason : DEFAULT_REASON;
    this.#denial = systemDenial('deny-all', boundedText(reason));
  }

  /** Resolves to the same frozen denial for every request; ignores the signal (it never waits). */
  requestApproval(_request: EscalationRequest, _signal: AbortSignal): Promise<EscalationResult> {
    return Promise.resolve(this.#denial);
  }
}
