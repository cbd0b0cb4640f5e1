/** Where the CLI writes: a Node stream such as `process.stdout`, or anything with `write`. */
export interface CliOutput {
  write(text: string): unknown;
  /** True when the output is a terminal; colour is only ever used on a terminal. */
  readonly isTTY?: boolean;
}

/** The process environment the CLI runs in, injectable so hosts and tests can embed it. */
export interface CliIo {
  readonly stdout: CliOutput;
  readonly stderr: CliOutput;
  /** Environment variables (`NO_COLOR`, `APE_DEBUG`, `TERM`). Default: none set. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** The directory relative paths are resolved against. Default: `process.cwd()`. */
  readonly cwd?: string;
}
