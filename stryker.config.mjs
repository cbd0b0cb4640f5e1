// Shared Stryker configuration for `pnpm mutate` (scripts/mutate.mjs runs it once per module, from the
// module's package directory, with `--mutate` and `--incrementalFile` set). See docs/mutation-testing.md.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.config.ts' },
  plugins: ['@stryker-mutator/vitest-runner'],
  // The unit tests import sibling packages through source aliases rooted in this checkout
  // (vitest.base.ts), so a sandbox copy of one package would test the mutated file next to the
  // unmutated original. Mutants are instead applied in place (as switchable schemata) and the files
  // restored when the run ends: do not edit or commit the mutated sources while a run is going.
  inPlace: true,
  // Stryker's default prepends `// @ts-nocheck` to every source file it copies; in place that rewrites
  // the committed files (the generated policy validators, compared byte for byte by a test, among
  // them). vitest strips types without checking them, so nothing needs the directive.
  disableTypeChecks: false,
  coverageAnalysis: 'perTest',
  // Static mutants (module-level constants) would each need the whole suite; they are reported as
  // ignored, not counted in the score.
  ignoreStatic: true,
  incremental: true,
  concurrency: 1,
  timeoutMS: 30_000,
  timeoutFactor: 3,
  reporters: ['clear-text', 'progress-append-only', 'json'],
  // biome-ignore lint/suspicious/noUndeclaredEnvVars: set by scripts/mutate.mjs, never read by a turbo task
  jsonReporter: { fileName: process.env.APE_MUTATE_JSON ?? 'reports/mutation/mutation.json' },
  clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true },
  thresholds: { high: 90, low: 85, break: null },
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
};
