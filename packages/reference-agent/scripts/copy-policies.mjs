#!/usr/bin/env node
// The example policies live once, in the repository's policies/. The published package carries a
// copy in demo-policies/ (gitignored), made here after each build, so an installed
// @ape/reference-agent — and `ape attack`, which reads them through shippedPoliciesDirectory() —
// finds them without the repository.
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageRoot = fileURLToPath(new URL('..', import.meta.url));
const source = join(packageRoot, '..', '..', 'policies');
const target = join(packageRoot, 'demo-policies');

rmSync(target, { recursive: true, force: true });
mkdirSync(target);
const files = readdirSync(source).filter((name) => name.endsWith('.yaml'));
if (files.length === 0) throw new Error(`copy-policies: no .yaml policy in ${source}`);
for (const name of files) copyFileSync(join(source, name), join(target, name));
