import type { AuditRecord, AuditVerification } from '@ape/audit';
import { type Command, InvalidArgumentError } from 'commander';
import { CommandFailure } from '../command-failure.js';
import { type CommonOptions, withCommonOptions } from '../common-options.js';
import type { CommandContext } from '../context.js';
import { EXIT_CODES } from '../exit-codes.js';
import type { Style } from '../style.js';
import { formatTable, oneLine } from '../text.js';

/** @internal The `--json` output of `ape audit verify`. */
export interface AuditVerifyReport extends AuditVerification {
  readonly file: string;
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
      .description('check the hash chain; exit 1 on tampering, naming the first bad record')
      .argument('<log>', 'the audit log file'),
  ).action(async (file: string, options: CommonOptions) => {
    const { verifyAuditLog } = await import('@ape/audit');
    const verification = await readOrFail(() => verifyAuditLog(context.resolvePath(file)));
    if (!verification.ok) context.fail(EXIT_CODES.FINDING);
    if (options.json === true) {
      const report: AuditVerifyReport = { file, ...verification };
      context.printJson(report);
      return;
    }
    printVerification(context, file, verification, context.style(options));
  });

  withCommonOptions(
    audit
      .command('show')
      .description('print the records of a log (verified first), optionally filtered')
      .argument('<log>', 'the audit log file')
      .option('--session <id>', 'only this session')
      .option('--tenant <id>', 'only this tenant')
      .option('--type <type>', 'only this event type, such as decision.made'),
  ).action(async (file: string, options: ShowOptions) => {
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

/** @internal Parses `-n`: a non-negative integer. */
export function parseCount(value: string): number {
  if (!/^\d{1,9}$/.test(value)) throw new InvalidArgumentError('expected a non-negative integer.');
  return Number(value);
}

/**
 * Runs a read of the log: a log that fails verification is a finding (exit 1), a log that cannot be
 * read at all stops the command (exit 2).
 */
async function readOrFail<T>(read: () => Promise<T>): Promise<T> {
  const { AuditLogError } = await import('@ape/audit');
  try {
    return await read();
  } catch (error) {
    if (!AuditLogError.isInstance(error)) throw error;
    const tampered = error.details['problem'] !== undefined || error.details['line'] !== undefined;
    if (tampered) throw new CommandFailure(error.message, EXIT_CODES.FINDING);
    throw new CommandFailure(error.message, EXIT_CODES.CANNOT_RUN);
  }
}

function printVerification(
  context: CommandContext,
  file: string,
  verification: AuditVerification,
  style: Style,
): void {
  const count = `${verification.records} record${verification.records === 1 ? '' : 's'}`;
  if (verification.ok) {
    context.print(`${style.green('intact')} ${file}: ${count}, hash chain verified`);
    if (verification.truncated === true && verification.message !== undefined) {
      context.print(`${style.yellow('note:')} ${verification.message}`);
    }
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
