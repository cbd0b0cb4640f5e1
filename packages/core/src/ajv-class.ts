import { createRequire } from 'node:module';
import type { Ajv2020 } from 'ajv/dist/2020.js';

let ajvClass: typeof Ajv2020 | undefined;

/**
 * @internal ajv's draft 2020-12 class, loaded on first use: importing this package does not load
 * ajv's forty-odd files, which cost more start-up time than the rest of the package. Only code that
 * compiles a schema at run time needs it.
 */
export function ajv2020(): typeof Ajv2020 {
  ajvClass ??= (createRequire(import.meta.url)('ajv/dist/2020.js') as typeof import('ajv/dist/2020.js'))
    .Ajv2020;
  return ajvClass;
}
