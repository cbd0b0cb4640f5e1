import {
  type AuditSink,
  ConfigurationError,
  createInMemoryAuditSink,
  createInMemoryUsageStore,
  type UsageStore,
} from '@ape/core';
import { type ApeAiSdkOptions, resolveOptions } from './options.js';
import { ThreadImplementation } from './thread.js';
import type { ApeThread } from './thread-api.js';

/** APE for the Vercel AI SDK. Create with {@link createApeAiSdk}. */
export interface ApeAiSdk {
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
  thread(lineage: string): ApeThread;
  /** Ends every open thread. */
  close(): Promise<void>;
}

const LINEAGE_ID = /^[^\0]{1,256}$/;

/**
 * Puts APE between an AI SDK agent and its tools: wrap the tools of each conversation with
 * `ape.thread(id).tools({...})` and every call the model makes goes through the APE gate in calls
 * mode (intent, policy with the call's provenance, escalation through the SDK's tool approval flow,
 * a single-use token, the audit log). See docs/ai-sdk.md.
 * @throws ConfigurationError (`CONFIG_INVALID`) for malformed options (`details.field`).
 */
export function createApeAiSdk(options: ApeAiSdkOptions): ApeAiSdk {
  const resolved = resolveOptions(options);
  const audit = resolved.audit ?? createInMemoryAuditSink();
  const usage = resolved.usage ?? createInMemoryUsageStore();
  const threads = new Map<string, ThreadImplementation>();
  const context = {
    options: resolved,
    usage,
    audit,
    forget: (thread: ThreadImplementation) => {
      if (threads.get(thread.lineage) === thread) threads.delete(thread.lineage);
    },
  };
  return Object.freeze({
    tenant: resolved.tenant,
    audit,
    usage,
    thread(lineage: string): ApeThread {
      if (typeof lineage !== 'string' || !LINEAGE_ID.test(lineage)) {
        throw new ConfigurationError(
          'thread: the lineage must be a string of 1 to 256 characters without NUL.',
          {
            field: 'lineage',
          },
        );
      }
      let thread = threads.get(lineage);
      if (thread === undefined) {
        thread = new ThreadImplementation(lineage, context);
        threads.set(lineage, thread);
      }
      return thread;
    },
    async close(): Promise<void> {
      await Promise.all([...threads.values()].map((thread) => thread.end('the adapter closed')));
    },
  });
}
