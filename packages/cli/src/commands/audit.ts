import { closeSync, openSync, readSync } from 'node:fs';
import type { AuditRecord, AuditVerification } from '@ape/audit';
import { registerAuditProofCommands } from './audit-proofs.js';
import { readOrFail } from './audit-read.js';
import { type Command, InvalidArgumentError } from 'commander';
import { CommandFailure } from '../command-failure.js';
import { type CommonOptions, withCommonOptions } from '../common-options.js';
import type { CommandContext } from '../context.js';
import { EXIT_CODES } from '../exit-codes.js';
import { readInputFile } from '../json-input.js';
import type { Style } from '../style.js';
import { formatTable, oneLine } from '../text.js';

/**
 * @internal How `ape audit verify` judged a log: `intact`, `torn` (a torn last line, a failure
 * unless `--allow-torn-tail`) or `tampered` (any other problem, including a checkpoint mismatch).
 */
export type AuditVerifyStatus = 'intact' | 'torn' | 'tampered';

/**
 * @internal The `--json` output of `ape audit verify`: the verification, plus `status` and
 * `allowTornTail`. `ok` is false whenever the exit code is 1 (a torn tail counts unless allowed).
 */
export interface AuditVerifyReport extends AuditVerification {
  readonly file: string;
  readonly status: AuditVerifyStatus;
  readonly allowTornTail: boolean;
  /** The checkpoint file given with `--checkpoint`. */
  readonly checkpointFile?: string;
}

interface VerifyOptions extends CommonOptions {
  readonly checkpoint?: string;
  readonly key?: string;
  readonly allowTornTail?: boolean;
}

/** @internal The `--json` output of `ape audit show` and `ape audit tail`. */
export interface AuditRecordsReport {
  readonly records: readonly AuditRecord[];
}

interface ShowOptions extends CommonOptions {
  readonly session?: string;
  readonly tenant?: string;
  readonly type?: string;
}

interface TailOptions extends CommonOptions {
  readonly lines: number;
}

/** @internal How many records `ape audit tail` prints by default. */
export const DEFAULT_TAIL_COUNT = 10;

const DATA_SUMMARY_LENGTH = 160;

/** Keys shown first in the human summary of a record, in this order. */
const SUMMARY_KEYS: readonly string[] = [
  'stepIndex',
  'index',
  'action',
  'decision',
  'rules',
  'approver',
  'reason',
  'ok',
  'from',
  'to',
  'provenance',
  'head',
];

/** @internal `ape audit verify|show|tail <log>`: read-only tools for JSON Lines audit logs. */
export function registerAuditCommand(program: Command, context: CommandContext): void {
  const audit = program.command('audit').description('verify and read hash-chained JSON Lines audit logs');

  withCommonOptions(
    audit
      .command('verify')
      .description('check the hash chain (and a signed checkpoint); exit 1 on tampering or a torn tail')
      .argument('<log>', 'the audit log file')
      .option('--checkpoint <file>', 'a signed checkpoint the log must match (needs --key)')
      .option('--key <file>', 'the verifier (public) key file of the checkpoint')
      .option('--allow-torn-tail', 'accept a torn last line left by a crash (exit 0, with a note)'),
  ).action(async (file: string, options: VerifyOptions) => {
    const { verifyAuditLog } = await import('@ape/audit');
    if ((options.checkpoint === undefined) !== (options.key === undefined)) {
      throw new CommandFailure(
        '--checkpoint and --key go together: a checkpoint is only worth its signature.',
      );
    }
    const checkpoint =
      options.checkpoint === undefined || options.key === undefined
        ? undefined
        : {
            note: readInputFile(context.resolvePath(options.checkpoint), options.checkpoint),
            key: readInputFile(context.resolvePath(options.key), options.key),
            source: options.checkpoint,
          };
    const verification = await readOrFail(() =>
      verifyAuditLog(context.resolvePath(file), checkpoint === undefined ? {} : { checkpoint }),
    );
    if (isNotAnAuditLog(context.resolvePath(file), verification)) {
      throw new CommandFailure(
        `${file} is not an audit log: its first line is not an audit record. Give the JSON Lines file an audit sink wrote (see docs/audit.md).`,
        EXIT_CODES.CANNOT_RUN,
      );
    }
    const allowTornTail = options.allowTornTail === true;
    const status: AuditVerifyStatus = !verification.ok
      ? 'tampered'
      : verification.truncated === true
        ? 'torn'
        : 'intact';
    const passed = status === 'intact' || (status === 'torn' && allowTornTail);
    if (!passed) context.fail(EXIT_CODES.FINDING);
    if (options.json === true) {
      const report: AuditVerifyReport = {
        file,
        ...verification,
        ok: passed,
        status,
        allowTornTail,
        ...(options.checkpoint === undefined ? {} : { checkpointFile: options.checkpoint }),
      };
      context.printJson(report);
      return;
    }
    printVerification(
      context,
      file,
      verification,
      { allowTornTail, checkpointFile: options.checkpoint },
      context.style(options),
    );
  });

  registerAuditProofCommands(audit, context);

  withCommonOptions(
    audit
      .command('show')
      .description('print the records of a log (verified first), optionally filtered')
      .argument('<log>', 'the audit log file')
      .option('--session <id>', 'only this session')
      .option('--tenant <id>', 'only this tenant')
      .option('--type <type>', 'only this event type, such as decision.made'),
  ).action(async (file: string, options: ShowOptions) => {
    if (options.type !== undefined) await checkEventType(options.type);
    const { readAllAuditRecords, readAuditLog } = await import('@ape/audit');
    const path = context.resolvePath(file);
    const filter = {
      ...(options.session === undefined ? {} : { session: options.session }),
      ...(options.type === undefined ? {} : { type: options.type }),
    };
    const records = await readOrFail(() =>
      options.tenant === undefined
        ? readAllAuditRecords(path, filter)
        : readAuditLog(path, { tenant: options.tenant, ...filter }),
    );
    printRecords(context, records, options);
  });

  withCommonOptions(
    audit
      .command('tail')
      .description('print the last records of a log (verified first)')
      .argument('<log>', 'the audit log file')
      .option('-n, --lines <count>', 'how many records', parseCount, DEFAULT_TAIL_COUNT),
  ).action(async (file: string, options: TailOptions) => {
    const { readAllAuditRecords } = await import('@ape/audit');
    const records = await readOrFail(() => readAllAuditRecords(context.resolvePath(file)));
    printRecords(context, options.lines === 0 ? [] : records.slice(-options.lines), options);
  });
}

/**
 * @internal Refuses an event type the runtime never writes (exit 2), with the closest known type:
 * a misspelt filter would otherwise print `(no records)` and look like an answer.
 */
export async function checkEventType(type: string): Promise<void> {
  const [{ AUDIT_EVENT_TYPES }, { closestMatch }] = await Promise.all([
    import('@ape/core'),
    import('@ape/policy'),
  ]);
  if ((AUDIT_EVENT_TYPES as readonly string[]).includes(type)) return;
  const match = closestMatch(type, AUDIT_EVENT_TYPES);
  const hint = match === undefined ? '' : `did you mean ${match}? `;
  throw new CommandFailure(
    `--type ${JSON.stringify(type)} is not an audit event type; ${hint}(types: ${AUDIT_EVENT_TYPES.join(', ')})`,
  );
}

/**
 * @internal Whether a failed verification means the file was never an audit log (a policy, a
 * README) rather than a damaged one: not one record verified, and the first line is malformed, or
 * torn without even starting like a record (`{`). A log whose only record was torn or edited is
 * still reported as torn or tampered.
 */
export function isNotAnAuditLog(path: string, verification: AuditVerification): boolean {
  if (verification.records !== 0 || (verification.ok && verification.truncated !== true)) return false;
  if (verification.problem === 'malformed' && verification.firstBadLine === 1) return true;
  if (verification.truncated !== true) return false;
  const head = Buffer.alloc(64);
  let read = 0;
  try {
    const descriptor = openSync(path, 'r');
    try {
      read = readSync(descriptor, head, 0, head.length, 0);
    } finally {
      closeSync(descriptor);
    }
  } catch {
    return false;
  }
  return !head.subarray(0, read).toString('utf8').trimStart().startsWith('{');
}

/** @internal Parses `-n`: a non-negative integer. */
export function parseCount(value: string): number {
  if (!/^\d{1,9}$/.test(value)) throw new InvalidArgumentError('expected a non-negative integer.');
  return Number(value);
}

function printVerification(
  context: CommandContext,
  file: string,
  verification: AuditVerification,
  given: { readonly allowTornTail: boolean; readonly checkpointFile: string | undefined },
  style: Style,
): void {
  const count = `${verification.records} record${verification.records === 1 ? '' : 's'}`;
  const check = verification.checkpoint;
  const matched =
    check?.matches === true
      ? `, matches checkpoint ${oneLine(given.checkpointFile ?? '')} (${check.size} records, signed by ${oneLine(check.signedBy)})`
      : '';
  if (verification.ok && verification.truncated === true && !given.allowTornTail) {
    context.print(
      `${style.red('TORN')} ${file}: ${count} intact${matched}, then a torn last line (line ${verification.firstBadLine ?? '?'})`,
      oneLine(verification.message ?? ''),
      'The log lost its last record (a crash, or a cut). Run `ape audit repair` to cut the torn line, or pass --allow-torn-tail to accept it.',
    );
    return;
  }
  if (verification.ok) {
    context.print(`${style.green('intact')} ${file}: ${count}, hash chain verified${matched}`);
    if (verification.truncated === true && verification.message !== undefined) {
      context.print(`${style.yellow('note:')} ${verification.message}`);
    }
    return;
  }
  if (verification.problem === 'checkpoint-invalid' || verification.problem === 'checkpoint-signature') {
    context.print(
      `${style.red('BAD CHECKPOINT')} ${oneLine(given.checkpointFile ?? '')} (${verification.problem})`,
      oneLine(verification.message ?? ''),
    );
    return;
  }
  if (verification.problem === 'checkpoint-ahead' || verification.problem === 'checkpoint-mismatch') {
    context.print(
      `${style.red('TAMPERED')} ${file}: does not match checkpoint ${oneLine(given.checkpointFile ?? '')} (${verification.problem})`,
      oneLine(verification.message ?? ''),
      `${count} in the log, hash chain intact.`,
    );
    return;
  }
  const where =
    verification.firstBadSeq === undefined
      ? `line ${verification.firstBadLine ?? '?'}`
      : `seq ${verification.firstBadSeq}, line ${verification.firstBadLine ?? '?'}`;
  context.print(
    `${style.red('TAMPERED')} ${file}: first bad record at ${where} (${verification.problem ?? 'invalid'})`,
    oneLine(verification.message ?? ''),
    `${count} before it verified.`,
  );
}

function printRecords(
  context: CommandContext,
  records: readonly AuditRecord[],
  options: CommonOptions,
): void {
  if (options.json === true) {
    const report: AuditRecordsReport = { records };
    context.printJson(report);
    return;
  }
  if (records.length === 0) {
    context.print('(no records)');
    return;
  }
  const style = context.style(options);
  const rows = records.map((record) => [
    String(record.seq),
    record.ts,
    oneLine(record.tenant),
    oneLine(record.session),
    oneLine(record.type),
    summarise(record.data),
  ]);
  const lines = formatTable([['SEQ', 'TIME', 'TENANT', 'SESSION', 'TYPE', 'DATA'], ...rows]);
  context.print(style.bold(lines[0] ?? ''), ...lines.slice(1));
}

/** @internal A one-line `key=value` summary of a record's data, the most telling keys first. */
export function summarise(data: Readonly<Record<string, unknown>>): string {
  const keys = Object.keys(data).sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
  const text = oneLine(keys.map((key) => `${key}=${formatValue(data[key])}`).join(' '));
  return text.length > DATA_SUMMARY_LENGTH ? `${text.slice(0, DATA_SUMMARY_LENGTH - 1)}…` : text;
}

function rank(key: string): number {
  const index = SUMMARY_KEYS.indexOf(key);
  return index === -1 ? SUMMARY_KEYS.length : index;
}

function formatValue(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return `[${value.join(',')}]`;
  return JSON.stringify(value) ?? String(value);
}
