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
} from '@ape/core';
import { ArgumentsError, StoreUnavailableError } from '@ape/core';
import type { RedisConnection } from './connection.js';
import { LuaScript } from './connection.js';
import { checkMilliseconds, checkPrefix } from './keys.js';

/** Options of {@link RedisUsageStore}. */
export interface RedisUsageStoreOptions {
  /** The connection (shared with the other stores of the process). */
  readonly connection: RedisConnection;
  /** Prepended to every key; default `ape:`. Give each deployment sharing one Redis its own. */
  readonly prefix?: string;
  /**
   * How long a previous action is remembered after it was written, in milliseconds; default
   * 604800000 (7 days).
   */
  readonly previousActionTtlMs?: number;
  /**
   * How long a reservation can still be released, in milliseconds; default 86400000 (1 day). A
   * release after that changes nothing (the uses stay counted: the safe direction).
   */
  readonly reservationTtlMs?: number;
}

const STORE = 'RedisUsageStore';
/**
 * How many writes of `begin` per previous-action key keep a record for `undo` (the newest ones).
 * An undo comes within one decision of its begin, so older records are never needed in practice.
 */
const WRITE_HISTORY = '1000';
const MAX_TTL_MS = 365 * 24 * 60 * 60 * 1_000;

// Acquires one use of each of `n` counters, KEYS[keyBase + i] with its max and window (0: none) at
// ARGV[argBase + 2i] and ARGV[argBase + 2i + 1], or none: windowed counters are sorted sets of (use
// time, reservation id), trimmed to the window before counting; windowless counters are plain
// integers. Returns nothing when every counter had room and recorded one use, else the index of the
// first full counter and its use count. Shared by ACQUIRE and BEGIN.
const ACQUIRE_USES = `
local function acquireUses(keyBase, argBase, n, now, id)
  for i = 1, n do
    local max = tonumber(ARGV[argBase + i * 2])
    local window = tonumber(ARGV[argBase + 1 + i * 2])
    local used
    if window > 0 then
      redis.call('ZREMRANGEBYSCORE', KEYS[keyBase + i], '-inf', now - window)
      used = redis.call('ZCARD', KEYS[keyBase + i])
    else
      used = tonumber(redis.call('GET', KEYS[keyBase + i]) or '0')
    end
    if used >= max then return i, used end
  end
  for i = 1, n do
    local window = tonumber(ARGV[argBase + 1 + i * 2])
    if window > 0 then
      redis.call('ZADD', KEYS[keyBase + i], now, id)
      redis.call('PEXPIRE', KEYS[keyBase + i], window)
    else
      redis.call('INCR', KEYS[keyBase + i])
    end
  end
  return nil
end
`;

// KEYS: the counters, then the reservation marker. ARGV: now, reservation id, marker TTL, then
// max and window (0: none) per counter. Either every counter has room and records one use, or
// nothing is written (see ACQUIRE_USES).
const ACQUIRE = new LuaScript(`
${ACQUIRE_USES}
local n = #KEYS - 1
local full, used = acquireUses(0, 2, n, tonumber(ARGV[1]), ARGV[2])
if full then return {0, full, used} end
redis.call('SET', KEYS[n + 1], '1', 'PX', ARGV[3])
return {1}
`);

// Gives back one use of each counter in KEYS[first..last]: the reservation's entry of a windowed
// counter (a sorted set), one count of a plain one. Shared by RELEASE and UNDO.
const RELEASE_USES = `
local function releaseUses(first, last, id)
  for i = first, last do
    local kind = redis.call('TYPE', KEYS[i])['ok']
    if kind == 'zset' then
      redis.call('ZREM', KEYS[i], id)
    elseif kind == 'string' and tonumber(redis.call('GET', KEYS[i])) > 0 then
      redis.call('DECR', KEYS[i])
    end
  end
end
`;

// KEYS: the counters, then the marker. ARGV: reservation id. Only the first release finds the marker.
const RELEASE = new LuaScript(`
${RELEASE_USES}
if redis.call('DEL', KEYS[#KEYS]) == 0 then return 0 end
releaseUses(1, #KEYS - 1, ARGV[1])
return 1
`);

// KEYS: the counters. ARGV: now, then the window per counter (0: none).
const USAGE = new LuaScript(`
local now = tonumber(ARGV[1])
local result = {}
for i = 1, #KEYS do
  local window = tonumber(ARGV[1 + i])
  if window > 0 then
    result[i] = redis.call('ZCOUNT', KEYS[i], '(' .. (now - window), '+inf')
  else
    result[i] = tonumber(redis.call('GET', KEYS[i]) or '0')
  end
end
return result
`);

// KEYS: where the action goes, then as many version keys. ARGV: action, TTL. A plain write drops
// the version of a write made by BEGIN, so an undo of that older write no longer matches.
const SET_PREVIOUS = new LuaScript(`
local n = #KEYS / 2
for i = 1, n do
  redis.call('SET', KEYS[i], ARGV[1], 'PX', ARGV[2])
  redis.call('DEL', KEYS[n + i])
end
return n
`);

// Each write of BEGIN keeps a record in a hash per previous-action key (field: its version;
// value: JSON {a: the action it replaced, p: that action's version, n: the write that replaced it
// while current, x: 1 once voided}) and its version in a list, trimmed to the newest `history`
// versions, so a record of a write that can no longer be undone is forgotten.
const TRIM = `
local function remember(version)
  redis.call('RPUSH', KEYS[4], version)
  if redis.call('LLEN', KEYS[4]) > tonumber(history) then
    redis.call('HDEL', KEYS[3], redis.call('LPOP', KEYS[4]))
  end
  redis.call('PEXPIRE', KEYS[3], ttl)
  redis.call('PEXPIRE', KEYS[4], ttl)
end
`;

// One gated call in one round trip. KEYS: the previous action, its version, the write records, their
// order, the counters, then the reservation marker (only with counters). ARGV: now, reservation id,
// marker TTL, action ('': write nothing), version, previous-action TTL, history, then max and window
// (0: none) per counter. Reads the previous action, acquires every counter or none (as ACQUIRE), and
// only on success writes the action with its version and its record (linked to the write it
// replaced), unless the version was already voided by an undo that arrived first. Replies
// {1, previous} or {0, index, used, previous}; previous is nil when there is none.
const BEGIN = new LuaScript(`
${ACQUIRE_USES}
local ttl = ARGV[6]
local history = ARGV[7]
${TRIM}
local previous = redis.call('GET', KEYS[1])
local n = (#ARGV - 7) / 2
local full, used = acquireUses(4, 6, n, tonumber(ARGV[1]), ARGV[2])
if full then return {0, full, used, previous} end
if n > 0 then redis.call('SET', KEYS[n + 5], '1', 'PX', ARGV[3]) end
local version = ARGV[5]
if ARGV[4] ~= '' and not redis.call('HGET', KEYS[3], version) then
  local current = redis.call('GET', KEYS[2])
  local record = {a = previous or nil, p = current or nil}
  if current then
    local raw = redis.call('HGET', KEYS[3], current)
    if raw then
      local prior = cjson.decode(raw)
      if not prior.x then
        prior.n = version
        redis.call('HSET', KEYS[3], current, cjson.encode(prior))
      end
    end
  end
  redis.call('HSET', KEYS[3], version, cjson.encode(record))
  remember(version)
  redis.call('SET', KEYS[1], ARGV[4], 'PX', ttl)
  redis.call('SET', KEYS[2], version, 'PX', ttl)
end
return {1, previous}
`);

// Takes back one call's BEGIN. KEYS: the previous action, its version, the write records and their
// order (when ARGV[1] is '4'), then the counters and the reservation marker (when a reservation is
// given). ARGV: the number of write keys ('0' or '4'), version, previous-action TTL, history,
// reservation id. Voids the write once: when it is current, its record's predecessor (never a voided
// write) comes back; otherwise it is spliced out of the chain (the write that replaced it now
// replaced its predecessor), so no later undo restores it. A version without a record is voided
// ahead of its BEGIN. The counters are released only on the first undo (the marker).
const UNDO = new LuaScript(`
${RELEASE_USES}
local w = tonumber(ARGV[1])
local ttl = ARGV[3]
local history = ARGV[4]
${TRIM}
if w == 4 then
  local version = ARGV[2]
  local current = redis.call('GET', KEYS[2])
  local raw = redis.call('HGET', KEYS[3], version)
  if not raw then
    redis.call('HSET', KEYS[3], version, '{"x":1}')
    remember(version)
    if current == version then redis.call('DEL', KEYS[1], KEYS[2]) end
  else
    local record = cjson.decode(raw)
    if not record.x then
      redis.call('HSET', KEYS[3], version, '{"x":1}')
      local prior
      if record.p then
        local priorRaw = redis.call('HGET', KEYS[3], record.p)
        if priorRaw then prior = cjson.decode(priorRaw) end
      end
      if current == version then
        if record.a then redis.call('SET', KEYS[1], record.a, 'PX', ttl) else redis.call('DEL', KEYS[1]) end
        if record.p then redis.call('SET', KEYS[2], record.p, 'PX', ttl) else redis.call('DEL', KEYS[2]) end
        if prior and prior.n == version then
          prior.n = nil
          redis.call('HSET', KEYS[3], record.p, cjson.encode(prior))
        end
      elseif record.n then
        local nextRaw = redis.call('HGET', KEYS[3], record.n)
        if nextRaw then
          local following = cjson.decode(nextRaw)
          if not following.x then
            following.a = record.a
            following.p = record.p
            redis.call('HSET', KEYS[3], record.n, cjson.encode(following))
          end
        end
        if prior and prior.n == version then
          prior.n = record.n
          redis.call('HSET', KEYS[3], record.p, cjson.encode(prior))
        end
      end
    end
  end
end
if #KEYS > w and redis.call('DEL', KEYS[#KEYS]) == 1 then releaseUses(w + 1, #KEYS - 1, ARGV[5]) end
return 1
`);

function invalidCounter(operation: string, field: string, expected: string): ArgumentsError {
  return new ArgumentsError(`${STORE}.${operation}: "${field}" must be ${expected}.`, { field });
}

function checkCounters(operation: string, counters: unknown): readonly UsageCounter[] {
  if (!Array.isArray(counters)) throw invalidCounter(operation, 'counters', 'an array');
  for (let index = 0; index < counters.length; index++) {
    const counter = counters[index] as UsageCounter | undefined;
    if (typeof counter?.key !== 'string' || counter.key === '') {
      throw invalidCounter(operation, `counters[${index}].key`, 'a non-empty string');
    }
    if (!Number.isSafeInteger(counter.max) || counter.max < 0) {
      throw invalidCounter(operation, `counters[${index}].max`, 'a whole number of at least 0');
    }
    if (counter.windowMs !== undefined && (!Number.isSafeInteger(counter.windowMs) || counter.windowMs < 1)) {
      throw invalidCounter(operation, `counters[${index}].windowMs`, 'a whole number of at least 1');
    }
  }
  return counters as readonly UsageCounter[];
}

function checkNow(operation: string, now: unknown): number {
  if (typeof now !== 'number' || !Number.isSafeInteger(now) || now < 0) {
    throw new ArgumentsError(`${STORE}.${operation}: "now" must be whole milliseconds since the epoch.`, {
      field: 'now',
    });
  }
  return now;
}

function malformed(operation: string, reply: unknown): StoreUnavailableError {
  return new StoreUnavailableError(
    `${STORE}.${operation}: Redis answered a malformed reply (${typeof reply}); the guarded call is denied. Check that nothing else writes under this key prefix.`,
    { store: STORE, operation },
  );
}

function checkReservation(operation: string, reservation: unknown): UsageReservation {
  const candidate = reservation as Partial<UsageReservation> | null | undefined;
  if (
    typeof candidate?.id !== 'string' ||
    !Array.isArray(candidate.keys) ||
    candidate.keys.some((key) => typeof key !== 'string')
  ) {
    throw new ArgumentsError(`${STORE}.${operation}: the reservation must be one that acquire returned.`, {
      field: 'reservation',
    });
  }
  return candidate as UsageReservation;
}

function checkWrite(written: unknown): Pick<UsagePreviousWrite, 'key' | 'version'> {
  const candidate = written as Partial<UsagePreviousWrite> | null | undefined;
  if (
    typeof candidate?.key !== 'string' ||
    typeof candidate.version !== 'string' ||
    candidate.version === ''
  ) {
    throw new ArgumentsError(
      `${STORE}.undo: "written" must be the write that begin returned, or its key and version.`,
      { field: 'written' },
    );
  }
  return candidate as Pick<UsagePreviousWrite, 'key' | 'version'>;
}

/**
 * The {@link UsageStore} of a fleet, on Redis. `acquire` is one Lua script (one round trip, atomic
 * on the server): sliding windows are sorted sets of use times trimmed before counting, windowless
 * counters are integers; a reservation leaves a marker (with a TTL) that makes `release` happen at
 * most once. `begin` is one script too: the previous action, every counter and the new previous
 * action with its version, so an allowed gated call costs one round trip, and `undo` one more for
 * a refused call. Windowed counters expire with their window, previous actions (and their
 * versions and write records) after `previousActionTtlMs`. Each write of `begin` keeps a record of
 * what it replaced (the newest 1,000 per key), so an undo restores only an action that was not
 * undone, whatever the order of concurrent calls' undos. Keys are `<prefix>usage:<runtime key>`,
 * `<prefix>previous:<runtime key>`, `<prefix>previous-version:<runtime key>`,
 * `<prefix>previous-writes:<runtime key>` (a hash) and `<prefix>previous-order:<runtime key>` (a
 * list); the runtime's keys begin with the tenant.
 *
 * Every method fails with `StoreUnavailableError` (`STORE_UNAVAILABLE`) within the connection's
 * `timeoutMs` when Redis is unreachable, slow or answers something malformed; it never reports room
 * it has not recorded. Sliding windows assume the runtime's clock runs at real speed (TTLs are set
 * in Redis's time).
 */
export class RedisUsageStore implements UsageStore {
  readonly #connection: RedisConnection;
  readonly #prefix: string;
  readonly #previousActionTtl: string;
  readonly #reservationTtl: string;

  /** @throws ConfigurationError (`CONFIG_INVALID`) for a malformed option. */
  constructor(options: RedisUsageStoreOptions) {
    this.#connection = options.connection;
    this.#prefix = checkPrefix(STORE, options.prefix);
    this.#previousActionTtl = String(
      checkMilliseconds(
        STORE,
        'previousActionTtlMs',
        options.previousActionTtlMs ?? 7 * 86_400_000,
        1_000,
        MAX_TTL_MS,
      ),
    );
    this.#reservationTtl = String(
      checkMilliseconds(STORE, 'reservationTtlMs', options.reservationTtlMs ?? 86_400_000, 1_000, MAX_TTL_MS),
    );
  }

  /** One round trip; see {@link UsageStore.acquire}. */
  async acquire(request: UsageAcquireRequest): Promise<UsageAcquireResult> {
    const counters = checkCounters('acquire', request?.counters);
    const now = checkNow('acquire', request.now);
    const id = randomUUID();
    const keys = counters.map((counter) => counter.key);
    if (counters.length === 0)
      return Object.freeze({ ok: true, reservation: Object.freeze({ id, keys, at: now }) });
    const args = [String(now), id, this.#reservationTtl];
    for (const counter of counters) args.push(String(counter.max), String(counter.windowMs ?? 0));
    const reply = await this.#connection.script(
      STORE,
      'acquire',
      ACQUIRE,
      [...keys.map((key) => this.#key('usage', key)), this.#markerKey(keys, id)],
      args,
    );
    if (!Array.isArray(reply)) throw malformed('acquire', reply);
    if (reply[0] === 1 && reply.length === 1) {
      return Object.freeze({
        ok: true,
        reservation: Object.freeze({ id, keys: Object.freeze(keys), at: now }),
      });
    }
    const [flag, index, used] = reply as unknown[];
    const counter = typeof index === 'number' ? counters[index - 1] : undefined;
    if (flag !== 0 || counter === undefined || typeof used !== 'number') throw malformed('acquire', reply);
    return Object.freeze({ ok: false, key: counter.key, used, max: counter.max });
  }

  /** Undoes one reservation, at most once; see {@link UsageStore.release}. */
  async release(reservation: UsageReservation): Promise<void> {
    checkReservation('release', reservation);
    if (reservation.keys.length === 0) return;
    await this.#connection.script(
      STORE,
      'release',
      RELEASE,
      [
        ...reservation.keys.map((key) => this.#key('usage', key)),
        this.#markerKey(reservation.keys, reservation.id),
      ],
      [reservation.id],
    );
  }

  /** Uses of each counter in its window at `now`; see {@link UsageStore.usage}. */
  async usage(counters: readonly UsageCounter[], now: number): Promise<readonly number[]> {
    const checked = checkCounters('usage', counters);
    const at = checkNow('usage', now);
    if (checked.length === 0) return [];
    const reply = await this.#connection.script(
      STORE,
      'usage',
      USAGE,
      checked.map((counter) => this.#key('usage', counter.key)),
      [String(at), ...checked.map((counter) => String(counter.windowMs ?? 0))],
    );
    if (
      !Array.isArray(reply) ||
      reply.length !== checked.length ||
      reply.some((item) => typeof item !== 'number')
    ) {
      throw malformed('usage', reply);
    }
    return Object.freeze(reply as number[]);
  }

  /** The last action recorded under `key`; see {@link UsageStore.previousAction}. */
  async previousAction(key: string): Promise<string | undefined> {
    const reply = await this.#connection.command(STORE, 'previousAction', [
      'GET',
      this.#key('previous', key),
    ]);
    if (reply === null) return undefined;
    if (typeof reply !== 'string') throw malformed('previousAction', reply);
    return reply;
  }

  /** Records `action` under every key, atomically; see {@link UsageStore.setPreviousAction}. */
  async setPreviousAction(keys: readonly string[], action: string): Promise<void> {
    if (typeof action !== 'string' || action === '') {
      throw new ArgumentsError(`${STORE}.setPreviousAction: "action" must be a non-empty string.`, {
        field: 'action',
      });
    }
    if (keys.length === 0) return;
    await this.#connection.script(
      STORE,
      'setPreviousAction',
      SET_PREVIOUS,
      [
        ...keys.map((key) => this.#key('previous', key)),
        ...keys.map((key) => this.#key('previous-version', key)),
      ],
      [action, this.#previousActionTtl],
    );
  }

  /**
   * Reads the previous action, acquires every counter and (on success, when `action` is given)
   * writes the new previous action, in one Lua script: one round trip; see {@link UsageStore.begin}.
   */
  async begin(request: UsageBeginRequest): Promise<UsageBeginResult> {
    const counters = checkCounters('begin', request?.counters);
    const now = checkNow('begin', request.now);
    const { previousKey, action } = request;
    if (typeof previousKey !== 'string' || previousKey === '') {
      throw new ArgumentsError(`${STORE}.begin: "previousKey" must be a non-empty string.`, {
        field: 'previousKey',
      });
    }
    if (action !== undefined && (typeof action !== 'string' || action === '')) {
      throw new ArgumentsError(`${STORE}.begin: "action" must be a non-empty string or absent.`, {
        field: 'action',
      });
    }
    if (request.version !== undefined && (typeof request.version !== 'string' || request.version === '')) {
      throw new ArgumentsError(`${STORE}.begin: "version" must be a non-empty string or absent.`, {
        field: 'version',
      });
    }
    const id = randomUUID();
    const version = action === undefined ? '' : (request.version ?? randomUUID());
    const keys = counters.map((counter) => counter.key);
    const redisKeys = this.#writeKeys(previousKey);
    for (const key of keys) redisKeys.push(this.#key('usage', key));
    if (keys.length > 0) redisKeys.push(this.#markerKey(keys, id));
    const args = [
      String(now),
      id,
      this.#reservationTtl,
      action ?? '',
      version,
      this.#previousActionTtl,
      WRITE_HISTORY,
    ];
    for (const counter of counters) args.push(String(counter.max), String(counter.windowMs ?? 0));
    const reply = await this.#connection.script(STORE, 'begin', BEGIN, redisKeys, args);
    if (!Array.isArray(reply)) throw malformed('begin', reply);
    const [flag, index, used, refusedPrevious] = reply as unknown[];
    if (flag === 1 && reply.length === 2 && (index === null || typeof index === 'string')) {
      const previous = index ?? undefined;
      const result: UsageAcquireResult = Object.freeze({
        ok: true,
        reservation: Object.freeze({ id, keys: Object.freeze(keys), at: now }),
      });
      if (action === undefined) return Object.freeze({ previous, result });
      const written = Object.freeze({ key: previousKey, replaced: previous, version });
      return Object.freeze({ previous, result, written });
    }
    const counter = typeof index === 'number' ? counters[index - 1] : undefined;
    if (
      flag !== 0 ||
      reply.length !== 4 ||
      counter === undefined ||
      typeof used !== 'number' ||
      (refusedPrevious !== null && typeof refusedPrevious !== 'string')
    ) {
      throw malformed('begin', reply);
    }
    return Object.freeze({
      previous: refusedPrevious ?? undefined,
      result: Object.freeze({ ok: false, key: counter.key, used, max: counter.max }),
    });
  }

  /**
   * Releases a reservation and voids a previous-action write (restoring the nearest write not
   * voided when it is current), in one Lua script, each at most once; see {@link UsageStore.undo}.
   */
  async undo(request: UsageUndoRequest): Promise<void> {
    const reservation =
      request?.reservation === undefined ? undefined : checkReservation('undo', request.reservation);
    const written = request?.written === undefined ? undefined : checkWrite(request.written);
    const keys: string[] = [];
    const args = ['0', '', this.#previousActionTtl, WRITE_HISTORY, reservation?.id ?? ''];
    if (written !== undefined) {
      keys.push(...this.#writeKeys(written.key));
      args[0] = '4';
      args[1] = written.version;
    }
    if (reservation !== undefined && reservation.keys.length > 0) {
      for (const key of reservation.keys) keys.push(this.#key('usage', key));
      keys.push(this.#markerKey(reservation.keys, reservation.id));
    }
    if (keys.length === 0) return;
    await this.#connection.script(STORE, 'undo', UNDO, keys, args);
  }

  /** The Redis key of `key` in the store's key space of `kind`, under the store's prefix. */
  #key(
    kind: 'usage' | 'previous' | 'previous-version' | 'previous-writes' | 'previous-order',
    key: string,
  ): string {
    return `${this.#prefix}${kind}:${key}`;
  }

  /** The previous action, its version, the records of its writes and their order. */
  #writeKeys(key: string): string[] {
    return [
      this.#key('previous', key),
      this.#key('previous-version', key),
      this.#key('previous-writes', key),
      this.#key('previous-order', key),
    ];
  }

  /** The reservation marker lives under the first counter's key, so it begins with the tenant too. */
  #markerKey(keys: readonly string[], id: string): string {
    return `${this.#prefix}reservation:${keys[0] ?? ''}\u0000${id}`;
  }
}
