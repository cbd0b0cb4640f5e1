import type { BenchmarkResult, Metrics } from './benchmark.js';

function percent(value: number): string {
  return `${(value * 100).toFixed(1)}%`;
}

function row(cells: readonly string[], widths: readonly number[]): string {
  return cells
    .map((cell, index) => (index === 0 ? cell.padEnd(widths[index]!) : cell.padStart(widths[index]!)))
    .join('  ');
}

const HEADER = [
  'defence',
  'utility',
  'utility under attack',
  'attack success',
  'escalations/task',
  'escalations/attacked run',
];

function cells(name: string, metrics: Metrics): string[] {
  return [
    name,
    percent(metrics.utility),
    percent(metrics.utilityUnderAttack),
    percent(metrics.attackSuccessRate),
    metrics.escalationsPerTask.toFixed(2),
    metrics.escalationsPerAttackedRun.toFixed(2),
  ];
}

/** The results as plain-text tables: overall first, then one table per suite. */
export function formatTables(result: BenchmarkResult): string {
  const sections: string[] = [];
  const table = (title: string, rows: string[][]): void => {
    const all = [HEADER, ...rows];
    const widths = HEADER.map((_, column) =>
      Math.max(...all.map((cellsOfRow) => cellsOfRow[column]!.length)),
    );
    sections.push(
      [title, row(HEADER, widths), ...rows.map((cellsOfRow) => row(cellsOfRow, widths))].join('\n'),
    );
  };
  const runs = result.suites.reduce((sum, suite) => sum + suite.attackedRuns, 0);
  const tasks = result.suites.reduce((sum, suite) => sum + suite.userTasks, 0);
  const injections = result.suites.reduce((sum, suite) => sum + suite.injectionTasks, 0);
  table(
    `Overall: ${result.suites.length} suites, ${tasks} user tasks, ${injections} injection tasks, ${runs} attacked runs`,
    result.defences.map((defence) => cells(defence.title, defence.overall)),
  );
  for (const suite of result.suites) {
    table(
      `${suite.name} (${suite.environment}): ${suite.tools} tools, ${suite.userTasks} user tasks, ${suite.injectionTasks} injection tasks, ${suite.attackedRuns} attacked runs`,
      result.defences.map((defence) => cells(defence.title, defence.bySuite[suite.name]!)),
    );
  }
  return `${sections.join('\n\n')}\n`;
}

/** The results as Markdown tables (the form docs/injection-benchmark.md publishes). */
export function formatMarkdown(result: BenchmarkResult): string {
  const table = (rows: readonly string[][]): string =>
    [
      `| ${HEADER.join(' | ')} |`,
      `| ${HEADER.map((_, index) => (index === 0 ? '---' : '---:')).join(' | ')} |`,
      ...rows.map((cellsOfRow) => `| ${cellsOfRow.join(' | ')} |`),
    ].join('\n');
  const sections = [
    '### Overall',
    '',
    table(result.defences.map((defence) => cells(defence.title, defence.overall))),
  ];
  for (const suite of result.suites) {
    sections.push(
      '',
      `### ${suite.name} (${suite.tools} tools, ${suite.userTasks} user tasks, ${suite.injectionTasks} injection tasks, ${suite.attackedRuns} attacked runs)`,
      '',
      table(result.defences.map((defence) => cells(defence.title, defence.bySuite[suite.name]!))),
    );
  }
  return `${sections.join('\n')}\n`;
}
