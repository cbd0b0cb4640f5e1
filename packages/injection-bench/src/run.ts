import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runBenchmark } from './benchmark.js';
import { allDefences } from './defences.js';
import { formatMarkdown, formatTables } from './report.js';
import { loadSuites } from './suite.js';

/**
 * `pnpm bench:injection [--out <file>] [--suites <directory>] [--markdown]`: runs every suite under
 * every defence, prints the tables (as Markdown with `--markdown`) and writes the JSON (default
 * bench/results/injection.json).
 */
async function main(argv: readonly string[]): Promise<void> {
  const here = dirname(fileURLToPath(import.meta.url));
  const option = (name: string): string | undefined => {
    const index = argv.indexOf(name);
    return index === -1 ? undefined : argv[index + 1];
  };
  const suitesDirectory = resolve(option('--suites') ?? join(here, '..', 'suites'));
  const out = resolve(option('--out') ?? join(here, '..', '..', '..', 'bench', 'results', 'injection.json'));
  const result = await runBenchmark(loadSuites(suitesDirectory), allDefences());
  process.stdout.write(argv.includes('--markdown') ? formatMarkdown(result) : formatTables(result));
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`\nwrote ${out}\n`);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
