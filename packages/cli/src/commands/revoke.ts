import type { RevocationTarget } from '@ape/core';
import type { Command } from 'commander';
import { CommandFailure } from '../command-failure.js';
import { type CommonOptions, withCommonOptions } from '../common-options.js';
import type { CommandContext } from '../context.js';
import { EXIT_CODES } from '../exit-codes.js';
import { type RedisCommandOptions, withRedis, withRedisOptions } from '../redis-options.js';
import { oneLine } from '../text.js';

interface RevokeOptions extends RedisCommandOptions, CommonOptions {
  readonly tenant: string;
  readonly lineage?: string;
  readonly session?: string;
  readonly reason: string;
  readonly by: string;
  readonly lift?: boolean;
}

function describeTarget(target: RevocationTarget): string {
  if (target.session !== undefined)
    return `session ${oneLine(target.session)} of tenant ${oneLine(target.tenant)}`;
  if (target.lineage !== undefined)
    return `lineage ${oneLine(target.lineage)} of tenant ${oneLine(target.tenant)}`;
  return `tenant ${oneLine(target.tenant)} (every session)`;
}

/**
 * @internal `ape revoke`: the fleet's kill switch. Revokes a session, a lineage or a whole tenant in
 * every process sharing the Redis (within their staleness bound); `--lift` removes it again.
 */
export function registerRevokeCommand(program: Command, context: CommandContext): void {
  withCommonOptions(
    withRedisOptions(
      program
        .command('revoke')
        .description('stop a tenant, a lineage or a session in every process of the fleet (--lift undoes it)')
        .requiredOption('--tenant <id>', 'the tenant (alone: the whole tenant)')
        .option('--lineage <id>', 'only this lineage of the tenant')
        .option('--session <id>', 'only this session of the tenant')
        .option('--reason <text>', 'why (shown to operators and in the audit log)', 'revoked with ape revoke')
        .option('--by <name>', 'who revokes', 'ape revoke')
        .option('--lift', 'remove this revocation instead'),
    ),
  ).action(async (options: RevokeOptions) => {
    if (options.lineage !== undefined && options.session !== undefined) {
      throw new CommandFailure('give --lineage or --session, not both');
    }
    const target: RevocationTarget = {
      tenant: options.tenant,
      ...(options.lineage === undefined ? {} : { lineage: options.lineage }),
      ...(options.session === undefined ? {} : { session: options.session }),
    };
    const changed = await withRedis(options, async (module, connection, prefix) => {
      const feed = new module.RedisRevocationFeed({ connection, ...prefix });
      if (options.lift === true) return feed.lift(target);
      await feed.revoke(target, { reason: options.reason, revokedBy: options.by });
      return true;
    });
    if (options.json === true) {
      context.printJson(
        options.lift === true
          ? { lifted: changed, target }
          : { revoked: true, target, reason: options.reason, revokedBy: options.by },
      );
    }
    if (options.lift === true && !changed) {
      throw new CommandFailure(
        `nothing to lift: ${describeTarget(target)} was not revoked`,
        EXIT_CODES.FINDING,
      );
    }
    if (options.json !== true) {
      const style = context.style(options);
      context.print(
        options.lift === true
          ? `${style.green('lifted')} the revocation of ${describeTarget(target)}`
          : `${style.red('revoked')} ${describeTarget(target)}: every process stops its next call`,
      );
    }
  });
}
