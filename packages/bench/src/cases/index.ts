import { adversarialPatternsCase } from './adversarial-patterns.js';
import { aiSdkAdapterCase } from './ai-sdk-adapter.js';
import { argumentConditionCase } from './argument-condition.js';
import { argumentProvenanceCase } from './argument-provenance.js';
import { auditVerifierCase } from './audit-verifier.js';
import { cliColdStartCase } from './cli-cold-start.js';
import type { BenchCase } from './context.js';
import { durableAuditCase } from './durable-audit.js';
import { gatedStepCase } from './gated-step.js';
import { langchainAdapterCase } from './langchain-adapter.js';
import { mcpGatewayCase } from './mcp-gateway.js';
import { openaiAgentsAdapterCase } from './openai-agents-adapter.js';
import { policyDiffCase } from './policy-diff.js';
import { scalingCase } from './scaling.js';
import { sharedStateCase } from './shared-state.js';
import { threeListCase } from './three-list.js';
import { tokensCase } from './tokens.js';

/**
 * Every case, in the order they run. Scaling runs last because its largest APE policy may use
 * whatever is left of the time budget. The report lists cases by number. To add a case, list its
 * module here.
 */
export const CASES: readonly BenchCase[] = [
  threeListCase,
  argumentConditionCase,
  gatedStepCase,
  durableAuditCase,
  auditVerifierCase,
  tokensCase,
  cliColdStartCase,
  mcpGatewayCase,
  aiSdkAdapterCase,
  adversarialPatternsCase,
  sharedStateCase,
  openaiAgentsAdapterCase,
  langchainAdapterCase,
  policyDiffCase,
  argumentProvenanceCase,
  scalingCase,
];
