import type { EscalationHandler, EscalationResult } from '../ports/escalation-handler.js';
import { escapeTerminalText } from '../terminal-text.js';

/** Options of {@link createDenyAllEscalationHandler}. */
export interface DenyAllEscalationHandlerOptions {
  /**
   * The reason recorded with every denial (escaped like terminal text and cut to 300 characters);
   * defaults to one saying no escalation handler is configured.
   */
  readonly reason?: string;
}

const DEFAULT_REASON = 'No escalation handler is configured; escalated calls are denied.';
const MAX_REASON_LENGTH = 300;

/**
 * The one deny-all escalation handler, and the default of `createRuntime`: answers every request at
 * once with the same frozen denial from approver `"deny-all"`, provenance `SYSTEM_TRUSTED`. It never
 * asks anyone and never approves, so an escalated call terminates the session unless the host injects
 * a real handler (`@ape/escalation`).
 */
export function createDenyAllEscalationHandler(
  options: DenyAllEscalationHandlerOptions = {},
): EscalationHandler {
  const reason =
    typeof options.reason === 'string' && options.reason !== ''
      ? escapeTerminalText(options.reason, { maxLength: MAX_REASON_LENGTH })
      : DEFAULT_REASON;
  const denial: EscalationResult = Object.freeze({
    approved: false,
    approver: 'deny-all',
    provenance: 'SYSTEM_TRUSTED',
    reason,
  });
  return Object.freeze({ requestApproval: async () => denial });
}
