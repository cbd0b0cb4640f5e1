import { EXIT_CODES, type ExitCode } from './exit-codes.js';

/**
 * @internal A command stopped with a message for the user. It never leaves `runCli`: the message is
 * printed as one `ape: ...` line on stderr and `exitCode` becomes the process's exit code.
 */
export class CommandFailure extends Error {
  readonly exitCode: ExitCode;

  constructor(message: string, exitCode: ExitCode = EXIT_CODES.CANNOT_RUN) {
    super(message);
    this.name = 'CommandFailure';
    this.exitCode = exitCode;
  }
}
