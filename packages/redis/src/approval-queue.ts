import { randomUUID } from 'node:crypto';
import type {
  ApprovalAnswer,
  ApprovalListFilter,
  ApprovalPublication,
  ApprovalQueue,
  ApprovalRecord,
  ApprovalSettleResult,
  ApprovalSettlement,
  Clock,
  PendingApproval,
} from '@ape/core';
import {
  APPROVAL_BINDING_FIELDS,
  answeredSettlement,
  checkApprovalAnswer,
  checkApprovalPublication,
  checkCancelReason,
  deepFreeze,
  RuntimeStateError,
  StoreUnavailableError,
  systemClock,
} from '@ape/core';
import type { RedisConnection } from './connection.js';
import { LuaScript } from './connection.js';
import { checkMilliseconds, checkPrefix, escapeGlob, tenantSegment } from './keys.js';
import { decodeRequest, decodeSettlement, encodeRecord } from './records.js';

/** Options of {@link RedisApprovalQueue}. */
export interface RedisApprovalQueueOptions {
  /** The connection (shared with the other stores of the process). */
  readonly connection: RedisConnection;
  /** Prepended to every key and channel; default `ape:`. */
  readonly prefix?: string;
  /** The clock for `createdAt`, timeouts and `settledAt`; default the system clock. */
  readonly clock?: Clock;
  /** How long a request stays readable after its deadline, in milliseconds; default 600000 (10 minutes). */
  readonly retentionMs?: number;
  /**
   * How often a waiter re-reads its request besides the pub/sub wake-up (which a reconnection can
   * miss), in milliseconds; default 1000.
   */
  readonly pollMs?: number;
}

const STORE = 'RedisApprovalQueue';
const ID_PATTERN = /^([^/\s]+)\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

// KEYS: record, tenant index. ARGV: request JSON, the five binding fields, expiresAt, TTL, id.
const PUBLISH = new LuaScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'request', ARGV[1], 'state', 'pending', 'tenant', ARGV[2], 'session', ARGV[3],
  'stepIndex', ARGV[4], 'action', ARGV[5], 'argsHash', ARGV[6])
redis.call('PEXPIRE', KEYS[1], ARGV[8])
redis.call('ZADD', KEYS[2], ARGV[7], ARGV[9])
if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[8]) then redis.call('PEXPIRE', KEYS[2], ARGV[8]) end
return 1
`);

// KEYS: record, tenant index. ARGV: state, settlement JSON, channel, id, retention, then the five
// binding fields of an answer. The first settlement wins; the binding is compared on the server.
const SETTLE = new LuaScript(`
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return {'unknown'} end
if state ~= 'pending' then return {'settled', redis.call('HGET', KEYS[1], 'settlement')} end
if ARGV[1] == 'answered' then
  local names = {'tenant', 'session', 'stepIndex', 'action', 'argsHash'}
  for i = 1, 5 do
    if redis.call('HGET', KEYS[1], names[i]) ~= ARGV[5 + i] then return {'binding_mismatch', names[i]} end
  end
end
redis.call('HSET', KEYS[1], 'state', ARGV[1], 'settlement', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('ZREM', KEYS[2], ARGV[4])
redis.call('PUBLISH', ARGV[3], ARGV[4])
return {'ok'}
`);

// KEYS: records. Returns the request JSON of each record still pending, false otherwise.
const PENDING = new LuaScript(`
local result = {}
for i = 1, #KEYS do
  local fields = redis.call('HMGET', KEYS[i], 'state', 'request')
  if fields[1] == 'pending' then result[i] = fields[2] else result[i] = false end
end
return result
`);

/**
 * The {@link ApprovalQueue} of a fleet, on Redis. A request is a hash
 * `<prefix>approval:<tenant>/<uuid>` (its id is `<tenant>/<uuid>`, the tenant percent-encoded)
 * listed in `<prefix>approvals:<tenant>` until it settles. Settling is one Lua script that compares
 * the answer's binding on the server, so the first answer, timeout or cancellation wins across every
 * process; it publishes the id on `<prefix>approval-settled:<tenant>` to wake the waiter (which also
 * polls every `pollMs`). Records expire `retentionMs` after their deadline or settlement.
 *
 * Every method fails with `StoreUnavailableError` (`STORE_UNAVAILABLE`) within the connection's
 * `timeoutMs` when Redis is unreachable, slow or holds a malformed record; `wait` keeps waiting
 * through an outage and fails only when it cannot record the timeout or cancellation that ends it.
 */
export class RedisApprovalQueue implements ApprovalQueue {
  readonly #connection: RedisConnection;
  readonly #prefix: string;
  readonly #clock: Clock;
  readonly #retentionMs: number;
  readonly #pollMs: number;

  /** @throws ConfigurationError (`CONFIG_INVALID`) for a malformed option. */
  constructor(options: RedisApprovalQueueOptions) {
    this.#connection = options.connection;
    this.#prefix = checkPrefix(STORE, options.prefix);
    this.#clock = options.clock ?? systemClock;
    this.#retentionMs = checkMilliseconds(
      STORE,
      'retentionMs',
      options.retentionMs ?? 600_000,
      1_000,
      86_400_000,
    );
    this.#pollMs = checkMilliseconds(STORE, 'pollMs', options.pollMs ?? 1_000, 10, 60_000);
  }

  /** Stores the request and lists it for its tenant; see {@link ApprovalQueue.publish}. */
  async publish(publication: ApprovalPublication): Promise<string> {
    const checked = checkApprovalPublication(`${STORE}.publish`, publication);
    const createdAt = this.#clock.now();
    const segment = tenantSegment(checked.tenant);
    const id = `${segment}/${randomUUID()}`;
    const request: PendingApproval = deepFreeze({ ...checked, id, createdAt });
    const ttl = Math.max(request.expiresAt - createdAt, 0) + this.#retentionMs;
    const reply = await this.#connection.script(
      STORE,
      'publish',
      PUBLISH,
      [this.#key('approval', id), this.#key('approvals', segment)],
      [
        encodeRecord(request),
        ...APPROVAL_BINDING_FIELDS.map((field) => String(checked[field])),
        String(request.expiresAt),
        String(ttl),
        id,
      ],
    );
    if (reply !== 1) {
      throw new StoreUnavailableError(
        `${STORE}.publish: Redis refused the new request ${id}; it is not pending.`,
        {
          store: STORE,
          operation: 'publish',
        },
      );
    }
    return id;
  }

  /** See {@link ApprovalQueue.get}. */
  async get(id: string): Promise<ApprovalRecord | undefined> {
    return this.#read('get', id);
  }

  /** Pending requests, oldest first; without a tenant, every tenant's (found with SCAN). */
  async list(filter: ApprovalListFilter = {}): Promise<readonly PendingApproval[]> {
    const segments =
      filter.tenant === undefined ? await this.#tenantSegments() : [tenantSegment(String(filter.tenant))];
    const now = this.#clock.now();
    const pending: PendingApproval[] = [];
    for (const segment of segments) {
      const ids = await this.#connection.command(STORE, 'list', [
        'ZRANGEBYSCORE',
        this.#key('approvals', segment),
        `(${now}`,
        '+inf',
      ]);
      if (!Array.isArray(ids)) throw this.#malformedReply('list');
      if (ids.length === 0) continue;
      const texts = await this.#connection.script(
        STORE,
        'list',
        PENDING,
        ids.map((id) => this.#key('approval', String(id))),
        [],
      );
      if (!Array.isArray(texts) || texts.length !== ids.length) throw this.#malformedReply('list');
      texts.forEach((text, index) => {
        if (typeof text === 'string') pending.push(decodeRequest(STORE, 'list', text, String(ids[index])));
      });
    }
    return pending.sort((a, b) => a.createdAt - b.createdAt);
  }

  /** Settles the request with an answer if it is still pending and the binding matches. */
  async answer(id: string, answer: ApprovalAnswer): Promise<ApprovalSettleResult> {
    const checked = checkApprovalAnswer(`${STORE}.answer`, answer);
    return this.#settle(
      'answer',
      id,
      answeredSettlement(id, checked, this.#clock.now()),
      APPROVAL_BINDING_FIELDS.map((field) => String(checked.binding[field])),
    );
  }

  /** Settles the request as cancelled if it is still pending. */
  async cancel(id: string, reason: string): Promise<ApprovalSettleResult> {
    const checked = checkCancelReason(`${STORE}.cancel`, reason);
    return this.#settle(
      'cancel',
      id,
      Object.freeze({ state: 'cancelled', id, reason: checked, settledAt: this.#clock.now() }),
      [],
    );
  }

  /**
   * Waits for the request's settlement (pub/sub wake-up, polling as a fallback); settles it as
   * `timeout` at its deadline and as `cancelled` when `signal` aborts.
   * @throws RuntimeStateError (`RUNTIME_STATE`) for an id that is not stored.
   * @throws StoreUnavailableError when Redis cannot be reached to start waiting or to record the
   *   timeout or cancellation.
   */
  async wait(id: string, signal: AbortSignal): Promise<ApprovalSettlement> {
    const segment = this.#segmentOf(id);
    const first = segment === undefined ? undefined : await this.#read('wait', id);
    if (segment === undefined || first === undefined) {
      throw new RuntimeStateError(
        `${STORE}.wait: no request "${String(id).slice(0, 120)}" (never published, or forgotten after its retention); publish before waiting.`,
        { id },
      );
    }
    if (first.settlement !== undefined) return first.settlement;
    const { expiresAt } = first.request;
    let wake: () => void = () => {};
    const unsubscribe = await this.#connection.subscribe(
      STORE,
      this.#key('approval-settled', segment),
      (message) => {
        if (message === id) wake();
      },
    );
    try {
      for (;;) {
        const record = await this.#read('wait', id).catch(() => undefined);
        if (record?.settlement !== undefined) return record.settlement;
        if (signal.aborted) {
          return await this.#finish(
            id,
            Object.freeze({
              state: 'cancelled',
              id,
              reason: 'the waiting process stopped waiting',
              settledAt: this.#clock.now(),
            }),
          );
        }
        const remaining = expiresAt - this.#clock.now();
        if (remaining <= 0) {
          return await this.#finish(
            id,
            Object.freeze({ state: 'timeout', id, settledAt: this.#clock.now() }),
          );
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, Math.min(this.#pollMs, remaining));
          function done(): void {
            clearTimeout(timer);
            signal.removeEventListener('abort', done);
            resolve();
          }
          wake = done;
          signal.addEventListener('abort', done, { once: true });
        });
      }
    } finally {
      await unsubscribe();
    }
  }

  /** Records a timeout or cancellation; resolves to whichever settlement won. */
  async #finish(id: string, settlement: ApprovalSettlement): Promise<ApprovalSettlement> {
    const result = await this.#settle('wait', id, settlement, []);
    if (result.settlement !== undefined) return result.settlement;
    throw new StoreUnavailableError(`${STORE}.wait: request ${id} vanished from Redis before it settled.`, {
      store: STORE,
      operation: 'wait',
    });
  }

  async #settle(
    operation: string,
    id: string,
    settlement: ApprovalSettlement,
    binding: readonly string[],
  ): Promise<ApprovalSettleResult> {
    const segment = this.#segmentOf(id);
    if (segment === undefined) return Object.freeze({ ok: false, reason: 'unknown' });
    const reply = await this.#connection.script(
      STORE,
      operation,
      SETTLE,
      [this.#key('approval', id), this.#key('approvals', segment)],
      [
        settlement.state,
        encodeRecord(settlement),
        this.#key('approval-settled', segment),
        id,
        String(this.#retentionMs),
        ...binding,
      ],
    );
    if (!Array.isArray(reply)) throw this.#malformedReply(operation);
    const [outcome, detail] = reply as unknown[];
    switch (outcome) {
      case 'ok':
        return Object.freeze({ ok: true, settlement });
      case 'unknown':
        return Object.freeze({ ok: false, reason: 'unknown' });
      case 'settled':
        return Object.freeze({
          ok: false,
          reason: 'settled',
          settlement: decodeSettlement(STORE, operation, detail, id),
        });
      case 'binding_mismatch': {
        const field = APPROVAL_BINDING_FIELDS.find((name) => name === detail);
        if (field === undefined) throw this.#malformedReply(operation);
        return Object.freeze({ ok: false, reason: 'binding_mismatch', field });
      }
      default:
        throw this.#malformedReply(operation);
    }
  }

  async #read(operation: string, id: string): Promise<ApprovalRecord | undefined> {
    if (this.#segmentOf(id) === undefined) return undefined;
    const reply = await this.#connection.command(STORE, operation, [
      'HMGET',
      this.#key('approval', id),
      'request',
      'state',
      'settlement',
    ]);
    if (!Array.isArray(reply) || reply.length !== 3) throw this.#malformedReply(operation);
    const [requestText, state, settlementText] = reply as unknown[];
    if (requestText === null) return undefined;
    const request = decodeRequest(STORE, operation, requestText, id);
    if (state === 'pending') return Object.freeze({ request });
    return Object.freeze({ request, settlement: decodeSettlement(STORE, operation, settlementText, id) });
  }

  async #tenantSegments(): Promise<string[]> {
    const head = `${this.#prefix}approvals:`;
    const segments: string[] = [];
    let cursor = '0';
    do {
      const reply = await this.#connection.command(STORE, 'list', [
        'SCAN',
        cursor,
        'MATCH',
        `${escapeGlob(head)}*`,
        'COUNT',
        '200',
      ]);
      if (!Array.isArray(reply) || typeof reply[0] !== 'string' || !Array.isArray(reply[1])) {
        throw this.#malformedReply('list');
      }
      cursor = reply[0];
      for (const key of reply[1] as unknown[]) segments.push(String(key).slice(head.length));
    } while (cursor !== '0');
    return [...new Set(segments)];
  }

  /** The tenant segment of a well-formed id; `undefined` for anything else (an unknown request). */
  #segmentOf(id: unknown): string | undefined {
    const match = typeof id === 'string' ? ID_PATTERN.exec(id) : null;
    return match === null ? undefined : match[1];
  }

  /** A request's record (`approval:<id>`), a tenant's index (`approvals:<segment>`) or its channel (`approval-settled:<segment>`). */
  #key(kind: 'approval' | 'approvals' | 'approval-settled', name: string): string {
    return `${this.#prefix}${kind}:${name}`;
  }

  #malformedReply(operation: string): StoreUnavailableError {
    return new StoreUnavailableError(
      `${STORE}.${operation}: Redis answered a malformed reply; treated as unavailable (denied).`,
      { store: STORE, operation },
    );
  }
}
