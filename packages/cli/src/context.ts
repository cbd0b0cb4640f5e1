import { isAbsolute, resolve } from 'node:path';
import type { CommonOptions } from './common-options.js';
import { EXIT_CODES, type ExitCode } from './exit-codes.js';
import type { CliIo } from './io.js';
import { createStyle, shouldUseColor, type Style } from './style.js';
import { oneLine } from './text.js';

/** @internal What a command needs from the outside world, and where it reports its exit code. */
export interface CommandContext {
  readonly io: CliIo;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The exit code so far; {@link CommandContext.fail} only ever raises it. */
  readonly exitCode: ExitCode;
  /** Resolves a path given on the command line against the working directory. */
  resolvePath(path: string): string;
  /** Writes one or more lines to stdout. */
  print(...lines: readonly string[]): void;
  /** Writes a value as indented JSON to stdout. */
  printJson(value: unknown): void;
  /** Writes one `ape: <message>` line to stderr. */
  printError(message: string): void;
  /** The colour style for a command's human output. */
  style(options: CommonOptions): Style;
  /** Raises the exit code to at least `code`. */
  fail(code: ExitCode): void;
  /** Turns colour off for the rest of the run (`--no-color`). */
  disableColor(): void;
}

/** @internal Creates the context of one `runCli` call. */
export function createCommandContext(io: CliIo): CommandContext {
  const cwd = io.cwd ?? process.cwd();
  let exitCode: ExitCode = EXIT_CODES.OK;
  let colorFlag = true;
  return {
    io,
    cwd,
    env: io.env ?? {},
    get exitCode() {
      return exitCode;
    },
    resolvePath: (path) => (isAbsolute(path) ? path : resolve(cwd, path)),
    print: (...lines) => {
      io.stdout.write(lines.map((line) => `${line}\n`).join(''));
    },
    printJson: (value) => {
      io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    },
    printError: (message) => {
      io.stderr.write(`ape: ${oneLine(message)}\n`);
    },
    style: (options) => createStyle(options.json !== true && shouldUseColor(io, colorFlag)),
    fail: (code) => {
      if (code > exitCode) exitCode = code;
    },
    disableColor: () => {
      colorFlag = false;
    },
  };
}
