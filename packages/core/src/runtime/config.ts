import { randomUUID } from 'node:crypto';
import { ConfigurationError, TenantIsolationError } from '../errors.js';
import { isProvenanceLabel } from '../labels.js';
import type { AuditSink } from '../ports/audit-sink.js';
import type { Authority } from '../ports/authority.js';
import { type Clock, systemClock } from '../ports/clock.js';
import type { EscalationHandler } from '../ports/escalation-handler.js';
import type { PolicyEvaluator } from '../ports/policy-evaluator.js';
import type { RevocationFeed } from '../ports/revocation-feed.js';
import type { UsageStore } from '../ports/usage-store.js';
import type { ProvenanceLabel } from '../types.js';
import { createDenyAllEscalationHandler } from './deny-all-escalation-handler.js';
import { createInMemoryAuditSink } from './in-memory-audit-sink.js';
import { createInMemoryUsageStore } from './in-memory-usage-store.js';

/**
 * How the gate applies decisions. `enforce` (default) denies and escalates. `observe` evaluates and
 * audits would-be denials and escalations (`enforced: false`) but runs the tool anyway. `disabled`
 * does not consult the policy and audits every call as such. Both `observe` and `disabled` are
 * UNSAFE in production: they exist for rollout and debugging.
 */
export type EnforcementMode = 'enforce' | 'observe' | 'disabled';

/** The enforcement modes, safest first. */
export const ENFORCEMENT_MODES = Object.freeze(['enforce', 'observe', 'disabled'] as const);

/** How long the gate waits for an escalation answer by default: 5 minutes. */
export const DEFAULT_ESCALATION_TIMEOUT_MS = 300_000;

/** How long the gate waits for one {@link UsageStore} call by default, in ms, before denying. */
export const DEFAULT_USAGE_TIMEOUT_MS = 250;

/** What {@link createRuntime} takes. */
export interface RuntimeConfig {
  /** The one tenant this session belongs to. */
  readonly tenant: string;
  /** The compiled policy (`@ape/policy`'s `compilePolicy`/`loadPolicy`). */
  readonly policy: PolicyEvaluator;
  /** Issues and consumes tokens (`@ape/authority`'s `AuthorityManager`). If it declares a tenant, it must be `tenant`. */
  readonly authority: Authority;
  /** Where events go; default: an in-memory recorder without hash chain ({@link createInMemoryAuditSink}). */
  readonly audit?: AuditSink;
  /** Who approves escalations; default: deny-all ({@link createDenyAllEscalationHandler}). */
  readonly escalation?: EscalationHandler;
  /** Time for audit timestamps, durations and usage windows; default: the system clock. */
  readonly clock?: Clock;
  /** The enforcement mode; default `enforce`. */
  readonly mode?: EnforcementMode;
  /** Alias of `mode` (the name used in the issue tracker); if both are given they must agree. */
  readonly enforcementMode?: EnforcementMode;
  /** The session id; default: a random UUID. */
  readonly sessionId?: string;
  /** The label of plain (unlabelled) argument values when a call declares none; default `EXTERNAL_UNTRUSTED`. */
  readonly defaultProvenance?: ProvenanceLabel;
  /** How long to wait for an escalation answer before treating it as a denial, in ms (real time). */
  readonly escalationTimeoutMs?: number;
  /** Argument names whose values are written to the audit log in clear; all others appear only as a digest. */
  readonly auditArgs?: readonly string[];
  /**
   * Where the policy's usage limits and the previous action live; default: a fresh in-memory store
   * ({@link createInMemoryUsageStore}) owned by this runtime. Share one store between the runtimes
   * of a lineage (or a fleet, with `@ape/redis`) so that no new session resets a budget.
   */
  readonly usage?: UsageStore;
  /**
   * The lineage this session belongs to: every session a host starts for one connection, user or
   * thread. Lineage-scoped limits and the previous action are counted across all of them. Needs
   * `usage` (a store shared by the lineage's runtimes).
   */
  readonly lineage?: string;
  /**
   * The id of a predecessor session of the same tenant that this session continues (for example
   * after a denied escalation terminated it): its session-scoped counters are this session's.
   */
  readonly continuesSession?: string;
  /** The bound on each `usage` call, in ms (real time); default {@link DEFAULT_USAGE_TIMEOUT_MS}. */
  readonly usageTimeoutMs?: number;
  /**
   * The kill switch (in memory, or `RedisRevocationFeed` for a fleet): the gate checks it when it
   * decides, before it issues a token and before it consumes one, and denies a call whose session,
   * lineage or tenant is revoked, or whose feed cannot vouch for it (stale). Default: none.
   */
  readonly revocations?: RevocationFeed;
}

/** @internal A validated configuration with every default applied. */
export interface ResolvedConfig {
  readonly tenant: string;
  readonly sessionId: string;
  readonly mode: EnforcementMode;
  readonly policy: PolicyEvaluator;
  readonly authority: Authority;
  readonly audit: AuditSink;
  readonly escalation: EscalationHandler;
  readonly clock: Clock;
  readonly defaultProvenance: ProvenanceLabel;
  readonly escalationTimeoutMs: number;
  readonly auditArgs: ReadonlySet<string>;
  readonly usage: UsageStore;
  readonly lineage: string | undefined;
  readonly continuesSession: string | undefined;
  readonly usageTimeoutMs: number;
  readonly revocations: RevocationFeed | undefined;
}

/** @internal A CONFIG_INVALID error naming `field`. */
export function configError(field: string, message: string): ConfigurationError {
  return new ConfigurationError(`createRuntime: ${message}`, { field });
}

/** @internal Whether `policy` has the methods of a {@link PolicyEvaluator}. */
export function isPolicyEvaluator(policy: unknown): policy is PolicyEvaluator {
  const candidate = policy as Partial<PolicyEvaluator> | null | undefined;
  return typeof candidate?.evaluate === 'function' && typeof candidate.mayPermit === 'function';
}

function isUsageStore(store: unknown): store is UsageStore {
  const candidate = store as Partial<UsageStore> | null | undefined;
  return (
    typeof candidate?.acquire === 'function' &&
    typeof candidate.release === 'function' &&
    typeof candidate.usage === 'function' &&
    typeof candidate.previousAction === 'function' &&
    typeof candidate.setPreviousAction === 'function' &&
    // The one-call pair is optional but comes whole: a begin without its undo could not be taken back.
    (typeof candidate.begin === 'function') === (typeof candidate.undo === 'function')
  );
}

function optionalId(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0 || value.includes('\u0000')) {
    throw configError(field, `\`${field}\` must be a non-empty string without NUL characters.`);
  }
  return value;
}

function positiveMs(value: unknown, fallback: number, field: string): number {
  const ms = value ?? fallback;
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms <= 0) {
    throw configError(field, `\`${field}\` must be a positive number of milliseconds.`);
  }
  return ms;
}

/**
 * @internal Validates `config` and applies the defaults.
 * @throws ConfigurationError (`CONFIG_INVALID`, `details.field`) or TenantIsolationError (`TENANT_MISMATCH`).
 */
export function resolveConfig(config: RuntimeConfig): ResolvedConfig {
  if (typeof config !== 'object' || config === null)
    throw configError('config', 'a configuration object is required.');
  if (typeof config.tenant !== 'string' || config.tenant.length === 0 || config.tenant.includes('\u0000')) {
    throw configError('tenant', '`tenant` must be a non-empty string.');
  }
  if (!isPolicyEvaluator(config.policy)) {
    throw configError('policy', '`policy` must be a PolicyEvaluator (evaluate, mayPermit, digest).');
  }
  const authority = config.authority;
  if (
    typeof authority?.issue !== 'function' ||
    typeof authority.consume !== 'function' ||
    typeof authority.revokeSession !== 'function'
  ) {
    throw configError(
      'authority',
      '`authority` is required (for example an AuthorityManager from @ape/authority).',
    );
  }
  if (authority.tenant !== undefined && authority.tenant !== config.tenant) {
    throw new TenantIsolationError(
      `createRuntime: the authority serves tenant "${authority.tenant}", not "${config.tenant}".`,
      { field: 'authority' },
    );
  }
  if (
    config.mode !== undefined &&
    config.enforcementMode !== undefined &&
    config.mode !== config.enforcementMode
  ) {
    throw configError('mode', '`mode` and `enforcementMode` disagree; give one of them.');
  }
  const mode = config.mode ?? config.enforcementMode ?? 'enforce';
  if (!ENFORCEMENT_MODES.includes(mode)) {
    throw configError('mode', `unknown mode "${String(mode)}"; use enforce, observe or disabled.`);
  }
  if (config.defaultProvenance !== undefined && !isProvenanceLabel(config.defaultProvenance)) {
    throw configError('defaultProvenance', '`defaultProvenance` must be a provenance label.');
  }
  const escalationTimeoutMs = positiveMs(
    config.escalationTimeoutMs,
    DEFAULT_ESCALATION_TIMEOUT_MS,
    'escalationTimeoutMs',
  );
  if (
    config.auditArgs !== undefined &&
    (!Array.isArray(config.auditArgs) || config.auditArgs.some((name) => typeof name !== 'string'))
  ) {
    throw configError('auditArgs', '`auditArgs` must be an array of argument names.');
  }
  if (
    config.sessionId !== undefined &&
    (typeof config.sessionId !== 'string' || config.sessionId.length === 0)
  ) {
    throw configError('sessionId', '`sessionId` must be a non-empty string.');
  }
  if (config.usage !== undefined && !isUsageStore(config.usage)) {
    throw configError(
      'usage',
      '`usage` must be a UsageStore (acquire, release, usage, previousAction, setPreviousAction; begin and undo both or neither).',
    );
  }
  if (config.revocations !== undefined && typeof config.revocations?.check !== 'function') {
    throw configError('revocations', '`revocations` must be a RevocationFeed (check, revoke, lift, list).');
  }
  const lineage = optionalId(config.lineage, 'lineage');
  if (lineage !== undefined && config.usage === undefined) {
    throw configError(
      'lineage',
      '`lineage` needs `usage`: a fresh per-runtime store cannot share a lineage; pass the store every runtime of the lineage uses.',
    );
  }
  const continuesSession = optionalId(config.continuesSession, 'continuesSession');
  if (continuesSession !== undefined && config.usage === undefined) {
    throw configError(
      'continuesSession',
      "`continuesSession` needs `usage`: a fresh per-runtime store cannot share the predecessor session's counts; pass the store it used.",
    );
  }
  return {
    tenant: config.tenant,
    sessionId: config.sessionId ?? randomUUID(),
    mode,
    policy: config.policy,
    authority,
    audit: config.audit ?? createInMemoryAuditSink(),
    escalation: config.escalation ?? createDenyAllEscalationHandler(),
    clock: config.clock ?? systemClock,
    defaultProvenance: config.defaultProvenance ?? 'EXTERNAL_UNTRUSTED',
    escalationTimeoutMs,
    auditArgs: new Set(config.auditArgs ?? []),
    usage: config.usage ?? createInMemoryUsageStore(),
    lineage,
    continuesSession,
    usageTimeoutMs: positiveMs(config.usageTimeoutMs, DEFAULT_USAGE_TIMEOUT_MS, 'usageTimeoutMs'),
    revocations: config.revocations,
  };
}
