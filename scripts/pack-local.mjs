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
const tarballs = [];
for (const { directory, manifest } of packages) {
  const before = new Set(readdirSync(target));
  execFileSync('pnpm', ['pack', '--pack-destination', target], {
    cwd: directory,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const made = readdirSync(target).find((name) => !before.has(name) && name.endsWith('.tgz'));
  if (made === undefined) throw new Error(`pack:local: pnpm pack made no tarball for ${manifest.name}`);
  tarballs.push(join(target, made));
}
process.stderr.write(
  `packed ${tarballs.length} packages into ${target}\ninstall them in your project with:\n\n`,
);
process.stdout.write(`npm install ${tarballs.join(' ')}\n`);
