/**
 * @ape/console: the web page where people approve escalated agent actions and auditors read what
 * happened. `createConsole({ users, queue, audit })` answers an `ApprovalQueue` (the one an
 * `ApprovalQueueEscalation` publishes to) and reads a JSON Lines audit log; `ape console` and
 * `ape mcp proxy --console` serve it. Security model: docs/console.md.
 *
 * @packageDocumentation
 */
export type { ConsoleAuditOptions } from './audit-log.js';
export type {
  ApeConsole,
  ConsoleListenOptions,
  ConsoleOptions,
  ConsoleServer,
} from './console.js';
export { createConsole, parseConsoleAddress } from './console.js';
export {
  generateConsoleSecret,
  hashConsoleSecret,
  MIN_CONSOLE_SECRET_LENGTH,
} from './secret.js';
export type { ConsoleUser } from './users.js';
export { ALL_TENANTS, parseConsoleUsers } from './users.js';
