import { apeDefences } from './ape-defence.js';
import { type Defence, noDefence, toolFilterDefence } from './defence.js';

/** The rows of the results table, in order. */
export function allDefences(): readonly Defence[] {
  return [noDefence, toolFilterDefence, ...apeDefences()];
}
