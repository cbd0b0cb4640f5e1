import { ActionError, ConfigurationError } from '../errors.js';
import { isActionId } from '../action.js';
import { isProvenanceLabel } from '../labels.js';
import type { AuditSink } from '../ports/audit-sink.js';
import type { UsageStore } from '../ports/usage-store.js';
import { createInMemoryAuditSink } from '../runtime/in-memory-audit-sink.js';
import { createInMemoryUsageStore } from '../runtime/in-memory-usage-store.js';
import type { ProvenanceLabel } from '../types.js';
import type { ResolvedAdapterOptions } from './options.js';

/** Options of one wrapped tool. */
export interface WrapToolOptions {
  /** The label of the tool's output; default `EXTERNAL_UNTRUSTED`. Declare trust only for output no outsider can shape. */
  readonly outputLabel?: ProvenanceLabel;
}

/** Options of wrapped tools. */
export interface WrapToolsOptions {
  /** The label of each tool's output, by tool name; default `EXTERNAL_UNTRUSTED`. */
  readonly outputLabels?: Readonly<Record<string, ProvenanceLabel>>;
}

/** What every adapter object offers besides its framework glue: its stores and its conversations. */
export interface AdapterHandle<TThread> {
  readonly tenant: string;
  /** The audit sink every session writes to (the one given, or the adapter's in-memory sink). */
  readonly audit: AuditSink;
  /** The usage store every session counts in (the one given, or the adapter's in-memory store). */
  readonly usage: UsageStore;
  /**
   * The conversation named `lineage` (a thread id, or a user id to share budgets across a user's
   * threads). The same name returns the same thread until it is ended; a thread ended and opened
   * again starts a new session in the same lineage, so lineage-scoped budgets continue.
   * @throws ConfigurationError (`CONFIG_INVALID`) for an empty or non-string name.
   */
  thread(lineage: string): TThread;
  /** Ends every open thread. */
  close(): Promise<void>;
}

const LINEAGE_ID = /^[^\0]{1,256}$/;

/** True for a usable lineage id: a string of 1 to 256 characters without NUL. */
export function isLineageId(lineage: unknown): lineage is string {
  return typeof lineage === 'string' && LINEAGE_ID.test(lineage);
}

/** The conversations of one adapter, by lineage. */
export interface ThreadRegistry<TThread extends { readonly lineage: string }> {
  /**
   * The open thread of `lineage`, created on first use.
   * @throws ConfigurationError (`CONFIG_INVALID`, `details.field` `lineage`) for a malformed lineage.
   */
  get(lineage: string): TThread;
  /** The open thread of `lineage`, if there is one (never creates). */
  find(lineage: string): TThread | undefined;
  /** Forgets `thread` (after it ended), unless another thread took its lineage since. */
  forget(thread: TThread): void;
  /** Every open thread. */
  all(): readonly TThread[];
}

/** Creates an empty {@link ThreadRegistry} that makes a thread with `create`. */
export function createThreadRegistry<TThread extends { readonly lineage: string }>(
  create: (lineage: string) => TThread,
): ThreadRegistry<TThread> {
  const threads = new Map<string, TThread>();
  return {
    get(lineage: string): TThread {
      if (!isLineageId(lineage)) {
        throw new ConfigurationError(
          'thread: the lineage must be a string of 1 to 256 characters without NUL.',
          {
            field: 'lineage',
          },
        );
      }
      let thread = threads.get(lineage);
      if (thread === undefined) {
        thread = create(lineage);
        threads.set(lineage, thread);
      }
      return thread;
    },
    find: (lineage) => threads.get(lineage),
    forget(thread: TThread): void {
      if (threads.get(thread.lineage) === thread) threads.delete(thread.lineage);
    },
    all: () => [...threads.values()],
  };
}

/** What every thread of one adapter shares: the options, the stores, and how to leave the registry. */
export interface AdapterThreadContext<TThread> {
  readonly options: ResolvedAdapterOptions;
  readonly usage: UsageStore;
  readonly audit: AuditSink;
  /**
   * Forgets the thread (after it ended) so the next `thread(lineage)` opens a new one. A method, so a
   * context of a subclass's threads serves its base class (`ConversationThread`).
   */
  forget(thread: TThread): void;
}

/**
 * The adapter object of a thread-per-conversation adapter: the given usage store and audit sink (or
 * one in-memory default of each per adapter), and threads made by `createThread` on first use of a
 * lineage. `close` ends every open thread with the reason `the adapter closed`.
 */
export function createAdapterHandle<
  TThread extends { readonly lineage: string; end(reason?: string): Promise<void> },
>(
  options: ResolvedAdapterOptions,
  createThread: (lineage: string, context: AdapterThreadContext<TThread>) => TThread,
): AdapterHandle<TThread> {
  const audit = options.audit ?? createInMemoryAuditSink();
  const usage = options.usage ?? createInMemoryUsageStore();
  const threads: ThreadRegistry<TThread> = createThreadRegistry((lineage) =>
    createThread(lineage, { options, usage, audit, forget: (thread) => threads.forget(thread) }),
  );
  return Object.freeze({
    tenant: options.tenant,
    audit,
    usage,
    thread: (lineage: string): TThread => threads.get(lineage),
    async close(): Promise<void> {
      await Promise.all(threads.all().map((thread) => thread.end('the adapter closed')));
    },
  });
}

/**
 * Checks a tool an adapter is asked to wrap: its output label (default `EXTERNAL_UNTRUSTED`) and
 * its name, which becomes the APE action id. Returns the output label.
 * @throws ConfigurationError (`CONFIG_INVALID`, `details.field` `tools.<name>.outputLabel`) for a
 *   malformed label; ActionError (`ACTION_INVALID`, `details.field` `tools.<name>`) for a name that
 *   is not an action id (it could never be allowed).
 */
export function checkToolToWrap(name: string, outputLabel: ProvenanceLabel | undefined): ProvenanceLabel {
  const label = outputLabel ?? 'EXTERNAL_UNTRUSTED';
  if (!isProvenanceLabel(label)) {
    throw new ConfigurationError(`tools.${name}: outputLabel must be a provenance label.`, {
      field: `tools.${name}.outputLabel`,
    });
  }
  if (!isActionId(name)) {
    throw new ActionError(
      `tools.${name}: the tool name is not a valid APE action id (letters, digits, _ . : -, at most 128 characters).`,
      { field: `tools.${name}` },
    );
  }
  return label;
}

/**
 * @internal The tools an adapter wrapped, by name: each one's output label, and the names of those
 * declared trusted (a {@link TaintTracker} reads {@link trusted} live).
 */
export class ToolLabels {
  readonly #labels = new Map<string, ProvenanceLabel>();
  readonly #trusted = new Set<string>();

  /** The names of the tools whose output was declared trusted. */
  get trusted(): ReadonlySet<string> {
    return this.#trusted;
  }

  /**
   * Checks a tool to wrap ({@link checkToolToWrap}) and records its output label. Returns the label.
   * @throws as {@link checkToolToWrap}.
   */
  register(name: string, outputLabel: ProvenanceLabel | undefined): ProvenanceLabel {
    const label = checkToolToWrap(name, outputLabel);
    this.#labels.set(name, label);
    if (label === 'EXTERNAL_UNTRUSTED') this.#trusted.delete(name);
    else this.#trusted.add(name);
    return label;
  }

  /** The output label of the tool `name` (`EXTERNAL_UNTRUSTED` for a tool not wrapped). */
  labelOf(name: string): ProvenanceLabel {
    return this.#labels.get(name) ?? 'EXTERNAL_UNTRUSTED';
  }

  /** The names of the wrapped tools, in the order they were first wrapped. */
  names(): IterableIterator<string> {
    return this.#labels.keys();
  }
}
