import { type Enforcer, newEnforcer, newModelFromString, StringAdapter } from 'casbin';

/** A casbin enforcer asked through `enforceSync` (no adapter I/O on the decision path). */
export interface CasbinEngine {
  /** `true` when casbin allows; casbin has no escalation outcome. */
  decide(...request: string[]): boolean;
}

/** Builds an enforcer from a model text and CSV policy lines, both in memory. */
export async function loadCasbin(model: string, policyLines: string): Promise<CasbinEngine> {
  const enforcer: Enforcer = await newEnforcer(newModelFromString(model), new StringAdapter(policyLines));
  return {
    decide(...request) {
      return enforcer.enforceSync(...request);
    },
  };
}
