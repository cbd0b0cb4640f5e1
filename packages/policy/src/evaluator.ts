import {
  type ActionRequest,
  isActionId,
  messageOf,
  type PolicyDecision,
  type UsageLimit,
  type UsageScope,
} from '@ape/core';
import type { ValidateFunction } from 'ajv/dist/2020.js';
import type { PolicyDefinition } from './definition.js';
import { type ActionGlob, compileGlob, isGlob, type PatternIndex } from './glob.js';
import { PATH_KEYWORD, URL_KEYWORD } from './keywords.js';
import { PROVENANCE_FAILURE, PROVENANCE_KEYWORD } from './provenance-keyword.js';
import { MAX_KEYED_RULES, SettledDecisions } from './settled-decisions.js';
import { NO_LIMITS, UsageLimitTable } from './usage-limits.js';
import type {
  CompiledPolicy,
  ExplainRow,
  PolicyFinding,
  RuleEffect,
  SimulationResult,
  SimulationStep,
} from './types.js';

/** Bits of the provenance mask, one per label. */
export const PROVENANCE_BITS: Readonly<Record<string, number>> = Object.freeze({
  SYSTEM_TRUSTED: 1,
  USER_TRUSTED: 2,
  EXTERNAL_UNTRUSTED: 4,
});

/** @internal A set of action patterns: exact ids in a `Set`, globs precompiled. */
export class PatternSet {
  private readonly exact = new Set<string>();
  private readonly globs: ActionGlob[] = [];

  constructor(patterns: readonly string[]) {
    for (const pattern of patterns) {
      if (isGlob(pattern)) this.globs.push(compileGlob(pattern));
      else this.exact.add(pattern);
    }
  }

  has(action: string): boolean {
    if (this.exact.has(action)) return true;
    for (const glob of this.globs) if (glob.test(action)) return true;
    return false;
  }
}

/** @internal A rule ready for evaluation. */
export interface CompiledRule {
  readonly id: string;
  readonly effect: RuleEffect;
  readonly patterns: readonly string[];
  /** 0 when the rule has no provenance condition. */
  readonly provenanceMask: number;
  readonly validate: ValidateFunction | undefined;
  readonly reason: string | undefined;
  /** How the rule came to be, for messages: `list` entries or `rule`s. */
  readonly origin: 'list' | 'rule';
  readonly tenant: string | null;
}

/** @internal A call budget. */
export interface CompiledLimit {
  readonly id: string;
  readonly patterns: readonly string[];
  readonly set: PatternSet;
  readonly maxCalls: number;
  readonly scope: UsageScope;
  /** The window as written (`1h`), when the limit has one. */
  readonly window: string | undefined;
  readonly windowMs: number | undefined;
  /** What `limitsFor` hands the runtime for this limit (frozen once). */
  readonly usage: UsageLimit;
  readonly reason: string | undefined;
  readonly tenant: string | null;
}

/** @internal The actions that may follow one action. */
export interface CompiledTransition {
  readonly id: string;
  readonly from: string;
  readonly followers: PatternSet;
  readonly followerPatterns: readonly string[];
  readonly tenant: string | null;
}

/** @internal A tenant's restriction of the actions it may use. */
export interface CompiledFilter {
  readonly id: string;
  readonly tenant: string;
  readonly patterns: readonly string[];
  readonly set: PatternSet;
}

/** @internal Everything that decides for one tenant (or for the base policy). */
export interface RuleSet {
  readonly tenant: string | null;
  readonly rules: PatternIndex<CompiledRule>;
  readonly limits: PatternIndex<CompiledLimit>;
  readonly transitions: PatternIndex<CompiledTransition>;
  readonly filter: CompiledFilter | undefined;
}

/** @internal What the compiler hands to the evaluator. */
export interface PolicyParts {
  readonly name: string;
  readonly digest: string;
  readonly warnings: readonly PolicyFinding[];
  readonly definition: PolicyDefinition;
  readonly base: RuleSet;
  readonly tenants: ReadonlyMap<string, RuleSet>;
  /** The rows of `explain()`, computed on its first call (a policy is mostly loaded to decide). */
  readonly explainRows: () => readonly ExplainRow[];
}

function provenanceBit(label: unknown): number {
  // Anything unknown is treated as the least trusted label.
  return label === 'SYSTEM_TRUSTED' ? 1 : label === 'USER_TRUSTED' ? 2 : 4;
}

function sentence(text: string): string {
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

function quote(value: string): string {
  return JSON.stringify(value);
}

interface Denial {
  readonly id: string;
  readonly reason: string;
}

/**
 * The compiled policy. Immutable once constructed (the only internal state is a bounded cache of
 * glob lookups, bounded tables of decisions already settled, and the rows of `explain()`, made on
 * its first call; none of them changes a decision).
 */
class Policy implements CompiledPolicy {
  readonly name: string;
  readonly digest: string;
  readonly warnings: readonly PolicyFinding[];
  readonly tenants: readonly string[];
  readonly definition: PolicyDefinition;
  readonly #base: PreparedSet;
  readonly #tenantSets: ReadonlyMap<string, PreparedSet>;
  /** Exact action ids of the policy that are valid action ids (checked before the action-id regex). */
  readonly #validIds: ReadonlySet<string>;
  readonly #explainRowsOf: () => readonly ExplainRow[];
  #explainRows: readonly ExplainRow[] | undefined;
  readonly #usageLimits: UsageLimitTable;

  constructor(parts: PolicyParts) {
    this.name = parts.name;
    this.digest = parts.digest;
    this.warnings = Object.freeze([...parts.warnings]);
    this.definition = parts.definition;
    this.tenants = Object.freeze([...parts.tenants.keys()].sort());
    const validIds = new Set<string>();
    for (const [id] of parts.base.rules.exactEntries()) if (isActionId(id)) validIds.add(id);
    this.#validIds = validIds;
    this.#usageLimits = new UsageLimitTable();
    this.#base = prepareSet(parts.base, undefined, parts.digest, this.#usageLimits);
    const tenantSets = new Map<string, PreparedSet>();
    for (const [tenant, set] of parts.tenants)
      tenantSets.set(tenant, prepareSet(set, this.#base, parts.digest, this.#usageLimits));
    this.#tenantSets = tenantSets;
    this.#explainRowsOf = parts.explainRows;
    Object.freeze(this);
  }

  evaluate(request: ActionRequest): PolicyDecision {
    try {
      return this.#decide(request, undefined);
    } catch (error) {
      return this.#failClosed(error);
    }
  }

  simulate(request: ActionRequest): SimulationResult {
    const trace: SimulationStep[] = [];
    let decision: PolicyDecision;
    try {
      decision = this.#decide(request, trace);
    } catch (error) {
      decision = this.#failClosed(error);
      trace.push({ rule: 'error', kind: 'default', applied: true, because: decision.reason });
    }
    const tenant = this.#tenantOf(request);
    return Object.freeze({ ...decision, tenant, trace: Object.freeze(trace) });
  }

  explain(): readonly ExplainRow[] {
    this.#explainRows ??= Object.freeze([...this.#explainRowsOf()]);
    return this.#explainRows;
  }

  mayPermit(tenant: string, action: string): boolean {
    if (!isActionId(action)) return false;
    const set = ((typeof tenant === 'string' ? this.#tenantSets.get(tenant) : undefined) ?? this.#base).set;
    if (set.filter !== undefined && !set.filter.set.has(action)) return false;
    for (const limit of set.limits.lookup(action)) if (limit.maxCalls === 0) return false;
    let permits = false;
    for (const rule of set.rules.lookup(action)) {
      const unconditional = rule.provenanceMask === 0 && rule.validate === undefined;
      if (rule.effect === 'deny' && unconditional) return false;
      // Tenant overlays only narrow: their escalations never make an action reachable.
      if (rule.effect !== 'deny' && rule.tenant === null) permits = true;
    }
    return permits;
  }

  mayEscalate(tenant: string, action: string): boolean {
    if (typeof action !== 'string') return false;
    const set = ((typeof tenant === 'string' ? this.#tenantSets.get(tenant) : undefined) ?? this.#base).set;
    for (const rule of set.rules.lookup(action)) if (rule.effect === 'escalate') return true;
    return false;
  }

  limitsFor(tenant: string, action: string): readonly UsageLimit[] {
    const prepared = (typeof tenant === 'string' ? this.#tenantSets.get(tenant) : undefined) ?? this.#base;
    if (typeof action !== 'string' || prepared.unlimited) return NO_LIMITS;
    return prepared.limits.get(action) ?? this.#usageLimits.of(prepared.set.limits.lookup(action));
  }

  #tenantOf(request: ActionRequest): string | null {
    const tenant = (request as { tenant?: unknown } | null)?.tenant;
    return typeof tenant === 'string' && this.#tenantSets.has(tenant) ? tenant : null;
  }

  #failClosed(error: unknown): PolicyDecision {
    const code =
      typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'string'
        ? (error as { code: string }).code
        : 'INTERNAL';
    const detail = messageOf(error);
    return Object.freeze({
      decision: 'DENY',
      rules: Object.freeze(['error']),
      reason: `Denied because the policy could not be evaluated: ${detail.replace(/[.\s]+$/, '')}.`,
      policy: this.digest,
      code,
    });
  }

  #malformed(reason: string, trace: SimulationStep[] | undefined): PolicyDecision {
    trace?.push({ rule: 'request', kind: 'default', applied: true, because: reason });
    return Object.freeze({
      decision: 'DENY',
      rules: Object.freeze(['request']),
      reason,
      policy: this.digest,
      code: 'ACTION_INVALID',
    });
  }

  #decide(request: ActionRequest, trace: SimulationStep[] | undefined): PolicyDecision {
    if (typeof request !== 'object' || request === null)
      return this.#malformed('Denied: the request is not an object.', trace);
    const action: unknown = request.action;
    if (typeof action !== 'string' || (!this.#validIds.has(action) && !isActionId(action))) {
      return this.#malformed('Denied: the request has no valid action id.', trace);
    }
    const args: unknown = request.args;
    if (typeof args !== 'object' || args === null || Array.isArray(args)) {
      return this.#malformed(`Denied: the arguments of ${quote(action)} are not an object.`, trace);
    }
    const tenant: unknown = request.tenant;
    const prepared = (typeof tenant === 'string' ? this.#tenantSets.get(tenant) : undefined) ?? this.#base;
    const set = prepared.set;
    let denials: Denial[] | undefined;

    const intent = request.intent;
    if (intent !== undefined) {
      const forbidden: unknown = (intent as { forbidden_actions?: unknown }).forbidden_actions;
      const allowed: unknown = (intent as { allowed_actions?: unknown }).allowed_actions;
      if (!Array.isArray(forbidden) || !Array.isArray(allowed)) {
        return this.#malformed('Denied: the request carries a malformed intent.', trace);
      }
      if (forbidden.includes(action)) {
        const reason = `${quote(action)} is forbidden by intent.`;
        denials = append(denials, { id: 'intent.forbidden_actions', reason });
        trace?.push({ rule: 'intent.forbidden_actions', kind: 'intent', applied: true, because: reason });
      }
      if (!allowed.includes(action)) {
        const reason = `${quote(action)} is outside intent (not in its allowed_actions).`;
        denials = append(denials, { id: 'intent.allowed_actions', reason });
        trace?.push({ rule: 'intent.allowed_actions', kind: 'intent', applied: true, because: reason });
      } else {
        trace?.push({
          rule: 'intent.allowed_actions',
          kind: 'intent',
          applied: false,
          because: `${quote(action)} is within intent.`,
        });
      }
    }

    const filter = set.filter;
    if (filter !== undefined) {
      const passes = filter.set.has(action);
      if (!passes || trace !== undefined) {
        const because = passes
          ? `Tenant ${quote(filter.tenant)} may use ${quote(action)}.`
          : `Tenant ${quote(filter.tenant)} may not use ${quote(action)} (${filter.id}).`;
        if (!passes) denials = append(denials, { id: filter.id, reason: because });
        trace?.push({ rule: filter.id, kind: 'tenant_filter', applied: !passes, because });
      }
    }

    const session = request.session;
    const previous: unknown = session?.previousAction;
    if (typeof previous === 'string') {
      for (const transition of set.transitions.lookup(previous)) {
        const passes = transition.followers.has(action);
        if (passes && trace === undefined) continue;
        const because = passes
          ? `${quote(action)} may follow ${quote(previous)} (${transition.id}).`
          : `${quote(action)} may not follow ${quote(previous)} (${transition.id}).`;
        if (!passes) denials = append(denials, { id: transition.id, reason: because });
        trace?.push({ rule: transition.id, kind: 'transition', applied: !passes, because });
      }
    }

    const limits = set.limits.lookup(action);
    if (limits.length > 0) {
      const usage: unknown = session?.usage;
      const calls: unknown = session?.calls;
      for (const limit of limits) {
        const used = usedOf(limit, usage, calls);
        const exceeded = !(used < limit.maxCalls);
        if (!exceeded && trace === undefined) continue;
        const because = exceeded
          ? limit.reason === undefined
            ? `${usedSentence(limit, used)} for ${quote(action)}.`
            : `Denied by limit ${limit.id}: ${sentence(limit.reason)}`
          : usage === undefined && !isJudgedFromCalls(limit)
            ? `Limit ${limit.id} (${limitScopeText(limit)}) is counted by the runtime's usage store, not from session.calls; not judged here.`
            : `${usedSentence(limit, used)}.`;
        if (exceeded) denials = append(denials, { id: limit.id, reason: because });
        trace?.push({ rule: limit.id, kind: 'limit', applied: exceeded, because });
      }
    }

    // Nothing before the rules denied: the decision depends only on which rules apply.
    const byRulesAlone = denials === undefined && trace === undefined;
    if (byRulesAlone) {
      const fixed = prepared.fixed.get(action);
      if (fixed !== undefined) return fixed;
    }
    const bit = provenanceBit(request.provenance);
    const rules = set.rules.lookup(action);
    if (byRulesAlone && rules.length <= MAX_KEYED_RULES) {
      let applied = 0;
      for (let index = 0; index < rules.length; index++) {
        if (applies(rules[index]!, request, args, bit)) applied |= 1 << index;
      }
      return prepared.settled.decision(action, rules, applied, () =>
        settle(
          action,
          outcomeOf(action, rules, (index) => (applied & (1 << index)) !== 0, undefined),
          this.digest,
          undefined,
        ),
      );
    }
    const failures: (string | undefined)[] = [];
    for (const rule of rules) {
      let failure: string | undefined;
      if (rule.provenanceMask !== 0 && (rule.provenanceMask & bit) === 0) {
        failure = `provenance ${String(request.provenance)} is not among the labels it accepts`;
      } else if (rule.validate !== undefined && rule.validate.call(request, args) !== true) {
        failure =
          trace === undefined ? 'arguments' : `arguments do not match: ${describeAjvError(rule.validate)}`;
      }
      failures.push(failure);
      if (trace !== undefined) {
        trace.push({
          rule: rule.id,
          kind: rule.effect,
          applied: failure === undefined,
          because:
            failure === undefined
              ? `${rule.id} matches ${quote(action)} and its conditions hold (${rule.effect}).`
              : `${rule.id} matches ${quote(action)} but its conditions fail: ${failure}.`,
        });
      }
    }
    return settle(
      action,
      outcomeOf(action, rules, (index) => failures[index] === undefined, denials),
      this.digest,
      trace,
    );
  }
}

/**
 * Whether `rule` applies to the call: its provenance condition accepts the call's label (`bit`)
 * and its argument schema accepts `args` (the schema's keywords read the request as `this`).
 */
function applies(rule: CompiledRule, request: ActionRequest, args: object, bit: number): boolean {
  if (rule.provenanceMask !== 0 && (rule.provenanceMask & bit) === 0) return false;
  return rule.validate === undefined || rule.validate.call(request, args) === true;
}

/**
 * What the rules matching `action` grant or deny, in rule order, given which of them apply
 * (`applied(index)` for `rules[index]`); `denials` are those found before the rules.
 */
function outcomeOf(
  action: string,
  rules: readonly CompiledRule[],
  applied: (index: number) => boolean,
  denials: Denial[] | undefined,
): RuleOutcome {
  let escalations: CompiledRule[] | undefined;
  let allows: CompiledRule[] | undefined;
  let unmet: CompiledRule[] | undefined;
  let baseEscalates = false;
  for (let index = 0; index < rules.length; index++) {
    const rule = rules[index]!;
    if (applied(index)) {
      if (rule.effect === 'deny')
        denials = append(denials, { id: rule.id, reason: denyReason(rule, action) });
      else if (rule.effect === 'escalate') {
        escalations = append(escalations, rule);
        if (rule.tenant === null) baseEscalates = true;
      } else allows = append(allows, rule);
    } else if (rule.effect !== 'deny') {
      unmet = append(unmet, rule);
    }
  }
  return { denials, escalations, allows, unmet, baseEscalates };
}

/** @internal A rule set with the decisions its rules make whatever the request. */
interface PreparedSet {
  readonly set: RuleSet;
  /**
   * For each exact action id whose matching rules are all unconditional: the decision when no
   * intent, tenant filter, transition or limit denies (frozen, built once at load time).
   */
  readonly fixed: ReadonlyMap<string, PolicyDecision>;
  /** For each exact action id of the set: what `limitsFor` returns (resolved at load time). */
  readonly limits: ReadonlyMap<string, readonly UsageLimit[]>;
  /** The set has no limit at all: `limitsFor` answers {@link NO_LIMITS} for every action. */
  readonly unlimited: boolean;
  /** Decisions already settled for the other actions, by which matching rules applied (bounded). */
  readonly settled: SettledDecisions<CompiledRule>;
}

/** What the rules matching an action granted or denied. */
interface RuleOutcome {
  readonly denials: readonly Denial[] | undefined;
  readonly escalations: readonly CompiledRule[] | undefined;
  readonly allows: readonly CompiledRule[] | undefined;
  readonly unmet: readonly CompiledRule[] | undefined;
  readonly baseEscalates: boolean;
}

function everyRule(): boolean {
  return true;
}

function isUnconditional(rule: CompiledRule): boolean {
  return rule.provenanceMask === 0 && rule.validate === undefined;
}

/**
 * Precomputes the decisions of `set` for its exact action ids whose rules are all unconditional.
 * A tenant set reuses the base decision object when an action matches the very same rules.
 */
function prepareSet(
  set: RuleSet,
  base: PreparedSet | undefined,
  digest: string,
  usageLimits: UsageLimitTable,
): PreparedSet {
  const limits = new Map<string, readonly UsageLimit[]>();
  for (const [action, matching] of set.limits.exactEntries()) limits.set(action, usageLimits.of(matching));
  const fixed = new Map<string, PolicyDecision>();
  for (const [action, rules] of set.rules.exactEntries()) {
    if (!rules.every(isUnconditional)) continue;
    const shared = base?.fixed.get(action);
    if (shared !== undefined && base !== undefined && sameRules(base.set.rules.lookup(action), rules)) {
      fixed.set(action, shared);
      continue;
    }
    fixed.set(action, settle(action, outcomeOf(action, rules, everyRule, undefined), digest, undefined));
  }
  return { set, fixed, limits, unlimited: set.limits.isEmpty, settled: new SettledDecisions() };
}

function sameRules(left: readonly CompiledRule[], right: readonly CompiledRule[]): boolean {
  if (left.length !== right.length) return false;
  for (let index = 0; index < left.length; index++) if (left[index] !== right[index]) return false;
  return true;
}

/**
 * The decision for `action` once every check has run: deny > escalate > allow > default deny.
 * Shared by the per-call path and the load-time precomputation, so both word decisions alike.
 */
function settle(
  action: string,
  outcome: RuleOutcome,
  digest: string,
  trace: SimulationStep[] | undefined,
): PolicyDecision {
  const { denials, escalations, allows, unmet } = outcome;
  let decision: PolicyDecision;
  if (denials !== undefined) {
    decision = {
      decision: 'DENY',
      rules: denialIds(denials),
      reason: denials[0]!.reason,
      policy: digest,
    };
  } else if (escalations !== undefined && (outcome.baseEscalates || allows !== undefined)) {
    // A tenant's escalation only applies to what the base policy would allow or escalate.
    const first = escalations[0]!;
    decision = {
      decision: 'ESCALATE',
      rules: ruleIds(escalations),
      reason:
        first.reason === undefined
          ? `${quote(action)} requires human approval (${first.id}).`
          : `Human approval required by ${first.id}: ${sentence(first.reason)}`,
      policy: digest,
    };
  } else if (allows !== undefined) {
    const first = allows[0]!;
    decision = {
      decision: 'ALLOW',
      rules: ruleIds(allows),
      reason:
        first.reason === undefined
          ? `${quote(action)} is allowed by ${first.id}.`
          : `Allowed by ${first.id}: ${sentence(first.reason)}`,
      policy: digest,
    };
  } else {
    const reason =
      unmet === undefined
        ? `No rule allows ${quote(action)}; denied by default.`
        : `No rule allows ${quote(action)} for this call (conditions of ${ruleIds(unmet).join(', ')} not met); denied by default.`;
    trace?.push({ rule: 'default', kind: 'default', applied: true, because: reason });
    decision = { decision: 'DENY', rules: DEFAULT_RULES, reason, policy: digest };
  }
  return Object.freeze(decision);
}

const DEFAULT_RULES: readonly string[] = Object.freeze(['default']);

function append<T>(list: T[] | undefined, item: T): T[] {
  if (list === undefined) return [item];
  list.push(item);
  return list;
}

function denialIds(denials: readonly Denial[]): readonly string[] {
  const ids: string[] = [];
  for (const denial of denials) ids.push(denial.id);
  return Object.freeze(ids);
}

function ruleIds(rules: readonly CompiledRule[]): readonly string[] {
  const ids: string[] = [];
  for (const rule of rules) ids.push(rule.id);
  return Object.freeze(ids);
}

function denyReason(rule: CompiledRule, action: string): string {
  if (rule.reason !== undefined) return `Denied by ${rule.id}: ${sentence(rule.reason)}`;
  return rule.origin === 'list'
    ? `${quote(action)} is forbidden by ${rule.id}.`
    : `${quote(action)} is denied by rule ${rule.id}.`;
}

function describeAjvError(validate: ValidateFunction): string {
  const error = validate.errors?.[0];
  if (error === undefined) return 'the schema rejected them';
  const where = error.instancePath === '' ? 'args' : `args${error.instancePath.replace(/\//g, '.')}`;
  if (error.keyword === 'required') {
    return `${where} is missing ${quote(String((error.params as { missingProperty?: unknown }).missingProperty))}`;
  }
  if (error.keyword === PATH_KEYWORD)
    return `${where} ${error.message ?? 'is not a path within the allowed roots'}`;
  if (error.keyword === URL_KEYWORD) return `${where} is not a URL with an allowed scheme and host`;
  if (error.keyword === PROVENANCE_KEYWORD) return `${where} ${PROVENANCE_FAILURE}`;
  return `${where} ${error.message ?? `fails ${error.keyword}`}`;
}

/** Whether `session.calls` can tell how much of `limit` is used: only for a windowless session limit. */
function isJudgedFromCalls(limit: CompiledLimit): boolean {
  return limit.scope === 'session' && limit.windowMs === undefined;
}

/**
 * The uses of `limit` the request reports: `session.usage[limit.id]` when the request carries
 * `usage` (for every limit), otherwise the matching `session.calls` for a windowless session limit.
 * A limit with a window or a wider scope cannot be judged from `session.calls`: it counts as unused
 * here (so only `max_calls: 0` denies) and the runtime enforces it through its usage store.
 * An invalid count counts as infinitely many (fail closed).
 */
function usedOf(limit: CompiledLimit, usage: unknown, calls: unknown): number {
  if (usage !== undefined) {
    if (typeof usage !== 'object' || usage === null) return Number.POSITIVE_INFINITY;
    if (!Object.hasOwn(usage, limit.id)) return 0;
    const count: unknown = (usage as Record<string, unknown>)[limit.id];
    return typeof count === 'number' && Number.isFinite(count) && count >= 0
      ? count
      : Number.POSITIVE_INFINITY;
  }
  return isJudgedFromCalls(limit) ? countCalls(calls, limit.set) : 0;
}

/** `per session`, `per lineage in any 1h window`. */
function limitScopeText(limit: CompiledLimit): string {
  return limit.window === undefined
    ? `per ${limit.scope}`
    : `per ${limit.scope} in any ${limit.window} window`;
}

/**
 * `The session has used 2 of the 3 calls limit l allows`, `The lineage has used 1 of the 1 call limit
 * m allows in the last 1h`: the limit's scope, and its window when it has one.
 */
function usedSentence(limit: CompiledLimit, used: number): string {
  const count = Number.isFinite(used) ? String(used) : 'an invalid number';
  const window = limit.window === undefined ? '' : ` in the last ${limit.window}`;
  return `The ${limit.scope} has used ${count} of the ${callCount(limit.maxCalls)} limit ${limit.id} allows${window}`;
}

/** `1 call`, `3 calls`. */
function callCount(count: number): string {
  return `${count} call${count === 1 ? '' : 's'}`;
}

/** Calls already made of actions in `set`; an invalid count counts as infinitely many (fail closed). */
function countCalls(calls: unknown, set: PatternSet): number {
  if (calls === undefined) return 0;
  if (typeof calls !== 'object' || calls === null) return Number.POSITIVE_INFINITY;
  let total = 0;
  for (const key in calls) {
    if (!Object.hasOwn(calls, key) || !set.has(key)) continue;
    const count: unknown = (calls as Record<string, unknown>)[key];
    if (typeof count !== 'number' || !Number.isFinite(count) || count < 0) return Number.POSITIVE_INFINITY;
    total += count;
  }
  return total;
}

/** @internal Builds the immutable compiled policy. */
export function createCompiledPolicy(parts: PolicyParts): CompiledPolicy {
  return new Policy(parts);
}
