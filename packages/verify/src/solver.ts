import { ApeError } from '@ape/core';
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
    throw new ApeError(
      'INTERNAL',
      `cannot start the Z3 solver: ${error instanceof Error ? error.message : String(error)}`,
    );
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
          throw new ApeError(
            'INTERNAL',
            `the Z3 solver rejected the encoding: ${error instanceof Error ? error.message : String(error)}`,
          );
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

/**
 * @internal Runs a whole SMT-LIB 2 script (with its own `check-sat` commands) in a fresh context
 * and returns the solver's output; used to check exported files. One call per context (see
 * {@link openSession} for why calls are never chained on one context).
 */
export async function runSmtScript(script: string): Promise<string> {
  const api = await loadZ3();
  const { Z3 } = api;
  const config = Z3.mk_config();
  const context = Z3.mk_context(config);
  Z3.del_config(config);
  try {
    return await serialised(() => Z3.eval_smtlib2_string(context, script));
  } finally {
    Z3.del_context(context);
  }
}
