import { registerApprovalCommands } from './commands/approvals.js';
import { registerAttackCommand } from './commands/attack.js';
import { registerAuditCommand } from './commands/audit.js';
import { registerConsoleCommand } from './commands/console.js';
import { registerDemoCommand } from './commands/demo.js';
import { registerDiffCommand } from './commands/diff.js';
import { registerExplainCommand } from './commands/explain.js';
import { registerInitCommand } from './commands/init.js';
import { registerMcpCommand } from './commands/mcp.js';
import { registerRevokeCommand } from './commands/revoke.js';
import { registerSimulateCommand } from './commands/simulate.js';
import { registerTestCommand } from './commands/test.js';
import { registerValidateCommand } from './commands/validate.js';
import { registerVerifyCommand } from './commands/verify.js';
import type { CommandRegistration } from './program.js';

/** @internal Every command of `ape`, in the order `ape --help` lists them. */
export const ALL_COMMANDS: readonly CommandRegistration[] = [
  registerValidateCommand,
  registerSimulateCommand,
  registerExplainCommand,
  registerTestCommand,
  registerAuditCommand,
  registerInitCommand,
  registerDemoCommand,
  registerAttackCommand,
  registerMcpCommand,
  registerVerifyCommand,
  registerDiffCommand,
  registerApprovalCommands,
  registerRevokeCommand,
  registerConsoleCommand,
];
