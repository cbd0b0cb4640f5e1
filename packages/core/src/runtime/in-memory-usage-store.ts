import { randomUUID } from 'node:crypto';
import type {
  UsageAcquireRequest,
  UsageAcquireResult,
  UsageBeginRequest,
  UsageBeginResult,
  UsageCounter,
  UsagePreviousWrite,
  UsageReservation,
  UsageStore,
  UsageUndoRequest,
} from '../ports/usage-store.js';

/** Options of {@link createInMemoryUsageStore}. */
export interface InMemoryUsageStoreOptions {
  /**
   * How many unreleased reservations the store remembers (default 100,000). Older ones are
   * forgotten first; releasing a forgotten reservation changes nothing, so its uses stay counted
   * (the safe side: a store may count too much, never too little).
   */
  readonly maxReservations?: number;
  /**
   * How many previous-action writes of `begin` (and voided versions) the store remembers for
   * `undo` (default 100,000), across all keys. Older ones are forgotten first; undoing a forgotten
   * write that is still current removes the previous action.
   */
  readonly maxWrites?: number;
}

/** The default {@link InMemoryUsageStoreOptions.maxReservations}. */
export const DEFAULT_MAX_USAGE_RESERVATIONS = 100_000;

/** The default {@link InMemoryUsageStoreOptions.maxWrites}. */
export const DEFAULT_MAX_USAGE_WRITES = 100_000;

interface HeldUse {
  readonly key: string;
  readonly windowed: boolean;
}

interface Held {
  readonly uses: readonly HeldUse[];
  readonly at: number;
}

interface PreviousEntry {
  readonly action: string;
  /** The version of a write made by `begin` (an undo compares it); `undefined` otherwise. */
  readonly version: string | undefined;
}

/** What the store remembers of one write of `begin`, so an undo restores only what ran. */
interface WriteRecord {
  /** The nearest predecessor not voided (updated when that one is undone); `undefined`: nothing. */
  replaced: PreviousEntry | undefined;
  /** The version of the write that replaced this one while it was current. */
  next: string | undefined;
  voided: boolean;
}

/** The record id of a write: unambiguous for any key and version. */
function recordId(key: string, version: string): string {
  return `${version.length}:${version}${key}`;
}

/**
 * The in-memory {@link UsageStore} of one process: the runtime's default. Atomic because it is
 * synchronous (no call ever waits between the check and the increment). A counter with `windowMs`
 * keeps the times of its uses and forgets each once `now - usedAt >= windowMs` (sliding window,
 * pruned on every access, so memory is bounded by the uses in the window); a counter without a
 * window is one number. Share one instance between the runtimes of a lineage in one process; use
 * `@ape/redis` across processes. `begin` and `undo` are one synchronous step each, so a gated call
 * touches the store once (twice when it is refused); each write of `begin` is remembered (up to
 * `maxWrites`) with what it replaced, so an undo restores only an action that was not undone.
 * @throws RangeError from `acquire`/`begin`/`usage` for a malformed request (the runtime denies the call).
 */
export function createInMemoryUsageStore(options: InMemoryUsageStoreOptions = {}): UsageStore {
  const maxReservations = options.maxReservations ?? DEFAULT_MAX_USAGE_RESERVATIONS;
  if (!Number.isSafeInteger(maxReservations) || maxReservations < 0) {
    throw new RangeError('createInMemoryUsageStore: maxReservations must be a non-negative integer.');
  }
  const maxWrites = options.maxWrites ?? DEFAULT_MAX_USAGE_WRITES;
  if (!Number.isSafeInteger(maxWrites) || maxWrites < 0) {
    throw new RangeError('createInMemoryUsageStore: maxWrites must be a non-negative integer.');
  }
  const counts = new Map<string, number>();
  const windows = new Map<string, number[]>();
  const previous = new Map<string, PreviousEntry>();
  const held = new Map<string, Held>();
  const records = new Map<string, WriteRecord>();
  let writes = 0;

  const remember = (id: string, record: WriteRecord): void => {
    if (maxWrites === 0) return;
    if (records.size >= maxWrites) {
      const oldest = records.keys().next();
      if (oldest.done !== true) records.delete(oldest.value);
    }
    records.set(id, record);
  };

  /** Voids one write: restores its predecessor when it is current, else splices it out of the chain. */
  const voidWrite = (key: string, version: string): void => {
    const id = recordId(key, version);
    const record = records.get(id);
    const current = previous.get(key);
    if (record === undefined) {
      remember(id, { replaced: undefined, next: undefined, voided: true });
      if (current?.version === version) previous.delete(key);
      return;
    }
    if (record.voided) return;
    record.voided = true;
    const before = record.replaced?.version;
    const predecessor = before === undefined ? undefined : records.get(recordId(key, before));
    if (current?.version === version) {
      if (record.replaced === undefined) previous.delete(key);
      else previous.set(key, record.replaced);
      if (predecessor?.next === version) predecessor.next = undefined;
      return;
    }
    if (record.next === undefined) return;
    const successor = records.get(recordId(key, record.next));
    if (successor !== undefined && !successor.voided) successor.replaced = record.replaced;
    if (predecessor?.next === version) predecessor.next = record.next;
  };

  /** Uses of `counter` in its window at `now`; prunes the expired ones. */
  const used = (counter: UsageCounter, now: number): number => {
    if (counter.windowMs === undefined) return counts.get(counter.key) ?? 0;
    const times = windows.get(counter.key);
    if (times === undefined) return 0;
    const windowMs = counter.windowMs;
    const live = times.filter((time) => now - time < windowMs);
    if (live.length === 0) windows.delete(counter.key);
    else if (live.length !== times.length) windows.set(counter.key, live);
    // A use recorded "in the future" (another runtime's clock ran ahead) still counts.
    return live.length;
  };

  /** Acquires every counter or none; the request is already checked. */
  const acquire = (counters: readonly UsageCounter[], now: number): UsageAcquireResult => {
    const pending = new Map<string, number>();
    for (const counter of counters) {
      const extra = pending.get(counter.key) ?? 0;
      const inWindow = used(counter, now) + extra;
      if (!(inWindow < counter.max)) return { ok: false, key: counter.key, used: inWindow, max: counter.max };
      pending.set(counter.key, extra + 1);
    }
    const uses: HeldUse[] = [];
    for (const counter of counters) {
      if (counter.windowMs === undefined) {
        counts.set(counter.key, (counts.get(counter.key) ?? 0) + 1);
      } else {
        const times = windows.get(counter.key);
        if (times === undefined) windows.set(counter.key, [now]);
        else times.push(now);
      }
      uses.push({ key: counter.key, windowed: counter.windowMs !== undefined });
    }
    const id = randomUUID();
    // A reservation without uses has nothing to release: not remembering it keeps a store whose
    // calls count nothing (a policy without limits) from filling up with empty entries.
    if (maxReservations > 0 && uses.length > 0) {
      if (held.size >= maxReservations) {
        const oldest = held.keys().next();
        if (oldest.done !== true) held.delete(oldest.value);
      }
      held.set(id, { uses, at: now });
    }
    const reservation: UsageReservation = Object.freeze({
      id,
      keys: Object.freeze(counters.map((counter) => counter.key)),
      at: now,
    });
    return { ok: true, reservation };
  };

  const release = (reservation: UsageReservation | undefined): void => {
    const id = reservation?.id;
    if (typeof id !== 'string') return;
    const entry = held.get(id);
    if (entry === undefined) return;
    held.delete(id);
    for (const use of entry.uses) {
      if (!use.windowed) {
        const count = (counts.get(use.key) ?? 0) - 1;
        if (count > 0) counts.set(use.key, count);
        else counts.delete(use.key);
        continue;
      }
      const times = windows.get(use.key);
      const index = times?.lastIndexOf(entry.at) ?? -1;
      if (times === undefined || index < 0) continue;
      times.splice(index, 1);
      if (times.length === 0) windows.delete(use.key);
    }
  };

  const store: UsageStore = {
    acquire(request: UsageAcquireRequest): UsageAcquireResult {
      return acquire(checkCounters(request?.counters), checkNow(request?.now));
    },

    release,

    usage(counters: readonly UsageCounter[], now: number): readonly number[] {
      const at = checkNow(now);
      return Object.freeze(checkCounters(counters).map((counter) => used(counter, at)));
    },

    previousAction(key: string): string | undefined {
      return previous.get(key)?.action;
    },

    setPreviousAction(keys: readonly string[], action: string): void {
      if (!Array.isArray(keys) || typeof action !== 'string') {
        throw new RangeError('setPreviousAction takes an array of keys and an action id.');
      }
      for (const key of keys) previous.set(String(key), { action, version: undefined });
    },

    begin(request: UsageBeginRequest): UsageBeginResult {
      const now = checkNow(request?.now);
      const counters = checkCounters(request?.counters);
      const key = request.previousKey;
      const action = request.action;
      const asked = request.version;
      if (
        typeof key !== 'string' ||
        (action !== undefined && typeof action !== 'string') ||
        (asked !== undefined && (typeof asked !== 'string' || asked === ''))
      ) {
        throw new RangeError(
          'UsageStore.begin: `previousKey` must be a string, `action` a string or absent and `version` a non-empty string or absent.',
        );
      }
      const current = previous.get(key);
      const replaced = current?.action;
      if (action !== undefined && asked !== undefined) {
        const known = records.get(recordId(key, asked));
        if (known !== undefined && !known.voided) {
          throw new RangeError(`UsageStore.begin: version "${asked}" was already written under this key.`);
        }
      }
      const result = acquire(counters, now);
      if (!result.ok || action === undefined) return { previous: replaced, result };
      writes += 1;
      const version = asked ?? `in-memory:${writes}`;
      const written: UsagePreviousWrite = Object.freeze({ key, replaced, version });
      const id = recordId(key, version);
      // A version undone before its begin (the caller gave up waiting) is void: nothing is written.
      if (records.get(id)?.voided === true) return { previous: replaced, result, written };
      remember(id, { replaced: current, next: undefined, voided: false });
      const prior = current?.version === undefined ? undefined : records.get(recordId(key, current.version));
      if (prior !== undefined && !prior.voided) prior.next = version;
      previous.set(key, { action, version });
      return { previous: replaced, result, written };
    },

    undo(request: UsageUndoRequest): void {
      release(request?.reservation);
      const written = request?.written;
      if (typeof written?.key !== 'string' || typeof written.version !== 'string') return;
      voidWrite(written.key, written.version);
    },
  };
  // In process there is no round trip to save: the gate makes the separate calls, which keep no
  // write records (begin and undo serve hosts and the contract's model). Not enumerable, so a
  // wrapper made by spreading this store is treated as a shared store.
  Object.defineProperty(store, 'inProcess', { value: true, enumerable: false });
  return Object.freeze(store);
}

function checkNow(now: unknown): number {
  if (typeof now !== 'number' || !Number.isFinite(now)) {
    throw new RangeError('UsageStore: `now` must be a finite number of milliseconds.');
  }
  return now;
}

function checkCounters(counters: unknown): readonly UsageCounter[] {
  if (!Array.isArray(counters)) throw new RangeError('UsageStore: `counters` must be an array.');
  for (const counter of counters as unknown[]) {
    const candidate = counter as Partial<UsageCounter> | null;
    if (
      typeof candidate?.key !== 'string' ||
      !Number.isSafeInteger(candidate.max) ||
      (candidate.max as number) < 0 ||
      (candidate.windowMs !== undefined &&
        (typeof candidate.windowMs !== 'number' ||
          !Number.isFinite(candidate.windowMs) ||
          candidate.windowMs <= 0))
    ) {
      throw new RangeError(
        'UsageStore: each counter needs a string `key`, an integer `max` >= 0 and an optional positive `windowMs`.',
      );
    }
  }
  return counters as readonly UsageCounter[];
}
