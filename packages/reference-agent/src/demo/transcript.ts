import type { AuditRecord } from '@ape/audit';
import type { AgentRunResult, StepRecord } from '../agent.js';
import type { DemoStyle } from './style.js';

/** @internal Where the transcript goes, and how it is styled. */
export interface Transcript {
  readonly style: DemoStyle;
  line(text?: string): void;
}

/** @internal How a scenario ended, in the words the transcript and the report use. */
export interface ScenarioOutcome {
  readonly ok: boolean;
  readonly outcome: string;
  readonly detail: string;
}

function summariseArgs(args: Readonly<Record<string, unknown>>): string {
  const shown: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(args)) {
    shown[name] = typeof value === 'string' && value.length > 40 ? `${value.slice(0, 37)}...` : value;
  }
  return JSON.stringify(shown);
}

/**
 * @internal Prints one step in two lines: what the agent tried (and, when the arguments are
 * untrusted, where they came from), then what APE decided, by which rules, and what happened.
 * `sessionRecords` are the audit records of the step's session so far.
 */
export function printStep(
  transcript: Transcript,
  sessionRecords: readonly AuditRecord[],
  record: StepRecord,
): void {
  const { style } = transcript;
  const records = sessionRecords.filter((entry) => entry.data['stepIndex'] === record.index);
  const decision = records.filter((entry) => entry.type === 'decision.made').at(-1);
  const verdict = typeof decision?.data['decision'] === 'string' ? decision.data['decision'] : 'REFUSED';
  const rules = (decision?.data['rules'] as readonly string[] | undefined) ?? record.error?.rules ?? [];
  const taint =
    record.provenance === 'EXTERNAL_UNTRUSTED'
      ? style.yellow(
          ` ← ${record.provenance}${record.sources.length > 0 ? ` from ${record.sources.join(', ')}` : ''}`,
        )
      : '';
  transcript.line(`    ${style.bold(record.action)} ${style.dim(summariseArgs(record.args))}${taint}`);

  const painted =
    verdict === 'ALLOW'
      ? style.green(verdict)
      : verdict === 'ESCALATE'
        ? style.yellow(verdict)
        : style.red(verdict);
  let text = `      ${painted}${rules.length > 0 ? ` [${rules.join(', ')}]` : ''}`;
  if (verdict === 'ESCALATE') {
    const approval = records.find((entry) => entry.type === 'escalation.approved');
    if (approval !== undefined) {
      const reason = typeof approval.data['reason'] === 'string' ? ` (${approval.data['reason']})` : '';
      text += ` → ${style.green('approved')} by ${String(approval.data['approver'])}${reason}`;
    }
  } else if (verdict === 'DENY' && typeof decision?.data['reason'] === 'string') {
    text += `: ${decision.data['reason']}`;
  }
  if (record.outcome === 'executed') {
    text += ` → ${style.green('ran')}`;
  } else if (record.error !== undefined) {
    const denial = records.find((entry) => entry.type === 'escalation.denied');
    const why = typeof denial?.data['reason'] === 'string' ? denial.data['reason'] : record.error.message;
    text += verdict === 'DENY' ? ` (${record.error.code})` : ` → ${style.red(record.error.code)}: ${why}`;
  }
  transcript.line(text);
}

/** @internal Prints why a task was refused before or between its steps, if it was. */
export function printTaskError(transcript: Transcript, result: AgentRunResult): void {
  if (result.error === undefined) return;
  const rules = result.error.rules.length > 0 ? ` [${result.error.rules.join(', ')}]` : '';
  transcript.line(`    ${transcript.style.red(result.error.code)}${rules}: ${result.error.message}`);
}

/** @internal The transcript's opening lines. */
export function printHeader(
  transcript: Transcript,
  scenarios: number,
  policiesDirectory: string,
  seedFiles: readonly string[],
): void {
  const { style } = transcript;
  transcript.line(style.bold(`APE demo: ${scenarios} scenarios of the reference agent`));
  transcript.line(style.dim(`policies ${policiesDirectory}`));
  transcript.line(
    style.dim(`each scenario runs in a fresh temporary /workspace holding ${seedFiles.join(', ')}`),
  );
}

/** @internal The heading of scenario `index` (0-based) of `total`. */
export function printScenarioHeading(
  transcript: Transcript,
  index: number,
  total: number,
  scenario: { readonly title: string; readonly policy: string },
): void {
  const { style } = transcript;
  transcript.line();
  transcript.line(
    `${style.bold(`[${index + 1}/${total}] ${scenario.title}`)} ${style.dim(`(${scenario.policy})`)}`,
  );
}

/** @internal What a scenario was expected to do, and what it did. */
export function printScenarioOutcome(
  transcript: Transcript,
  expected: string,
  outcome: ScenarioOutcome,
): void {
  const { style } = transcript;
  const mark = outcome.ok ? style.green('✔') : style.red('✘');
  transcript.line(`  ${mark} expected: ${expected}`);
  transcript.line(`    got: ${outcome.outcome} ${style.dim(`(${outcome.detail})`)}`);
}

/** @internal The closing lines: the audit log's verification, its path, and the verdict. */
export function printSummary(
  transcript: Transcript,
  audit: {
    readonly path: string;
    readonly records: number;
    readonly verified: boolean;
    readonly problem?: string;
  },
  passed: number,
  total: number,
): void {
  const { style } = transcript;
  const ok = passed === total && audit.verified;
  transcript.line();
  transcript.line(
    `${audit.verified ? style.green('✔') : style.red('✘')} audit log: ${audit.records} records, hash chain ${audit.verified ? 'verified' : `NOT verified (${audit.problem ?? 'unknown problem'})`}`,
  );
  transcript.line(`  ${audit.path}`);
  transcript.line(
    ok
      ? style.green(style.bold(`All ${total} scenarios ended as expected.`))
      : style.red(style.bold(`${total - passed} of ${total} scenarios did not end as expected.`)),
  );
}
