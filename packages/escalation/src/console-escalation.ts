import { userInfo } from 'node:os';
import { createInterface } from 'node:readline';
import type { EscalationHandler, EscalationRequest, EscalationResult } from '@ape/core';
import {
  abortedDenial,
  awaitAnswer,
  checkApprover,
  checkTimeout,
  createResult,
  handlerDenial,
} from './answers.js';
import { displayText, formatRequest } from './display.js';

/** The terminal a {@link ConsoleEscalation} reads answers from. */
export type ConsoleInput = NodeJS.ReadableStream & {
  readonly isTTY?: boolean;
  readonly readableEnded?: boolean;
};

/** Options of {@link ConsoleEscalation}. */
export interface ConsoleEscalationOptions {
  /** Where answers are read; default `process.stdin`. Must be a TTY (`isTTY === true`). */
  readonly input?: ConsoleInput;
  /** Where the prompt is written; default `process.stderr` (stdout stays free for the agent's output). */
  readonly output?: NodeJS.WritableStream;
  /**
   * How long to wait for an answer, in milliseconds (whole, 1 .. 2147483647), counted from the
   * request, including time spent waiting behind another prompt; default 300000 (five minutes).
   */
  readonly timeoutMs?: number;
  /** The approver recorded for an answer; default the operating-system user name. */
  readonly approver?: string;
}

const HANDLER = 'ConsoleEscalation';
const YES = new Set(['y', 'yes']);

function defaultApprover(): string {
  try {
    const name = userInfo().username;
    return name.trim() === '' ? 'console-user' : name;
  } catch {
    return 'console-user';
  }
}

function ignore(): void {}

/**
 * Asks a person at an interactive terminal. The prompt shows tenant, session, step, action, a
 * summary of the arguments (names and cut values), provenance, rule ids and reason, with every
 * control character, ANSI escape, line break and bidirectional override in them shown as a visible
 * escape (`\x1b`, `\n`, `\u202e`), so text injected into the arguments cannot fake the prompt.
 *
 * Answers are `y`/`yes` (any case) to approve, recorded as the configured approver with provenance
 * `USER_TRUSTED`; anything else, an empty line included, denies (default no). End of input denies;
 * so do a timeout (approver `"timeout"`) and an abort of the runtime's signal (approver
 * `"aborted"`). When `input.isTTY` is not `true` (a pipe, a file, a CI job) every request is denied
 * at once with reason "not a terminal": an answer piped in is not a person's decision. Concurrent
 * requests are asked one after the other. `requestApproval` always resolves, never rejects.
 */
export class ConsoleEscalation implements EscalationHandler {
  readonly #input: ConsoleInput;
  readonly #output: NodeJS.WritableStream;
  readonly #timeoutMs: number;
  readonly #approver: string;
  #turn: Promise<unknown> = Promise.resolve();

  /** @throws ArgumentsError (`ARGS_INVALID`) when `timeoutMs` or `approver` is malformed. */
  constructor(options: ConsoleEscalationOptions = {}) {
    this.#input = options.input ?? process.stdin;
    this.#output = options.output ?? process.stderr;
    this.#timeoutMs = checkTimeout(HANDLER, options.timeoutMs ?? 300_000);
    this.#approver = checkApprover(HANDLER, 'approver', options.approver ?? defaultApprover());
  }

  /** Prompts at the terminal and resolves to the person's answer, or to a denial (see the class). */
  requestApproval(request: EscalationRequest, signal: AbortSignal): Promise<EscalationResult> {
    if (this.#input.isTTY !== true) {
      return Promise.resolve(
        handlerDenial(HANDLER, 'not a terminal: the input is not an interactive TTY, so nobody can approve'),
      );
    }
    return awaitAnswer(HANDLER, this.#timeoutMs, signal, (inner) => {
      const asked = this.#turn.then(() =>
        inner.aborted ? abortedDenial(HANDLER) : this.#ask(request, inner),
      );
      this.#turn = asked.then(ignore, ignore);
      return asked;
    });
  }

  #ask(request: EscalationRequest, signal: AbortSignal): Promise<EscalationResult> {
    const input = this.#input;
    const output = this.#output;
    if (input.readableEnded === true) {
      return Promise.resolve(handlerDenial(HANDLER, 'the terminal input has ended, so nobody can answer'));
    }
    return new Promise<EscalationResult>((resolve) => {
      output.write(formatRequest(request));
      output.write(`Approve this call as ${displayText(this.#approver, 80)}? [y/N] `);
      const lines = createInterface({ input, terminal: false });
      let done = false;
      const finish = (result: EscalationResult): void => {
        if (done) return;
        done = true;
        signal.removeEventListener('abort', onAbort);
        lines.close();
        output.write(result.approved ? '-> approved\n' : `\n-> denied: ${result.reason ?? 'no reason'}\n`);
        resolve(result);
      };
      const onAbort = (): void =>
        finish(
          handlerDenial(HANDLER, 'the wait ended (timeout, or the runtime stopped waiting) before an answer'),
        );
      lines.once('line', (line: string) => {
        const answer = line.trim().toLowerCase();
        if (YES.has(answer)) {
          finish(createResult(true, this.#approver, 'USER_TRUSTED', 'approved at the terminal'));
        } else if (answer === '') {
          finish(
            createResult(
              false,
              this.#approver,
              'USER_TRUSTED',
              'no answer given at the terminal (default: no)',
            ),
          );
        } else {
          finish(
            createResult(
              false,
              this.#approver,
              'USER_TRUSTED',
              `answered "${displayText(answer, 20)}" at the terminal; only y or yes approves`,
            ),
          );
        }
      });
      lines.once('close', () => finish(handlerDenial(HANDLER, 'the terminal input ended without an answer')));
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}
