import { bankingEnvironment } from './banking.js';
import { chatEnvironment } from './chat.js';
import type { Environment } from './environment.js';
import { travelEnvironment } from './travel.js';
import { workspaceEnvironment } from './workspace.js';

/** Every environment a suite can name, by id. Adding one is the only code a new domain needs. */
export const ENVIRONMENTS: ReadonlyMap<string, Environment> = new Map(
  [workspaceEnvironment, bankingEnvironment, chatEnvironment, travelEnvironment].map((environment) => [
    environment.id,
    environment,
  ]),
);
