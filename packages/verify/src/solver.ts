import { InternalError, messageOf } from '@ape/core';
import { type Context, init } from 'z3-solver';
import { readSExpressions, type SExpression } from './smt-text.js';

type Z3Api = Awaited<ReturnType<typeof init>>;

let z3: Promise<Z3Api> | undefined;

type Z3Context = Context<'ape_verify'>;

let context: Promise<Z3Context> | undefined;

/** @internal One high-level context per process (solvers are created and released per query). */
function sharedContext(): Promise<Z3Context> {
  context ??= loadZ3().then((api) => new api.Context('ape_verify'));
  return context;
}

/** z3-solver runs one asynchronous call at a time per process: every call queues here. */
let queue: Promise<unknown> = Promise.resolve();

function serialised<T>(task: () => Promise<T>): Promise<T> {
  const result = queue.then(task, task);
  queue = result.catch(() => undefined);
  return result;
}

/**
 * @internal Z3 is loaded once per process (its WebAssembly build takes about a second to start) and
 * shared by every check; each {@link SmtSession} gets its own context.
 */
function loadZ3(): Promise<Z3Api> {
  z3 ??= init().catch((error: unknown) => {
    z3 = undefined;
    throw new InternalError(`cannot start the Z3 solver: ${messageOf(error)}`);
  });
  return z3;
}

/** @internal The answer to one `check-sat`. */
export type SatAnswer = 'sat' | 'unsat' | 'unknown';

/** @internal A solver context fed SMT-LIB 2 text. Calls must not overlap (each is awaited). */
export interface SmtSession {
  /** `(check-sat)` under `assertion` in a pushed scope; on `sat` the values of `terms`. */
  check(
    assertion: string,
    terms: readonly string[],
  ): Promise<{ answer: SatAnswer; values: ReadonlyMap<string, SExpression> }>;
  /** Frees the context. */
  close(): void;
}

/**
 * @internal Opens a session whose queries each run on a fresh solver loaded with `preamble`.
 *
 * Why not `eval_smtlib2_string` for every query: in z3-solver 5.2.0 that asynchronous call hands the
 * script to a worker thread through a stack-allocated C string that is released as soon as the call
 * is queued, so consecutive calls can read each other's (or garbage) text. Text is therefore only
 * given to the synchronous `Z3_solver_from_string`, and only `check()` (no string argument) runs
 * asynchronously; models are read back as SMT-LIB text.
 */
export async function openSession(preamble: string, timeoutMs = 20_000): Promise<SmtSession> {
  const context = await sharedContext();
  return {
    async check(assertion, terms) {
      const solver = new context.Solver();
      try {
        solver.set('timeout', timeoutMs);
        const probes = terms.map(
          (term, index) =>
            `(declare-const probe${index} ${termSort(term)})\n(assert (= probe${index} ${term}))`,
        );
        try {
          solver.fromString(`${preamble}(assert ${assertion})\n${probes.join('\n')}\n`);
        } catch (error) {
          throw new InternalError(`the Z3 solver rejected the encoding: ${messageOf(error)}`);
        }
        const answer: SatAnswer = await serialised(() => solver.check());
        const values = new Map<string, SExpression>();
        if (answer === 'sat') {
          const definitions = readSExpressions(solver.model().sexpr());
          const byName = new Map<string, SExpression>();
          for (const definition of definitions) {
            if (
              Array.isArray(definition) &&
              definition[0] === 'define-fun' &&
              typeof definition[1] === 'string'
            ) {
              byName.set(definition[1], definition[4] as SExpression);
            }
          }
          terms.forEach((term, index) => {
            const value = byName.get(`probe${index}`);
            if (value !== undefined) values.set(term, value);
          });
        }
        return { answer, values };
      } finally {
        solver.release();
      }
    },
    close() {
      // Solvers are released after each query; the context is shared by the process.
    },
  };
}

/** @internal The sort of a term of the encoding, from its name (see encode.ts). */
function termSort(term: string): string {
  if (term === 'provenance') return 'Provenance';
  if (term === 'action' || term === 'tenant' || term === 'previous' || term.endsWith('_string'))
    return 'String';
  if (term.endsWith('_kind')) return 'Kind';
  if (term.endsWith('_number')) return 'Real';
  if (/used\d+$/.test(term)) return 'Int';
  return 'Bool';
}

/** Splits SMT-LIB text into its top-level commands, verbatim (strings and comments respected). */
function splitCommands(script: string): string[] {
  const commands: string[] = [];
  let depth = 0;
  let start = -1;
  for (let index = 0; index < script.length; index++) {
    const character = script[index]!;
    if (character === ';' && depth >= 0) {
      while (index < script.length && script[index] !== '\n') index += 1;
    } else if (character === '"') {
      index += 1;
      while (index < script.length && !(script[index] === '"' && script[index + 1] !== '"')) {
        index += script[index] === '"' ? 2 : 1;
      }
    } else if (character === '|') {
      index = script.indexOf('|', index + 1);
      if (index === -1) break;
    } else if (character === '(') {
      if (depth === 0) start = index;
      depth += 1;
    } else if (character === ')') {
      depth -= 1;
      if (depth === 0) commands.push(script.slice(start, index + 1));
    }
  }
  return commands;
}

/**
 * Runs an SMT-LIB 2 script with the bundled Z3 and returns what a solver would print: one line per
 * `check-sat` (`sat`, `unsat` or `unknown`), per `echo`, and the model for `get-model`.
 * Declarations, definitions and assertions are parsed by Z3 itself (`Z3_solver_from_string`);
 * `push`/`pop` scopes are kept here, and each `check-sat` runs on a fresh solver (see
 * {@link openSession} for why text is never handed to z3-solver's asynchronous calls).
 *
 * @throws InternalError (`INTERNAL`) when Z3 rejects a command.
 */
export async function runSmtScript(script: string): Promise<string> {
  const context = await sharedContext();
  const scopes: string[][] = [[]];
  const output: string[] = [];
  let lastModel: string | undefined;
  for (const command of splitCommands(script)) {
    const head = /^\(\s*([^\s()]+)/.exec(command)?.[1] ?? '';
    const current = scopes[scopes.length - 1]!;
    switch (head) {
      case 'push': {
        const count = Number(/\d+/.exec(command.slice(5))?.[0] ?? '1');
        for (let index = 0; index < count; index++) scopes.push([]);
        break;
      }
      case 'pop': {
        const count = Number(/\d+/.exec(command.slice(4))?.[0] ?? '1');
        for (let index = 0; index < count && scopes.length > 1; index++) scopes.pop();
        break;
      }
      case 'echo': {
        const [, text] = readSExpressions(command)[0] as readonly SExpression[];
        output.push(
          typeof text === 'object' && text !== null && !Array.isArray(text)
            ? (text as { string: string }).string
            : '',
        );
        break;
      }
      case 'check-sat': {
        const solver = new context.Solver();
        try {
          try {
            solver.fromString(scopes.flat().join('\n'));
          } catch (error) {
            throw new InternalError(`Z3 rejected the script: ${messageOf(error)}`);
          }
          const answer = await serialised(() => solver.check());
          output.push(answer);
          lastModel = answer === 'sat' ? solver.model().sexpr() : undefined;
        } finally {
          solver.release();
        }
        break;
      }
      case 'get-model':
        output.push(lastModel ?? '(error "no model")');
        break;
      case 'set-logic':
      case 'set-option':
      case 'set-info':
      case 'exit':
        break;
      default:
        current.push(command);
    }
  }
  return `${output.join('\n')}\n`;
}
