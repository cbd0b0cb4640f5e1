import { open } from 'node:fs/promises';
import { AuditLogError } from './errors.js';
import { linesFromFile } from './lines.js';
import { MAX_AUDIT_LINE_BYTES } from './record.js';
import { readFailure, verifyLines } from './verify.js';

/** Bytes of a torn tail shown by {@link findTornTail}. */
const PREVIEW_BYTES = 4096;

/** The torn last line of a log, as {@link findTornTail} found it. */
export interface AuditTornTail {
  readonly path: string;
  /** Intact records before it. */
  readonly records: number;
  /** Size the file is cut to. */
  readonly intactBytes: number;
  /** Size of the file when inspected. */
  readonly fileBytes: number;
  /** 1-based line of the torn tail. */
  readonly line: number;
  /** Why the line is torn. */
  readonly message: string;
  /** The first bytes of the torn tail, decoded as UTF-8 (invalid bytes replaced). */
  readonly preview: string;
}

/**
 * Looks for a torn last line (see docs/audit.md, "Torn tail"). Returns `undefined` when the log is
 * intact without one.
 *
 * @throws AuditLogError (`AUDIT_INVALID`, `details.problem`) when the log fails verification for
 * any other reason (it must not be "repaired"), or cannot be read.
 */
export async function findTornTail(
  path: string,
  options: { readonly maxLineBytes?: number } = {},
): Promise<AuditTornTail | undefined> {
  try {
    const verification = await verifyLines(linesFromFile(path, options.maxLineBytes ?? MAX_AUDIT_LINE_BYTES));
    if (!verification.ok) {
      throw new AuditLogError(`Refusing to repair audit log ${path}: ${verification.message}`, {
        path,
        problem: verification.problem,
        firstBadSeq: verification.firstBadSeq,
        firstBadLine: verification.firstBadLine,
      });
    }
    if (verification.truncated !== true) return undefined;
    const handle = await open(path, 'r');
    try {
      const fileBytes = (await handle.stat()).size;
      const length = Math.min(PREVIEW_BYTES, fileBytes - verification.intactBytes);
      const buffer = Buffer.alloc(length);
      await handle.read(buffer, 0, length, verification.intactBytes);
      return Object.freeze({
        path,
        records: verification.records,
        intactBytes: verification.intactBytes,
        fileBytes,
        line: verification.firstBadLine ?? verification.records + 1,
        message: verification.message ?? 'The last line is torn.',
        preview: buffer.toString('utf8'),
      });
    } finally {
      await handle.close();
    }
  } catch (error) {
    throw readFailure(path, error);
  }
}

/**
 * Cuts the torn tail `tail` (from {@link findTornTail}) off its file and syncs the file. Refuses
 * when the file changed size since it was inspected (someone is still writing it).
 *
 * @throws AuditLogError (`AUDIT_INVALID`) when the file changed or cannot be written.
 */
export async function cutTornTail(tail: AuditTornTail): Promise<void> {
  try {
    const handle = await open(tail.path, 'r+');
    try {
      const size = (await handle.stat()).size;
      if (size !== tail.fileBytes) {
        throw new AuditLogError(
          `Refusing to repair audit log ${tail.path}: it changed size (${tail.fileBytes} → ${size} bytes) since it was inspected; stop its writer first.`,
          { path: tail.path },
        );
      }
      await handle.truncate(tail.intactBytes);
      await handle.datasync();
    } finally {
      await handle.close();
    }
  } catch (error) {
    throw readFailure(tail.path, error);
  }
}
