import { type ActionRequest, type Decision, PROVENANCE_LABELS, type ProvenanceLabel } from '@ape/core';
import type { CompiledPolicy } from '@ape/policy';
import type { PolicyAssertions } from './assertions.js';
import {
  ACTION,
  type Approximation,
  and,
  type Encoding,
  encodePolicies,
  matchesPatterns,
  not,
  or,
  PROVENANCE,
  ruleName,
  scopeCondition,
  scopeName,
  scopesOf,
  TENANT,
} from './encode.js';
import type { VerifiablePolicy } from './load.js';
import { exportPolicyModel, type PolicyModel } from './model.js';
import { sampleAction } from './glob.js';
import { fixRequest, sampleRequests } from './samples.js';
import { openSession, type SmtSession } from './solver.js';
import { smtString } from './smt-text.js';
import { witnessRequest } from './witness.js';

/** What a check concluded. */
export type CheckStatus = 'pass' | 'fail' | 'warning' | 'inconclusive';

/** The kinds of checks {@link verifyPolicy} runs. */
export type CheckKind =
  | 'token_invariant'
  | 'encoding'
  | 'dead_rule'
  | 'tenant_overlay'
  | 'always_deny'
  | 'never_allow_with'
  | 'must_escalate';

/** A concrete request showing a check fails, with what the real evaluator decides for it. */
export interface Counterexample {
  readonly request: ActionRequest;
  /** The decision of the compiled policy (absent when only a model was verified). */
  readonly decision?: Decision;
  /** For tenant checks: the base policy's decision for the same call. */
  readonly baseDecision?: Decision;
  /** Whether the compiled policy confirmed the counterexample; `null` when there was none to ask. */
  readonly confirmed: boolean | null;
}

/** The outcome of one check. */
export interface CheckResult {
  /** Stable id, such as `token-invariant`, `dead-rule:<rule>`, `assert.always_deny[0]`. */
  readonly id: string;
  readonly kind: CheckKind;
  readonly status: CheckStatus;
  /** One sentence: what was proved, or what fails. */
  readonly message: string;
  readonly counterexample?: Counterexample;
  /** For `pass` results of liveness checks: a request on which the rule decides. */
  readonly witness?: ActionRequest;
}

/** The result of {@link verifyPolicy}. */
export interface VerificationReport {
  readonly policy: string;
  readonly digest: string;
  /** False when a check failed or could not be proved (`fail` or `inconclusive`); warnings keep it true. */
  readonly ok: boolean;
  readonly checks: readonly CheckResult[];
  /** Conditions the encoding could not express exactly, and how they were over-approximated. */
  readonly approximations: readonly Approximation[];
}

/** Options of {@link verifyPolicy}. */
export interface VerifyOptions {
  /** User assertions to prove (see {@link loadAssertions}). */
  readonly assertions?: PolicyAssertions;
  /** Number of concrete requests cross-checked between the encoding and the compiled policy (default 12). */
  readonly maxSamples?: number;
  /** Solver timeout per query in milliseconds (default 20000). */
  readonly timeoutMs?: number;
}

const PREFIX = 'p_';
const _DECISIONS: readonly Decision[] = ['ALLOW', 'ESCALATE', 'DENY'];
const PREDICATE: Readonly<Record<Decision, string>> = { ALLOW: 'allow', ESCALATE: 'escalate', DENY: 'deny' };

function isModel(input: VerifiablePolicy | PolicyModel): input is PolicyModel {
  return 'ACTIONS' in input;
}

/** @internal A tenant id without an overlay, for evaluating a call against the base policy. */
export function baseTenant(model: PolicyModel): string {
  let tenant = 'default';
  while (model.tenants.some((entry) => entry.id === tenant)) tenant = `${tenant}_`;
  return tenant;
}

class Checker {
  readonly results: CheckResult[] = [];

  constructor(
    readonly model: PolicyModel,
    readonly policy: CompiledPolicy | undefined,
    readonly encoding: Encoding,
    readonly session: SmtSession,
  ) {}

  async find(
    assertion: string,
    extraTerms: readonly string[] = [],
  ): Promise<
    | { answer: 'unsat' | 'unknown' }
    | { answer: 'sat'; request: ActionRequest; values: ReadonlyMap<string, unknown> }
  > {
    const result = await this.session.check(assertion, [...this.encoding.requestTerms, ...extraTerms]);
    if (result.answer !== 'sat') return { answer: result.answer };
    const raw = witnessRequest(this.encoding, result.values, [{ prefix: PREFIX, model: this.model }]);
    // A tenant without an overlay is the base policy: name it plainly instead of the solver's pick.
    const request = this.model.tenants.some((tenant) => tenant.id === raw.tenant)
      ? raw
      : { ...raw, tenant: baseTenant(this.model) };
    return { answer: 'sat', request, values: result.values };
  }

  /** Rules seen deciding an ALLOW or ESCALATE of the real evaluator: they are not dead. */
  readonly live = new Set<string>();

  evaluate(request: ActionRequest): Decision | undefined {
    if (this.policy === undefined) return undefined;
    const decision = this.policy.evaluate(request);
    if (decision.decision !== 'DENY') for (const rule of decision.rules) this.live.add(rule);
    return decision.decision;
  }

  /**
   * Proves `violation` unsatisfiable; a model is re-checked with the compiled policy (`confirm`).
   * An unconfirmed model means the over-approximation found a call the real policy handles
   * correctly: the property is then not proved (`inconclusive`).
   */
  async prove(
    id: string,
    kind: CheckKind,
    violation: string,
    confirm: (decision: Decision | undefined, request: ActionRequest) => boolean,
    proved: string,
    failed: (request: ActionRequest, decision: Decision | undefined) => string,
    base?: (request: ActionRequest) => Decision | undefined,
  ): Promise<void> {
    let found = await this.find(violation);
    if (
      found.answer === 'sat' &&
      this.policy !== undefined &&
      !confirm(this.evaluate(found.request), found.request)
    ) {
      // The model used an approximated condition where it is inexact: look again where it is exact
      // (case by case, see `exactCases`).
      for (const exactCase of this.encoding.exactCases) {
        const exact = await this.find(and(violation, exactCase));
        if (exact.answer === 'sat') {
          found = exact;
          break;
        }
      }
    }
    if (found.answer !== 'sat') {
      this.results.push(
        found.answer === 'unsat'
          ? { id, kind, status: 'pass', message: proved }
          : { id, kind, status: 'inconclusive', message: `not proved (the solver gave up): ${proved}` },
      );
      return;
    }
    const decision = this.evaluate(found.request);
    const baseDecision = base?.(found.request);
    const confirmed = this.policy === undefined ? null : confirm(decision, found.request);
    const counterexample: Counterexample = {
      request: found.request,
      ...(decision === undefined ? {} : { decision }),
      ...(baseDecision === undefined ? {} : { baseDecision }),
      confirmed,
    };
    this.results.push(
      confirmed === false
        ? {
            id,
            kind,
            status: 'inconclusive',
            message: `not proved: an over-approximated condition admits ${describe(found.request)}, which the policy actually decides ${decision ?? 'DENY'}.`,
            counterexample,
          }
        : { id, kind, status: 'fail', message: failed(found.request, decision), counterexample },
    );
  }
}

function describe(request: ActionRequest): string {
  return `${JSON.stringify(request.action)} by tenant ${JSON.stringify(request.tenant)} with ${request.provenance} input and args ${JSON.stringify(request.args)}`;
}

function provenanceIn(labels: readonly ProvenanceLabel[]): string {
  return or(...labels.map((label) => `(= ${PROVENANCE} ${label})`));
}

/**
 * Proves a policy's invariants with Z3 and reports each check with a counterexample when it fails:
 * - `token-invariant`: no action outside `ALLOW ∪ ESCALATE` (the model's action-level sets) can be
 *   ALLOWed or ESCALATEd, for any tenant, arguments, provenance or session, so none may receive an
 *   authority token;
 * - `encoding`: sampled solver models agree with the compiled evaluator (the encoding is faithful);
 * - `dead-rule:<id>` (warning): an allow or escalate rule every call of which is denied;
 * - `tenant-overlay:<tenant>`: the overlay never permits a call the base policy denies, nor allows
 *   one the base escalates;
 * - `assert.*`: the user's assertions.
 *
 * Every counterexample is re-evaluated with the compiled policy (`confirmed`). Accepts a loaded
 * policy or a bare {@link PolicyModel} (then counterexamples are not re-evaluated).
 *
 * @throws ApeError (`INTERNAL`) when the solver cannot start or rejects the encoding.
 */
export async function verifyPolicy(
  input: VerifiablePolicy | PolicyModel,
  options: VerifyOptions = {},
): Promise<VerificationReport> {
  const model = isModel(input) ? input : exportPolicyModel(input);
  const policy = isModel(input) ? undefined : input.policy;
  const encoding = encodePolicies([{ prefix: PREFIX, model }]);
  const session = await openSession(encoding.preamble, options.timeoutMs);
  try {
    const checker = new Checker(model, policy, encoding, session);
    await tokenInvariant(checker);
    await encodingSamples(checker, options.maxSamples ?? 12);
    await deadRules(checker);
    await tenantOverlays(checker);
    if (options.assertions !== undefined) await assertions(checker, options.assertions);
    const ok = checker.results.every((result) => result.status === 'pass' || result.status === 'warning');
    return {
      policy: model.name,
      digest: model.digest,
      ok,
      checks: checker.results,
      approximations: encoding.approximations,
    };
  } finally {
    session.close();
  }
}

async function tokenInvariant(checker: Checker): Promise<void> {
  const { model } = checker;
  const permitted = [...new Set([...model.ALLOW, ...model.ESCALATE])].sort();
  const outside = not(or(...permitted.map((action) => `(= ${ACTION} ${smtString(action)})`)));
  await checker.prove(
    'token-invariant',
    'token_invariant',
    and(`${PREFIX}permit`, outside),
    (decision) => decision === 'ALLOW' || decision === 'ESCALATE',
    `No action outside ALLOW ∪ ESCALATE (${permitted.length} actions) can be allowed or escalated, so none can receive an authority token.`,
    (request, decision) =>
      `${JSON.stringify(request.action)} is not in ALLOW ∪ ESCALATE but is ${decision ?? 'permitted'} (tenant ${JSON.stringify(request.tenant)}): a glob grants an action nobody named.`,
  );
}

async function encodingSamples(checker: Checker, maxSamples: number): Promise<void> {
  const { model, policy } = checker;
  if (policy === undefined) return;
  const scopes = scopesOf(model);
  const candidates = sampleRequests(model, baseTenant(model));
  for (const request of candidates) checker.evaluate(request);
  // Spread the solver cross-checks over the candidates (deterministically).
  const stride = Math.max(1, Math.floor(candidates.length / Math.max(1, maxSamples)));
  let sampled = 0;
  for (let index = 0; index < candidates.length && sampled < maxSamples; index += stride) {
    const request = candidates[index]!;
    sampled += 1;
    const real = checker.evaluate(request) ?? 'DENY';
    const scope = Math.max(0, scopes.indexOf(request.tenant));
    // Soundness: the encoding must admit the compiled policy's decision for this very request.
    const admitted = await checker.find(
      and(fixRequest(checker.encoding, request), scopeName(PREFIX, scope, PREDICATE[real])),
    );
    if (admitted.answer === 'unsat') {
      checker.results.push({
        id: 'encoding',
        kind: 'encoding',
        status: 'fail',
        message: `the SMT encoding excludes the compiled policy's decision ${real} for ${describe(request)}.`,
        counterexample: { request, decision: real, confirmed: true },
      });
      return;
    }
  }
  checker.results.push({
    id: 'encoding',
    kind: 'encoding',
    status: 'pass',
    message: `the encoding admits the compiled policy's decision on ${sampled} sampled requests.`,
  });
}

async function deadRules(checker: Checker): Promise<void> {
  const { model } = checker;
  const scopes = scopesOf(model);
  const base = baseTenant(model);
  // Cheap concrete calls first: a rule seen deciding needs no solver query.
  for (const rule of model.rules) {
    if (rule.effect === 'deny') continue;
    for (const pattern of rule.actions) {
      for (const provenance of rule.provenance ?? PROVENANCE_LABELS) {
        checker.evaluate({
          tenant: rule.tenant ?? base,
          action: sampleAction(pattern),
          args: {},
          provenance,
        });
      }
    }
  }
  for (const [index, rule] of model.rules.entries()) {
    if (rule.effect === 'deny') continue;
    if (checker.live.has(rule.id)) {
      checker.results.push({
        id: `dead-rule:${rule.id}`,
        kind: 'dead_rule',
        status: 'pass',
        message: `the ${rule.effect} rule ${rule.id} decides some call.`,
      });
      continue;
    }
    const scopeIndexes =
      rule.tenant === null ? scopes.map((_, scopeIndex) => scopeIndex) : [scopes.indexOf(rule.tenant)];
    // Live when some call in some scope has the rule apply and no deny.
    const live = or(
      ...scopeIndexes.map((scopeIndex) => {
        const reaches =
          rule.effect === 'escalate' && rule.tenant !== null
            ? scopeName(PREFIX, scopeIndex, 'allows')
            : 'true';
        return and(
          scopeCondition(model, scopes[scopeIndex]!),
          ruleName(PREFIX, index),
          not(scopeName(PREFIX, scopeIndex, 'denied')),
          reaches,
        );
      }),
    );
    const found = await checker.find(live);
    const id = `dead-rule:${rule.id}`;
    if (found.answer === 'unsat') {
      checker.results.push({
        id,
        kind: 'dead_rule',
        status: 'warning',
        message: `the ${rule.effect} rule ${rule.id} never decides: every call it applies to is denied.`,
      });
    } else {
      checker.results.push({
        id,
        kind: 'dead_rule',
        status: 'pass',
        message:
          found.answer === 'sat'
            ? `the ${rule.effect} rule ${rule.id} applies to some call that is not denied.`
            : `the ${rule.effect} rule ${rule.id} was not shown dead (the solver gave up).`,
        ...(found.answer === 'sat' ? { witness: found.request } : {}),
      });
    }
  }
}

async function tenantOverlays(checker: Checker): Promise<void> {
  const { model } = checker;
  const scopes = scopesOf(model);
  const base = baseTenant(model);
  for (const [index, scope] of scopes.entries()) {
    if (scope === null) continue;
    const widened = or(
      and(scopeName(PREFIX, index, 'permit'), scopeName(PREFIX, 0, 'deny')),
      and(scopeName(PREFIX, index, 'allow'), scopeName(PREFIX, 0, 'escalate')),
    );
    const rank = (decision: Decision | undefined): number =>
      decision === 'ALLOW' ? 2 : decision === 'ESCALATE' ? 1 : 0;
    const baseDecision = (request: ActionRequest): Decision | undefined =>
      checker.evaluate({ ...request, tenant: base });
    await checker.prove(
      `tenant-overlay:${scope}`,
      'tenant_overlay',
      and(`(= ${TENANT} ${smtString(scope)})`, widened),
      (decision, request) => rank(decision) > rank(baseDecision(request)),
      `The overlay of tenant ${scope} never permits more than the base policy.`,
      (request, decision) =>
        `tenant ${scope} gets ${decision ?? 'a more permissive decision'} for ${describe(request)}, which the base policy decides ${baseDecision(request) ?? 'more strictly'}.`,
      baseDecision,
    );
  }
}

async function assertions(checker: Checker, given: PolicyAssertions): Promise<void> {
  for (const [index, pattern] of given.always_deny.entries()) {
    await checker.prove(
      `assert.always_deny[${index}]`,
      'always_deny',
      and(matchesPatterns(ACTION, [pattern]), `${PREFIX}permit`),
      (decision) => decision === 'ALLOW' || decision === 'ESCALATE',
      `Every call of ${pattern} is denied.`,
      (request, decision) =>
        `always_deny ${pattern} fails: ${describe(request)} is ${decision ?? 'permitted'}.`,
    );
  }
  for (const [index, entry] of given.never_allow_with.entries()) {
    await checker.prove(
      `assert.never_allow_with[${index}]`,
      'never_allow_with',
      and(matchesPatterns(ACTION, [entry.action]), provenanceIn(entry.provenance), `${PREFIX}allow`),
      (decision) => decision === 'ALLOW',
      `No call of ${entry.action} with ${entry.provenance.join(' or ')} input is allowed.`,
      (request, decision) =>
        `never_allow_with ${entry.action} / ${entry.provenance.join(', ')} fails: ${describe(request)} is ${decision ?? 'ALLOW'}.`,
    );
  }
  for (const [index, pattern] of given.must_escalate.entries()) {
    await checker.prove(
      `assert.must_escalate[${index}]`,
      'must_escalate',
      and(matchesPatterns(ACTION, [pattern]), `${PREFIX}allow`),
      (decision) => decision === 'ALLOW',
      `No call of ${pattern} is allowed without a human (each escalates or is denied).`,
      (request, decision) =>
        `must_escalate ${pattern} fails: ${describe(request)} is ${decision ?? 'ALLOW'} without escalation.`,
    );
  }
}
