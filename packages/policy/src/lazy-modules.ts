import { createRequire } from 'node:module';
import type { Ajv2020 } from 'ajv/dist/2020.js';
import type { RE2JS } from 're2js';

// Two dependencies that cost more start-up time than the rest of the package are loaded on first
// use, synchronously: importing the package, or loading a policy without argument schemas or
// patterns, loads neither.
const load = createRequire(import.meta.url);
let ajvClass: typeof Ajv2020 | undefined;
let re2Class: typeof RE2JS | undefined;

/** @internal ajv's draft 2020-12 class (forty-odd files), for the schemas compiled at load time. */
export function ajv2020(): typeof Ajv2020 {
  ajvClass ??= (load('ajv/dist/2020.js') as typeof import('ajv/dist/2020.js')).Ajv2020;
  return ajvClass;
}

/** @internal The RE2 engine (one 260 KB file), for the first policy pattern. */
export function re2(): typeof RE2JS {
  re2Class ??= (load('re2js') as typeof import('re2js')).RE2JS;
  return re2Class;
}
