#!/usr/bin/env node
// `pnpm run pack:local [directory]`: packs every publishable @ape/* package into a directory
// (default: ape-packages/ in the repository) as publishing would (`pnpm pack` rewrites the
// `workspace:` ranges), then prints the one npm command that installs them in another project.
// This is how to use APE before the packages are on a registry. Run `pnpm run build` first.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const target = resolve(process.env.INIT_CWD ?? process.cwd(), process.argv[2] ?? join(root, 'ape-packages'));

const packages = readdirSync(join(root, 'packages'))
  .map((name) => join(root, 'packages', name))
  .filter((directory) => existsSync(join(directory, 'package.json')))
  .map((directory) => ({
    directory,
    manifest: JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8')),
  }))
  .filter(({ manifest }) => manifest.private !== true && manifest.exports !== undefined);

for (const { directory, manifest } of packages) {
  if (!existsSync(join(directory, 'dist'))) {
    process.stderr.write(`pack:local: ${manifest.name} is not built; run pnpm run build first\n`);
    process.exit(2);
  }
}
rmSync(target, { recursive: true, force: true });
mkdirSync(target, { recursive: true });
// pnpm runs this script with npm_execpath set to itself; run it the same way (it may not be on PATH).
const execpath = process.env.npm_execpath ?? '';
const [pnpm, prefix] = execpath.includes('pnpm') ? [process.execPath, [execpath]] : ['pnpm', []];
// Framework adapters are printed apart: each is installed with its framework, not all three by default.
const ADAPTERS = new Set(['@ape/ai-sdk', '@ape/langchain', '@ape/openai-agents']);
const tarballs = [];
const adapters = [];
for (const { directory, manifest } of packages) {
  const before = new Set(readdirSync(target));
  execFileSync(pnpm, [...prefix, 'pack', '--pack-destination', target], {
    cwd: directory,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const made = readdirSync(target).find((name) => !before.has(name) && name.endsWith('.tgz'));
  if (made === undefined) throw new Error(`pack:local: pnpm pack made no tarball for ${manifest.name}`);
  (ADAPTERS.has(manifest.name) ? adapters : tarballs).push(join(target, made));
}
process.stderr.write(
  `packed ${tarballs.length + adapters.length} packages into ${target}\ninstall them in your project with:\n\n`,
);
process.stdout.write(`npm install ${tarballs.join(' ')}\n`);
process.stderr.write(
  `\nand, for a framework adapter, add its tarball next to its framework (see its page in docs/):\n${adapters.map((file) => `  ${file}`).join('\n')}\n`,
);
