import { compilePolicy } from '@ape/policy';
import { measureSync } from '../harness.js';
import { loadCasbin } from '../peers/casbin.js';
import { loadCedar } from '../peers/cedar.js';
import { measuredRow, type Row, withSpeedups } from '../report.js';
import { speedupTargets, targetAtMost } from '../targets.js';
import {
  CASBIN_ACTION_MODEL,
  request,
  THREE_LIST_ACTIONS,
  THREE_LIST_EXPECTED,
  threeListCasbin,
  threeListCedar,
  threeListDocument,
} from '../workloads.js';
import type { BenchCase } from './context.js';
import { caseResult, expectDecisions, rotate } from './shared.js';

/** Case 1: one decision on the seed's three-list policy, cycling allow / deny / escalate / unknown. */
export const threeListCase: BenchCase = {
  id: 'three-list',
  number: 1,
  title: 'Decision on a three-list policy (allow, deny, escalate, unknown in turn)',
  async run({ settings }) {
    const policy = compilePolicy(threeListDocument());
    const requests = THREE_LIST_ACTIONS.map((action) => request(action));
    expectDecisions(
      'APE',
      requests.map((item) => policy.evaluate(item).decision),
      THREE_LIST_EXPECTED,
    );

    const cedar = loadCedar(threeListCedar());
    const cedarCalls = THREE_LIST_ACTIONS.map((action) => cedar.prepare(action));
    expectDecisions(
      'Cedar',
      cedarCalls.map((call) => cedar.decide(call)),
      THREE_LIST_EXPECTED,
    );

    const casbin = await loadCasbin(CASBIN_ACTION_MODEL, threeListCasbin());
    expectDecisions(
      'casbin',
      THREE_LIST_ACTIONS.map((action) => (casbin.decide('agent', action) ? 'ALLOW' : 'DENY')),
      THREE_LIST_EXPECTED.map((decision) => (decision === 'ALLOW' ? 'ALLOW' : 'DENY')),
    );

    const nextRequest = rotate(requests);
    const nextCall = rotate(cedarCalls);
    const nextAction = rotate(THREE_LIST_ACTIONS);
    const rows: Row[] = [
      measuredRow({
        id: 'decision:ape',
        engine: 'ape',
        label: 'policy.evaluate',
        group: 'decision',
        stats: await measureSync('ape', () => policy.evaluate(nextRequest()), settings, { batch: 1000 }),
      }),
      measuredRow({
        id: 'decision:cedar',
        engine: 'cedar',
        label: 'statefulIsAuthorized (pre-parsed)',
        group: 'decision',
        stats: await measureSync('cedar', () => cedar.decide(nextCall()), settings, { batch: 10 }),
      }),
      measuredRow({
        id: 'decision:casbin',
        engine: 'casbin',
        label: 'enforceSync',
        group: 'decision',
        stats: await measureSync('casbin', () => casbin.decide('agent', nextAction()), settings, {
          batch: 100,
        }),
      }),
    ];
    const measured = withSpeedups(rows);
    return caseResult(
      threeListCase,
      measured,
      [
        targetAtMost('case1-decision', 'case 1: APE three-list decision (mean)', measured[0], 0.2),
        ...speedupTargets('case1', 'case 1', measured),
      ],
      [
        'Each sample is the mean of a batch of back-to-back calls (samples×batch); p50/p99 are over batch means.',
        'Cedar: escalation is a permit annotated @ape("escalate"); the host maps it from the determining policies.',
        'casbin: no escalation outcome; escalation entries are encoded as not-allow.',
      ],
    );
  },
};
