/**
 * @ape/policy — the APE policy language v1: hardened YAML/JSON loading, a compiled default-deny
 * evaluator, conditions on arguments (JSON Schema with path and URL keywords) and provenance,
 * explain and simulate.
 */
export type {
  LimitDefinition,
  PolicyDefinition,
  PolicyLayer,
  RuleConditions,
  RuleDefinition,
  SourceLocation,
  TenantFilterDefinition,
  TransitionDefinition,
} from './definition.js';
export { formatFinding } from './findings.js';
export { isActionPattern, isGlob as isActionGlob, patternMatches as matchesActionPattern } from './glob.js';
export type { PathKeywordOptions, UrlKeywordOptions } from './keywords.js';
export {
  ANNOTATION_KEYWORDS,
  isPathWithin,
  isUrlAllowed,
  normalisePath,
  PATH_KEYWORD,
  URL_KEYWORD,
} from './keywords.js';
export { DEFAULT_POLICY_LIMITS } from './limits.js';
export { PROVENANCE_KEYWORD } from './provenance-keyword.js';
export { compilePolicy, loadPolicy, validatePolicy } from './load.js';
export type { DataPosition, PolicyData } from './read-data.js';
export { readPolicyData } from './read-data.js';
export { MAX_PATTERN_LENGTH } from './regex-safety.js';
export { MAX_LIMIT_WINDOW_MS } from './window.js';
export type {
  PolicyTestCase,
  PolicyTestExpectation,
  PolicyTestFile,
  PolicyTestRead,
  PolicyTestResult,
} from './policy-tests.js';
export { POLICY_TEST_SESSION_ID, policyTestSchema, readPolicyTests, runPolicyTests } from './policy-tests.js';
export { policySchema } from './schema.js';
export { closestMatch } from './suggest.js';
export type {
  CompiledPolicy,
  ExplainCondition,
  ExplainKind,
  ExplainRow,
  FindingSeverity,
  PolicyFinding,
  PolicyLimits,
  PolicyLoadOptions,
  PolicySource,
  PolicyValidation,
  RuleEffect,
  SimulationResult,
  SimulationStep,
} from './types.js';
