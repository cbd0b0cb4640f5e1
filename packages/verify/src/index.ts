/**
 * @ape/verify — formal verification of APE policies: invariants proved with Z3 (with concrete
 * counterexamples re-checked by the compiled evaluator), a semantic diff of two policies, and model
 * exports for TLA+, Alloy, SMT-LIB 2 and Dafny.
 */
export type { NeverAllowWith, PolicyAssertions } from './assertions.js';
export { loadAssertions, parseAssertions } from './assertions.js';
export type {
  CheckKind,
  CheckResult,
  CheckStatus,
  Counterexample,
  VerificationReport,
  VerifyOptions,
} from './checks.js';
export { verifyPolicy } from './checks.js';
export type { PolicyDiff, PolicyDifference, UndecidedComparison } from './diff.js';
export { diffPolicies } from './diff.js';
export type { Approximation } from './encode.js';
export type { ExportedFile, ExportFormat, SmtQuery } from './exports.js';
export {
  EXPORT_FORMATS,
  exportAlloy,
  exportDafny,
  exportModel,
  exportSmtLib,
  exportTla,
} from './exports.js';
export type { VerifiablePolicy } from './load.js';
export { loadVerifiablePolicy, verifiablePolicyFromDocument } from './load.js';
export type {
  DecisionRow,
  ModelLimit,
  ModelRule,
  ModelTenant,
  ModelTransition,
  PolicyModel,
} from './model.js';
export { createPolicyModel, exportPolicyModel } from './model.js';
export { runSmtScript } from './solver.js';
