import { runEscalationHandlerContract } from '../contracts/escalation-handler-contract.js';
import { createDenyAllEscalationHandler } from './deny-all-escalation-handler.js';

runEscalationHandlerContract('createDenyAllEscalationHandler', () => ({
  handler: createDenyAllEscalationHandler(),
}));
