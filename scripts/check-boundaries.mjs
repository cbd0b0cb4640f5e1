#!/usr/bin/env node
// Fails when a package imports a sibling it does not declare, reaches into another package's files,
// or depends on a package of a higher layer. Arrows point down: core ← policy · authority ·
// provenance · audit · escalation · redis ← attack · reference-agent · mcp · ai-sdk · openai-agents ·
// langchain · verify · console ← cli ← bench · injection-bench.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

const LAYERS = {
  core: 0,
  policy: 1,
  authority: 1,
  provenance: 1,
  audit: 1,
  escalation: 1,
  redis: 1,
  attack: 2,
  'reference-agent': 2,
  mcp: 2,
  'ai-sdk': 2,
  'openai-agents': 2,
  langchain: 2,
  verify: 2,
  console: 2,
  cli: 3,
  bench: 4,
  'injection-bench': 4,
};

const root = resolve(import.meta.dirname, '..');
const packagesDir = join(root, 'packages');
const problems = [];
const rootManifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const exportsOf = new Map();
for (const name of readdirSync(packagesDir)) {
  try {
    const m = JSON.parse(readFileSync(join(packagesDir, name, 'package.json'), 'utf8'));
    exportsOf.set(m.name, Object.keys(m.exports ?? {}));
  } catch {}
}

function sourceFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) {
      if (name !== 'node_modules' && name !== 'dist') out.push(...sourceFiles(full));
    } else if (/\.(c|m)?[jt]sx?$/.test(name)) {
      out.push(full);
    }
  }
  return out;
}

/** Module specifiers of every import, export-from, dynamic import and require, as TypeScript's scanner sees them. */
function importsOf(text) {
  return ts.preProcessFile(text, true, true).importedFiles.map((file) => file.fileName);
}

for (const name of readdirSync(packagesDir)) {
  const dir = join(packagesDir, name);
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  } catch {
    continue;
  }
  const short = manifest.name.replace(/^@ape\//, '');
  if (!(short in LAYERS)) {
    problems.push(`${manifest.name}: not assigned to a layer in scripts/check-boundaries.mjs`);
    continue;
  }
  const runtime = {
    ...manifest.dependencies,
    ...manifest.peerDependencies,
    ...manifest.optionalDependencies,
  };
  // Tests may also use the workspace's shared dev tools (vitest, fast-check) declared at the root.
  const declared = { ...runtime, ...manifest.devDependencies, ...rootManifest.devDependencies };
  for (const [dep, range] of Object.entries(runtime)) {
    if (!dep.startsWith('@ape/')) continue;
    const target = dep.slice(5);
    if (!(target in LAYERS)) problems.push(`${manifest.name}: depends on unknown workspace package ${dep}`);
    else if (LAYERS[target] >= LAYERS[short]) {
      problems.push(
        `${manifest.name} (layer ${LAYERS[short]}) depends on ${dep} (layer ${LAYERS[target]}): arrows must point down`,
      );
    }
    if (range !== 'workspace:^' && manifest.private !== true)
      problems.push(`${manifest.name}: runtime dependency ${dep} must use "workspace:^"`);
  }
  for (const [dep, range] of Object.entries(manifest.devDependencies ?? {})) {
    if (dep.startsWith('@ape/') && range !== 'workspace:*') {
      problems.push(`${manifest.name}: dev dependency ${dep} must use "workspace:*"`);
    }
    if (dep.startsWith('@ape/') && LAYERS[dep.slice(5)] > LAYERS[short]) {
      problems.push(`${manifest.name} has a dev dependency on higher-layer ${dep}`);
    }
  }
  const srcDir = join(dir, 'src');
  let files = [];
  try {
    files = sourceFiles(srcDir);
  } catch {
    continue;
  }
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const isTest = /\.test\.[cm]?[jt]sx?$/.test(file) || file.includes(`${sep}__fixtures__${sep}`);
    for (const specifier of importsOf(text)) {
      const where = relative(root, file);
      if (specifier.startsWith('.')) {
        const target = resolve(file, '..', specifier);
        if (!target.startsWith(dir + sep))
          problems.push(`${where}: relative import "${specifier}" leaves the package`);
        continue;
      }
      if (specifier.startsWith('node:')) continue;
      const parts = specifier.split('/');
      const packageName = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
      if (packageName === manifest.name) {
        problems.push(`${where}: imports its own package by name ("${specifier}")`);
        continue;
      }
      // A private package (the benchmarks) is never installed by users: its dev dependencies are enough.
      const allowed = isTest || manifest.private === true ? declared : runtime;
      if (!(packageName in allowed)) {
        problems.push(
          `${where}: imports "${specifier}" but ${manifest.name} does not declare ${packageName}${isTest ? '' : ' as a runtime dependency'}`,
        );
      }
      if (packageName.startsWith('@ape/')) {
        const sub = parts.slice(2).join('/');
        const exported = (exportsOf.get(packageName) ?? []).some(
          (key) =>
            key === `./${sub}` ||
            (key.includes('*') &&
              new RegExp(`^${key.replace(/[.]/g, '\\.').replace('*', '.*')}$`).test(`./${sub}`)),
        );
        if (sub !== '' && !exported) {
          problems.push(`${where}: reaches into ${packageName} internals ("${specifier}")`);
        }
      }
    }
  }
}

if (problems.length > 0) {
  console.error(`Package boundary check failed (${problems.length}):`);
  for (const problem of problems) console.error(`  - ${problem}`);
  process.exit(1);
}
console.log('Package boundaries: ok');
