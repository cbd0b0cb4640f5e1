import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CliIo } from '../io.js';
import { runCli } from '../run-cli.js';

/** What one `runCli` call printed, and its exit code. */
export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Options of {@link run}. */
export interface RunOptions {
  readonly cwd?: string;
  readonly tty?: boolean;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** Runs the CLI in memory, capturing both outputs. */
export async function run(argv: readonly string[], options: RunOptions = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: {
      write: (text: string) => {
        stdout += text;
      },
      isTTY: options.tty ?? false,
    },
    stderr: {
      write: (text: string) => {
        stderr += text;
      },
    },
    env: options.env ?? {},
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
  };
  const code = await runCli(argv, io);
  return { code, stdout, stderr };
}

/** A fresh temporary directory and its removal. */
export function createTempDirectory(): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), 'ape-cli-'));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}
