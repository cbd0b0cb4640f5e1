import { randomUUID } from 'node:crypto';
import { deepFreeze } from '../deep-freeze.js';
import { RuntimeStateError } from '../errors.js';
import type {
  ApprovalAnswer,
  ApprovalListFilter,
  ApprovalPublication,
  ApprovalQueue,
  ApprovalRecord,
  ApprovalSettleResult,
  ApprovalSettlement,
  PendingApproval,
} from '../ports/approval-queue.js';
import type { Clock } from '../ports/clock.js';
import { systemClock } from '../ports/clock.js';
import {
  answeredSettlement,
  checkApprovalAnswer,
  checkApprovalPublication,
  checkCancelReason,
  findApprovalBindingMismatch,
} from './approval-rules.js';

/** Options of {@link createInMemoryApprovalQueue}. */
export interface InMemoryApprovalQueueOptions {
  /** The clock for `createdAt`, timeouts and `settledAt`; default the system clock. */
  readonly clock?: Clock;
  /** How long a settled request stays readable through `get`, in ms; default 600000 (10 minutes). */
  readonly retentionMs?: number;
}

interface Entry {
  readonly request: PendingApproval;
  settlement: ApprovalSettlement | undefined;
  readonly waiters: Set<(settlement: ApprovalSettlement) => void>;
  timer: ReturnType<typeof setTimeout> | undefined;
}

const WHERE = 'InMemoryApprovalQueue';

/**
 * The {@link ApprovalQueue} for one process: requests live in a map, a timer settles each as
 * `timeout` at its `expiresAt` (measured on `clock` when it is published), settled requests are
 * forgotten after `retentionMs`. Every settlement happens synchronously inside one call, so the
 * first of an answer, a timeout and a cancellation wins and the others see `settled`.
 */
export function createInMemoryApprovalQueue(options: InMemoryApprovalQueueOptions = {}): ApprovalQueue {
  const clock = options.clock ?? systemClock;
  const retentionMs = options.retentionMs ?? 600_000;
  const entries = new Map<string, Entry>();

  function settle(entry: Entry, settlement: ApprovalSettlement): void {
    entry.settlement = settlement;
    if (entry.timer !== undefined) clearTimeout(entry.timer);
    entry.timer = setTimeout(() => entries.delete(settlement.id), retentionMs);
    entry.timer.unref?.();
    for (const waiter of entry.waiters) waiter(settlement);
    entry.waiters.clear();
  }

  function settleOnce(id: string, make: (entry: Entry) => ApprovalSettleResult): ApprovalSettleResult {
    const entry = entries.get(id);
    if (entry === undefined) return Object.freeze({ ok: false, reason: 'unknown' });
    if (entry.settlement !== undefined) {
      return Object.freeze({ ok: false, reason: 'settled', settlement: entry.settlement });
    }
    const result = make(entry);
    if (result.ok) settle(entry, result.settlement);
    return result;
  }

  return {
    async publish(publication: ApprovalPublication): Promise<string> {
      const checked = checkApprovalPublication(`${WHERE}.publish`, publication);
      const id = randomUUID();
      const request: PendingApproval = deepFreeze({ ...checked, id, createdAt: clock.now() });
      const entry: Entry = { request, settlement: undefined, waiters: new Set(), timer: undefined };
      entries.set(id, entry);
      entry.timer = setTimeout(
        () => {
          if (entry.settlement === undefined)
            settle(entry, Object.freeze({ state: 'timeout', id, settledAt: clock.now() }));
        },
        Math.max(0, request.expiresAt - request.createdAt),
      );
      entry.timer.unref?.();
      return id;
    },

    async get(id: string): Promise<ApprovalRecord | undefined> {
      const entry = entries.get(id);
      if (entry === undefined) return undefined;
      return Object.freeze(
        entry.settlement === undefined
          ? { request: entry.request }
          : { request: entry.request, settlement: entry.settlement },
      );
    },

    async list(filter: ApprovalListFilter = {}): Promise<readonly PendingApproval[]> {
      const pending: PendingApproval[] = [];
      for (const entry of entries.values()) {
        if (entry.settlement !== undefined) continue;
        if (filter.tenant !== undefined && entry.request.tenant !== filter.tenant) continue;
        pending.push(entry.request);
      }
      return pending;
    },

    async answer(id: string, answer: ApprovalAnswer): Promise<ApprovalSettleResult> {
      const checked = checkApprovalAnswer(`${WHERE}.answer`, answer);
      return settleOnce(id, (entry) => {
        const field = findApprovalBindingMismatch(entry.request, checked.binding);
        if (field !== undefined) return Object.freeze({ ok: false, reason: 'binding_mismatch', field });
        return Object.freeze({ ok: true, settlement: answeredSettlement(id, checked, clock.now()) });
      });
    },

    async cancel(id: string, reason: string): Promise<ApprovalSettleResult> {
      const checked = checkCancelReason(`${WHERE}.cancel`, reason);
      return settleOnce(id, () =>
        Object.freeze({
          ok: true,
          settlement: Object.freeze({ state: 'cancelled', id, reason: checked, settledAt: clock.now() }),
        }),
      );
    },

    wait(id: string, signal: AbortSignal): Promise<ApprovalSettlement> {
      const entry = entries.get(id);
      if (entry === undefined) {
        return Promise.reject(
          new RuntimeStateError(
            `${WHERE}.wait: no request "${id}" (never published, or forgotten after its retention); publish before waiting.`,
            { id },
          ),
        );
      }
      if (entry.settlement !== undefined) return Promise.resolve(entry.settlement);
      return new Promise<ApprovalSettlement>((resolve) => {
        const onAbort = (): void => {
          if (entry.settlement === undefined) {
            settle(
              entry,
              Object.freeze({
                state: 'cancelled',
                id,
                reason: 'the waiting process stopped waiting',
                settledAt: clock.now(),
              }),
            );
          }
        };
        entry.waiters.add((settlement) => {
          signal.removeEventListener('abort', onAbort);
          resolve(settlement);
        });
        if (signal.aborted) onAbort();
        else signal.addEventListener('abort', onAbort, { once: true });
      });
    },
  };
}
