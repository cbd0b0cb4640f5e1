import { deepFreeze, TenantIsolationError } from '@ape/core';
import { AuditLogError, verificationFailed } from './errors.js';
import { linesFromFile, parseAuditLine } from './lines.js';
import { type AuditRecord, MAX_AUDIT_LINE_BYTES } from './record.js';
import { readFailure, verifyLines } from './verify.js';

/** Which records {@link readAuditLog} returns. */
export interface AuditQuery {
  /** Required: only this tenant's records are ever returned. */
  readonly tenant: string;
  /** Only this session's records. */
  readonly session?: string;
  /** Only records of this type (`decision.made`, ...). */
  readonly type?: string;
}

/** Options shared by the readers. */
export interface ReadAuditLogOptions {
  /**
   * Default `true`: the whole file is verified first and a broken chain throws. `false` only checks
   * that each line is a well-formed record (for looking at a damaged log).
   */
  readonly verify?: boolean;
  /** Default {@link MAX_AUDIT_LINE_BYTES}. */
  readonly maxLineBytes?: number;
}

/**
 * Reads the records of one tenant (optionally one session and/or one type) from a JSON Lines log,
 * in file order, streaming. Never returns another tenant's records. A torn last line is skipped.
 * Records are deep-frozen.
 *
 * @throws TenantIsolationError (`TENANT_MISMATCH`) when `tenant` is missing or empty.
 * @throws AuditLogError (`AUDIT_INVALID`) when the file cannot be read, a line that is not the last
 * is not a record, or (with `verify`) the chain is broken.
 */
export async function readAuditLog(
  path: string,
  query: AuditQuery,
  options: ReadAuditLogOptions = {},
): Promise<AuditRecord[]> {
  if (typeof query?.tenant !== 'string' || query.tenant.length === 0) {
    throw new TenantIsolationError(
      'readAuditLog needs a non-empty tenant: records are only read one tenant at a time.',
      {
        field: 'tenant',
      },
    );
  }
  return readRecords(path, query, options);
}

/**
 * Reads every tenant's records (optionally filtered by session and/or type). For operators and
 * tooling that must see the whole file; application code should use {@link readAuditLog}.
 *
 * @throws AuditLogError (`AUDIT_INVALID`) as {@link readAuditLog}.
 */
export async function readAllAuditRecords(
  path: string,
  query: Omit<AuditQuery, 'tenant'> = {},
  options: ReadAuditLogOptions = {},
): Promise<AuditRecord[]> {
  return readRecords(path, query, options);
}

async function readRecords(
  path: string,
  query: Partial<AuditQuery>,
  options: ReadAuditLogOptions,
): Promise<AuditRecord[]> {
  const source = linesFromFile(path, options.maxLineBytes ?? MAX_AUDIT_LINE_BYTES);
  try {
    if (options.verify !== false) {
      const verification = await verifyLines(source);
      if (!verification.ok) {
        throw verificationFailed(path, verification);
      }
    }
    const records: AuditRecord[] = [];
    let line = 0;
    let pending: AuditLogError | undefined;
    for await (const batch of source()) {
      for (const raw of batch) {
        line++;
        if (pending !== undefined) throw pending;
        if (!raw.terminated) return records;
        const parsed = raw.text === undefined ? undefined : parseAuditLine(raw.text);
        if (parsed === undefined || !parsed.ok) {
          // Only fatal when another line follows: a bad last line is a torn write.
          const reason = parsed === undefined ? (raw.problem ?? 'is unreadable') : parsed.reason;
          pending = new AuditLogError(`Audit log ${path}, line ${line} ${reason}.`, { path, line });
          continue;
        }
        const record = parsed.record;
        if (query.tenant !== undefined && record.tenant !== query.tenant) continue;
        if (query.session !== undefined && record.session !== query.session) continue;
        if (query.type !== undefined && record.type !== query.type) continue;
        records.push(deepFreeze(record));
      }
    }
    return records;
  } catch (error) {
    throw readFailure(path, error);
  }
}
