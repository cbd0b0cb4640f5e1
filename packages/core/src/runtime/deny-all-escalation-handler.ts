import type { EscalationHandler, EscalationResult } from '../ports/escalation-handler.js';

const DENIAL: EscalationResult = Object.freeze({
  approved: false,
  approver: 'deny-all',
  provenance: 'SYSTEM_TRUSTED',
  reason: 'No escalation handler is configured; escalated calls are denied.',
});

/**
 * The default escalation handler of `createRuntime`: answers every request with a denial from
 * approver `"deny-all"`. An escalated call therefore terminates the session unless the host injects
 * a real handler (`@ape/escalation`).
 */
export function createDenyAllEscalationHandler(): EscalationHandler {
  return Object.freeze({ requestApproval: async () => DENIAL });
}
