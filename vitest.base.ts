import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = dirname(fileURLToPath(import.meta.url));

/**
 * Unit tests run against the sources of sibling packages, so a change in @ape/core is seen by
 * @ape/policy's tests without a rebuild. The published shape is tested separately (test-e2e/).
 */
function sourceAliases(): Record<string, string> {
  const aliases: Record<string, string> = {};
  for (const name of readdirSync(join(root, 'packages'))) {
    aliases[`@ape/${name}/testing`] = join(root, 'packages', name, 'src', 'testing', 'index.ts');
    if (name === 'core') {
      aliases['@ape/core/terminal-text'] = join(root, 'packages', name, 'src', 'terminal-text.ts');
      aliases['@ape/core/contracts'] = join(root, 'packages', name, 'src', 'contracts', 'index.ts');
      aliases['@ape/core/adapter'] = join(root, 'packages', name, 'src', 'adapter', 'index.ts');
    }
    aliases[`@ape/${name}`] = join(root, 'packages', name, 'src', 'index.ts');
  }
  return aliases;
}

/** The packages whose guarantees the rest rely on: the strict coverage tier. */
const STRICT_TIER = new Set([
  '@ape/core',
  '@ape/policy',
  '@ape/authority',
  '@ape/audit',
  '@ape/provenance',
  '@ape/escalation',
]);

/** Coverage floors by tier, in percent. The one place that sets them (CONTRIBUTING.md, "Coverage"). */
export const COVERAGE_TIERS = {
  strict: { lines: 95, branches: 92 },
  published: { lines: 90, branches: 85 },
} as const;

/**
 * Packages measured below their tier when the gate was turned on, each held at its measured floor
 * (rounded down) so coverage cannot fall further while tests are added. Remove an entry once the
 * package reaches its tier; never add one for a new package (CONTRIBUTING.md, "Coverage").
 */
// Empty since 2026-11-30: every published package meets its tier.
const COVERAGE_BASELINES: Readonly<Record<string, { lines: number; branches: number; measured: string }>> =
  {};

/**
 * Files left out of coverage, each with its reason (also listed in CONTRIBUTING.md). Tests, fixtures
 * and the port contract suites that `@ape/core/contracts` ships are test code, not code under test; a
 * process entry point only wires `process` to a function that the unit tests call directly, and is
 * exercised as a subprocess by test-e2e/.
 */
const COVERAGE_EXCLUDE = [
  'src/**/*.test.ts',
  'src/**/__fixtures__/**',
  'src/bin.ts', // @ape/cli: `runCli` is unit-tested; the bin itself runs in test-e2e/cli
  'src/launcher.ts', // @ape/cli: the installed `ape` entry; what it calls is unit-tested, it runs in test-e2e/cli
  'src/contracts/*-contract.ts', // @ape/core/contracts: test suites (describe/it) run by each implementer
];

/**
 * The coverage floor of the package in `dir`: the strict tier for the core guarantees, the published
 * tier for every other published package, none for `private: true` packages (benchmarks); a package
 * listed in `COVERAGE_BASELINES` is held at its recorded floor instead.
 */
export function coverageThresholds(dir: string): { lines: number; branches: number } | undefined {
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
    name: string;
    private?: boolean;
  };
  if (manifest.private === true) return undefined;
  const baseline = COVERAGE_BASELINES[manifest.name];
  if (baseline !== undefined) return { lines: baseline.lines, branches: baseline.branches };
  return STRICT_TIER.has(manifest.name) ? COVERAGE_TIERS.strict : COVERAGE_TIERS.published;
}

/**
 * The unit-test configuration of every package. Coverage is measured when vitest runs with
 * `--coverage` (the root `test:unit` does): a summary in the log, and the run fails below the
 * package's floor.
 */
export function baseVitestConfig() {
  const thresholds = coverageThresholds(process.cwd());
  return defineConfig({
    resolve: { alias: sourceAliases() },
    test: {
      include: ['src/**/*.test.ts'],
      environment: 'node',
      testTimeout: 120_000,
      hookTimeout: 120_000,
      coverage: {
        provider: 'v8',
        include: ['src/**/*.ts'],
        exclude: COVERAGE_EXCLUDE,
        reporter: ['text-summary'],
        ...(thresholds === undefined ? {} : { thresholds }),
      },
    },
  });
}
