import { CommandFailure } from '../command-failure.js';
import { EXIT_CODES } from '../exit-codes.js';

/**
 * @internal Runs a read of the log: a log (or checkpoint, or proof) that fails verification is a
 * finding (exit 1), a file that cannot be read at all stops the command (exit 2).
 */
export async function readOrFail<T>(read: () => Promise<T>): Promise<T> {
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
