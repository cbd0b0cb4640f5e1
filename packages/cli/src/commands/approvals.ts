import type { ApprovalSettleResult, ApprovalSettlement, PendingApproval } from '@ape/core';
import type { Command } from 'commander';
import { CommandFailure } from '../command-failure.js';
import { type CommonOptions, withCommonOptions } from '../common-options.js';
import type { CommandContext } from '../context.js';
import { EXIT_CODES } from '../exit-codes.js';
import { type RedisCommandOptions, withRedis, withRedisOptions } from '../redis-options.js';
import { formatTable, oneLine } from '../text.js';

interface AnswerOptions extends RedisCommandOptions, CommonOptions {
  readonly approver: string;
  readonly reason?: string;
}

interface ListOptions extends RedisCommandOptions, CommonOptions {
  readonly tenant?: string;
}

/** A request as `--json` prints it: everything an approver needs, nothing more. */
function requestJson(request: PendingApproval): Record<string, unknown> {
  return {
    id: request.id,
    tenant: request.tenant,
    session: request.session,
    stepIndex: request.stepIndex,
    action: request.action,
    argsHash: request.argsHash,
    args: request.args,
    provenance: request.provenance,
    rules: request.decision.rules,
    reason: request.decision.reason,
    createdAt: new Date(request.createdAt).toISOString(),
    expiresAt: new Date(request.expiresAt).toISOString(),
  };
}

/** One line about a request, safe for a terminal (the arguments are untrusted text). */
function describeRequest(request: PendingApproval): string {
  return oneLine(
    `${request.tenant}/${request.session} step ${request.stepIndex}: ${request.action} ${JSON.stringify(request.args)} (${request.provenance}; ${request.decision.reason})`,
  );
}

function describeSettlement(settlement: ApprovalSettlement): string {
  switch (settlement.state) {
    case 'answered':
      return `${settlement.approved ? 'approved' : 'denied'} by ${oneLine(settlement.approver)}`;
    case 'timeout':
      return 'timed out';
    case 'cancelled':
      return `cancelled (${oneLine(settlement.reason)})`;
  }
}

async function answer(
  context: CommandContext,
  id: string,
  approved: boolean,
  options: AnswerOptions,
): Promise<void> {
  const verb = approved ? 'approve' : 'deny';
  const outcome = await withRedis(options, async (module, connection, prefix) => {
    const queue = new module.RedisApprovalQueue({ connection, ...prefix });
    const record = await queue.get(id);
    if (record === undefined) return { record, result: undefined };
    const result: ApprovalSettleResult =
      record.settlement === undefined
        ? await queue.answer(id, {
            approved,
            approver: options.approver,
            provenance: 'USER_TRUSTED',
            ...(options.reason === undefined ? {} : { reason: options.reason }),
            binding: record.request,
          })
        : { ok: false, reason: 'settled', settlement: record.settlement };
    return { record, result };
  });
  const { record, result } = outcome;
  if (record === undefined || result === undefined) {
    if (options.json === true) context.printJson({ id, ok: false, reason: 'unknown' });
    throw new CommandFailure(
      `no approval request "${oneLine(id)}" (unknown, or forgotten after its retention): see ape approvals list`,
      EXIT_CODES.FINDING,
    );
  }
  if (options.json === true) {
    context.printJson({
      id,
      ok: result.ok,
      ...(result.ok ? {} : { reason: result.reason }),
      request: requestJson(record.request),
      ...(result.settlement === undefined ? {} : { settlement: result.settlement }),
    });
  }
  if (!result.ok) {
    const why =
      result.reason === 'settled' && result.settlement !== undefined
        ? `it was already ${describeSettlement(result.settlement)}`
        : result.reason;
    throw new CommandFailure(
      `could not ${verb} ${oneLine(id)}: ${why}; the answer did not count`,
      EXIT_CODES.FINDING,
    );
  }
  if (options.json !== true) {
    const style = context.style(options);
    context.print(
      `${approved ? style.green('approved') : style.red('denied')} ${oneLine(id)} as ${oneLine(options.approver)}`,
      `  ${describeRequest(record.request)}`,
    );
  }
}

/**
 * @internal `ape approve <id>`, `ape deny <id>` and `ape approvals list`: answer, from any machine,
 * an escalation that an agent of the fleet is waiting for (see docs/cli.md and docs/deployment.md).
 */
export function registerApprovalCommands(program: Command, context: CommandContext): void {
  for (const approved of [true, false]) {
    const name = approved ? 'approve' : 'deny';
    withCommonOptions(
      withRedisOptions(
        program
          .command(name)
          .description(
            approved
              ? 'approve a pending escalation by id: the waiting agent runs the call'
              : 'deny a pending escalation by id: the waiting agent is stopped',
          )
          .argument('<request-id>', 'the id shown by ape approvals list (<tenant>/<uuid>)')
          .requiredOption('--approver <name>', 'who answers (recorded in the audit log)')
          .option('--reason <text>', 'why (recorded in the audit log)'),
      ),
    ).action(async (id: string, options: AnswerOptions) => {
      if (options.approver.trim() === '') throw new CommandFailure('--approver must name who answers');
      await answer(context, id, approved, options);
    });
  }

  const approvals = program.command('approvals').description('pending escalations of the fleet: list');
  withCommonOptions(
    withRedisOptions(
      approvals
        .command('list')
        .description('list the escalations waiting for an answer, oldest first')
        .option('--tenant <id>', 'only this tenant'),
    ),
  ).action(async (options: ListOptions) => {
    const pending = await withRedis(options, async (module, connection, prefix) =>
      new module.RedisApprovalQueue({ connection, ...prefix }).list(
        options.tenant === undefined ? {} : { tenant: options.tenant },
      ),
    );
    if (options.json === true) {
      context.printJson({ approvals: pending.map(requestJson) });
      return;
    }
    if (pending.length === 0) {
      context.print('no pending escalations');
      return;
    }
    context.print(
      ...formatTable([
        ['ID', 'EXPIRES', 'CALL'],
        ...pending.map((request) => [
          oneLine(request.id),
          new Date(request.expiresAt).toISOString(),
          describeRequest(request),
        ]),
      ]),
    );
  });
}
