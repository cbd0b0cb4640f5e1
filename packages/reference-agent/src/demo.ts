import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { createJsonlFileAuditSink, MemoryAuditSink, TeeAuditSink, verifyAuditLog } from '@ape/audit';
import { loadDemoPolicies } from './demo/policies.js';
import { DEMO_SCENARIOS } from './demo/scenarios.js';
import type { DemoContext } from './demo/session.js';
import { createDemoStyle } from './demo/style.js';
import {
  printHeader,
  printScenarioHeading,
  printScenarioOutcome,
  printSummary,
  type ScenarioOutcome,
} from './demo/transcript.js';
import { createWorkspace } from './workspace.js';

/** Options of {@link runDemo}. */
export interface DemoOptions {
  /**
   * Ask a person at the terminal (`ConsoleEscalation` of `@ape/escalation`) for the two escalation
   * scenarios instead of the scripted approver; either answer passes if APE enforces it. Default
   * `false`. The prompt-injection scenario always uses the scripted approver.
   */
  readonly interactive?: boolean;
  /** Where to write the JSON Lines audit log (default: `audit.jsonl` in a fresh temporary directory). */
  readonly auditPath?: string;
  /** Where the transcript goes (default `process.stdout`). */
  readonly output?: Writable;
  /** Colour the transcript with ANSI escapes (default `false`). */
  readonly color?: boolean;
  /**
   * The directory holding the policy files (default: `shippedPoliciesDirectory()`, the copy of the
   * repository's `policies/` this package ships).
   */
  readonly policiesDir?: string;
}

/** How one scenario ended. */
export interface DemoScenarioResult {
  /** A stable id: `allowed-task`, `forbidden-action`, `escalation-approved`, `escalation-denied`, `prompt-injection`, `replayed-token`, `cross-tenant-token`, `lineage-budget`. */
  readonly id: string;
  readonly title: string;
  /** What APE should do, in words. */
  readonly expected: string;
  /** What happened, in words. */
  readonly outcome: string;
  /** Whether the outcome is the expected one. */
  readonly ok: boolean;
  /** Supporting facts: rule ids, error codes, side effects checked. */
  readonly detail: string;
}

/** What {@link runDemo} resolves to. */
export interface DemoReport {
  /** True only if every scenario ended as expected and the audit log verified. */
  readonly ok: boolean;
  readonly scenarios: readonly DemoScenarioResult[];
  /** The audit log file. */
  readonly auditPath: string;
  /** The number of records in the audit log that verified. */
  readonly auditRecords: number;
  /** Whether the audit log's hash chain verified. */
  readonly auditVerified: boolean;
}

/** The files every demo workspace starts with. */
const SEED_FILES: Readonly<Record<string, string>> = Object.freeze({
  '/workspace/notes.txt': 'Standup notes: ship 2.4 on Friday; Dana reviews the release notes.\n',
  '/workspace/old-draft.txt': 'An old draft nobody needs (or does someone?).\n',
  '/workspace/secrets.env': 'API_KEY=sk-demo-0000-not-a-real-key\n',
});

/**
 * Runs the APE demo: eight short scenarios of the reference agent in a fresh temporary workspace,
 * each against one of the policy files (the calls-mode scenario against a demo-only policy built in
 * code), with a scripted approver (or a person at the terminal with
 * `interactive`), writing every event to one hash-chained JSON Lines audit log that is verified at
 * the end. Prints a transcript to `output`. Never touches the network.
 *
 * Resolves to a report whose `ok` is true only if every scenario ended as expected and the audit log
 * verified. A scenario that throws unexpectedly is reported as not ok, with the error in `detail`.
 *
 * @throws PolicyError (`POLICY_INVALID`) when a policy file is missing or invalid.
 * @throws AuditError (`AUDIT_FAILURE`) or AuditLogError (`AUDIT_INVALID`) when the audit log cannot be
 *   opened (for example an existing file that fails verification).
 */
export async function runDemo(options: DemoOptions = {}): Promise<DemoReport> {
  const output = options.output ?? process.stdout;
  const style = createDemoStyle(options.color === true);
  const auditPath = resolve(
    options.auditPath ?? join(mkdtempSync(join(tmpdir(), 'ape-demo-')), 'audit.jsonl'),
  );
  const line = (text = '') => {
    output.write(`${text}\n`);
  };
  const transcript = { style, line };
  // Loaded up front so a broken file fails before anything runs.
  const policies = loadDemoPolicies(options.policiesDir);

  // Durable per close, not per batch: the demo favours speed; close() fsyncs the whole log.
  const file = await createJsonlFileAuditSink(auditPath, { durable: false });
  const memory = new MemoryAuditSink();
  const shared: Omit<DemoContext, 'workspace'> = {
    policies,
    audit: new TeeAuditSink([file, memory]),
    memory,
    interactive: options.interactive === true,
    style,
    line,
  };

  const results: DemoScenarioResult[] = [];
  printHeader(transcript, DEMO_SCENARIOS.length, policies.directory, Object.keys(SEED_FILES));
  try {
    for (const [index, scenario] of DEMO_SCENARIOS.entries()) {
      printScenarioHeading(transcript, index, DEMO_SCENARIOS.length, scenario);
      let outcome: ScenarioOutcome;
      // A fresh workspace per scenario: one scenario's side effects never decide another's outcome.
      const workspace = createWorkspace({ files: SEED_FILES });
      try {
        outcome = await scenario.run({ ...shared, workspace });
      } catch (error) {
        outcome = {
          ok: false,
          outcome: 'the scenario failed',
          detail: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
        };
      } finally {
        workspace.dispose();
      }
      printScenarioOutcome(transcript, scenario.expected, outcome);
      results.push(
        Object.freeze({ id: scenario.id, title: scenario.title, expected: scenario.expected, ...outcome }),
      );
    }
  } finally {
    await shared.audit.close();
  }

  const verification = await verifyAuditLog(auditPath);
  const auditVerified = verification.ok && verification.truncated !== true;
  const passed = results.filter((result) => result.ok).length;
  const problem = verification.message ?? verification.problem;
  printSummary(
    transcript,
    {
      path: auditPath,
      records: verification.records,
      verified: auditVerified,
      ...(problem === undefined ? {} : { problem }),
    },
    passed,
    results.length,
  );
  return Object.freeze({
    ok: passed === results.length && auditVerified,
    scenarios: Object.freeze(results),
    auditPath,
    auditRecords: verification.records,
    auditVerified,
  });
}
