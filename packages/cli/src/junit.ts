/** @internal One test case for a JUnit report. */
export interface JunitCase {
  readonly name: string;
  /** A failed expectation: the message and the details. */
  readonly failure?: { readonly message: string; readonly details: string };
  /** The file could not be run at all (a malformed test file or policy). */
  readonly error?: { readonly message: string; readonly details: string };
}

/** @internal One test file for a JUnit report. */
export interface JunitSuite {
  readonly name: string;
  readonly cases: readonly JunitCase[];
}

/** XML 1.0 cannot carry most control characters, even escaped: they are dropped. */
const XML_INVALID = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

function escapeXml(text: string): string {
  return text
    .replace(XML_INVALID, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/**
 * @internal A JUnit XML report (the dialect CI servers read: `testsuites` > `testsuite` >
 * `testcase` with `failure` or `error`). Every text is escaped; characters XML cannot hold are dropped.
 */
export function junitReport(name: string, suites: readonly JunitSuite[]): string {
  const count = (suite: JunitSuite, kind: 'failure' | 'error'): number =>
    suite.cases.filter((testCase) => testCase[kind] !== undefined).length;
  const total = (kind: 'failure' | 'error'): number =>
    suites.reduce((sum, suite) => sum + count(suite, kind), 0);
  const tests = suites.reduce((sum, suite) => sum + suite.cases.length, 0);
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${escapeXml(name)}" tests="${tests}" failures="${total('failure')}" errors="${total('error')}">`,
  ];
  for (const suite of suites) {
    lines.push(
      `  <testsuite name="${escapeXml(suite.name)}" tests="${suite.cases.length}" failures="${count(suite, 'failure')}" errors="${count(suite, 'error')}">`,
    );
    for (const testCase of suite.cases) {
      const open = `    <testcase name="${escapeXml(testCase.name)}" classname="${escapeXml(suite.name)}"`;
      const problem = testCase.failure ?? testCase.error;
      if (problem === undefined) {
        lines.push(`${open}/>`);
        continue;
      }
      const tag = testCase.failure === undefined ? 'error' : 'failure';
      lines.push(
        `${open}>`,
        `      <${tag} message="${escapeXml(problem.message)}">${escapeXml(problem.details)}</${tag}>`,
        '    </testcase>',
      );
    }
    lines.push('  </testsuite>');
  }
  lines.push('</testsuites>', '');
  return lines.join('\n');
}
