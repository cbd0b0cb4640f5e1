/**
 * Human approval for APE escalations. Every handler implements `EscalationHandler` from `@ape/core`
 * and fails closed: a timeout, an abort, an error or a malformed answer is a denial, never an
 * approval.
 *
 * @packageDocumentation
 */
export type { ApprovalQueueEscalationOptions } from './approval-queue-escalation.js';
export { ApprovalQueueEscalation } from './approval-queue-escalation.js';
export type { CallbackAnswer, CallbackEscalationOptions, EscalationDecider } from './callback-escalation.js';
export { CallbackEscalation } from './callback-escalation.js';
export type { ConsoleEscalationOptions, ConsoleInput } from './console-escalation.js';
export { ConsoleEscalation } from './console-escalation.js';
export type { DenyAllEscalationOptions } from './deny-all-escalation.js';
export { DenyAllEscalation } from './deny-all-escalation.js';
export type {
  PendingEscalation,
  QueueAnswer,
  QueueEscalationEvent,
  QueueEscalationListener,
  QueueEscalationOptions,
} from './queue-escalation.js';
export { QueueEscalation } from './queue-escalation.js';
