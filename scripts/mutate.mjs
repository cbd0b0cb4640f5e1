#!/usr/bin/env node
// `pnpm mutate [module...]`: Stryker mutation testing of the security-critical modules, one module at
// a time (each from its package's directory, with the shared stryker.config.mjs). Slow: not part of
// `pnpm test`. Reports land in reports/mutation/<module>.json, incremental state next to them.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The scoped modules: name → package directory and the files mutated there. */
const MODULES = {
  gate: {
    dir: 'packages/core',
    mutate: [
      'src/runtime/gate.ts',
      'src/runtime/decision-stage.ts',
      'src/runtime/prepared-call.ts',
      'src/runtime/claims.ts',
      'src/plain-args.ts',
    ],
  },
  authority: { dir: 'packages/authority', mutate: ['src/*.ts', '!src/*.test.ts', '!src/index.ts'] },
  evaluator: { dir: 'packages/policy', mutate: ['src/evaluator.ts', 'src/settled-decisions.ts'] },
  'policy-conditions': { dir: 'packages/policy', mutate: ['src/keywords.ts', 'src/regex-safety.ts'] },
  'policy-globs': { dir: 'packages/policy', mutate: ['src/glob.ts'] },
  'core-labels': { dir: 'packages/core', mutate: ['src/labels.ts'] },
  provenance: {
    dir: 'packages/provenance',
    mutate: ['src/labels.ts', 'src/derive.ts', 'src/labeled-value.ts'],
  },
  'audit-verify': { dir: 'packages/audit', mutate: ['src/verify.ts'] },
  'audit-text': { dir: 'packages/core', mutate: ['src/runtime/event-text.ts'] },
  'audit-lines': { dir: 'packages/audit', mutate: ['src/line-store.ts'] },
};

const requested = process.argv.slice(2);
const unknown = requested.filter((name) => !(name in MODULES));
if (unknown.length > 0) {
  process.stderr.write(
    `mutate: unknown module ${unknown.join(', ')}; choose from ${Object.keys(MODULES).join(', ')}\n`,
  );
  process.exit(2);
}
const names = requested.length > 0 ? requested : Object.keys(MODULES);
const reports = join(root, 'reports', 'mutation');
mkdirSync(reports, { recursive: true });

let failed = false;
for (const name of names) {
  const module = MODULES[name];
  process.stdout.write(`\n== mutate ${name} (${module.dir}: ${module.mutate.join(', ')})\n`);
  const result = spawnSync(
    process.execPath,
    [
      join(root, 'node_modules', '@stryker-mutator', 'core', 'bin', 'stryker.js'),
      'run',
      join(root, 'stryker.config.mjs'),
      '--mutate',
      module.mutate.join(','),
      '--incrementalFile',
      join(reports, `${name}.incremental.json`),
    ],
    {
      cwd: join(root, module.dir),
      stdio: 'inherit',
      env: { ...process.env, APE_MUTATE_JSON: join(reports, `${name}.json`) },
    },
  );
  if (result.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
