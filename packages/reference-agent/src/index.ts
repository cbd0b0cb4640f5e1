/**
 * `@ape/reference-agent`: a small but complete agent built only on APE's public APIs — the model to
 * copy when wiring APE into your own agent — and the scenarios `ape demo` runs.
 *
 * @packageDocumentation
 */
export type {
  AgentError,
  AgentRunResult,
  ReferenceAgent,
  ReferenceAgentOptions,
  StepRecord,
} from './agent.js';
export { bindArguments, createReferenceAgent } from './agent.js';
export type { ReferenceCallsAgentOptions } from './calls-agent.js';
export { createReferenceCallsAgent, DEFAULT_MAX_CALLS } from './calls-agent.js';
export type { DemoOptions, DemoReport, DemoScenarioResult } from './demo.js';
export { runDemo } from './demo.js';
export { DEMO_SCENARIO_IDS } from './demo/scenarios.js';
export { shippedPoliciesDirectory } from './shipped-policies.js';
export type {
  AgentPlan,
  AgentStep,
  AgentTask,
  CallHistoryEntry,
  CallPlanner,
  OutputReference,
  Planner,
  PlannerResult,
  PlanningContext,
} from './planner.js';
export { checkAgentPlan, checkAgentStep, MAX_MATCH_PATTERN_LENGTH, toRuntimePlan } from './planner.js';
export type { PlannerRule, RuleBasedPlannerOptions } from './rule-based-planner.js';
export { DEFAULT_PLANNER_RULES, RuleBasedPlanner } from './rule-based-planner.js';
export type { ToolDescription, ToolRegistry } from './tool-registry.js';
export { createToolRegistry } from './tool-registry.js';
export type { AgentTool, AgentToolDefinition, JsonSchema } from './tools/agent-tool.js';
export { defineAgentTool } from './tools/agent-tool.js';
export type {
  DeleteFileOutput,
  FilesystemTools,
  ListDirectoryOutput,
  ReadFileOutput,
  WriteFileOutput,
} from './tools/filesystem-tools.js';
export { createFilesystemTools } from './tools/filesystem-tools.js';
export type { Deployment, RecordingTools, SentEmail, SideEffectLog } from './tools/recording-tools.js';
export { createRecordingTools } from './tools/recording-tools.js';
export type { CannedPage, FetchUrlOutput, FetchUrlToolOptions } from './tools/web-tools.js';
export {
  ATTACKER_ADDRESS,
  createFetchUrlTool,
  DEMO_PAGES,
  HOUSEKEEPING_URL,
  RELEASE_NOTES_URL,
} from './tools/web-tools.js';
export type { Workspace, WorkspaceOptions } from './workspace.js';
export { createWorkspace, WORKSPACE_ROOT } from './workspace.js';
