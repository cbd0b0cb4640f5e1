import { compilePolicy } from '@ape/policy';
import { measureSync } from '../harness.js';
import { loadCasbin } from '../peers/casbin.js';
import { loadCedar } from '../peers/cedar.js';
import { measuredRow, type Row, withSpeedups } from '../report.js';
import { speedupTargets, targetAtMost } from '../targets.js';
import {
  argumentConditionCasbin,
  argumentConditionCedar,
  argumentConditionDocument,
  CASBIN_PATH_MODEL,
  CONDITION_PATHS,
  request,
} from '../workloads.js';
import type { BenchCase } from './context.js';
import { caseResult, expectDecisions, rotate } from './shared.js';

const EXPECTED = ['ALLOW', 'DENY'] as const;

/** Case 2: a decision whose rule has a condition on an argument (a path inside the workspace). */
export const argumentConditionCase: BenchCase = {
  id: 'argument-condition',
  number: 2,
  title: 'Decision with an argument condition (path inside /workspace; inside and outside in turn)',
  async run({ settings }) {
    const requests = CONDITION_PATHS.map((path) => request('write_file', { path }));
    const nextRequest = rotate(requests);
    const rows: Row[] = [];
    for (const kind of ['pattern', 'path'] as const) {
      const policy = compilePolicy(argumentConditionDocument(kind));
      expectDecisions(
        `APE (${kind})`,
        requests.map((item) => policy.evaluate(item).decision),
        EXPECTED,
      );
      rows.push(
        measuredRow({
          id: `decision:${kind}:ape`,
          engine: 'ape',
          label:
            kind === 'pattern'
              ? 'policy.evaluate, args pattern ^/workspace/'
              : 'policy.evaluate, x-ape-path root',
          group: 'condition',
          stats: await measureSync(`ape-${kind}`, () => policy.evaluate(nextRequest()), settings, {
            batch: 1000,
          }),
        }),
      );
    }

    const cedar = loadCedar(argumentConditionCedar());
    const cedarCalls = CONDITION_PATHS.map((path) => cedar.prepare('write_file', { path }));
    expectDecisions(
      'Cedar',
      cedarCalls.map((call) => cedar.decide(call)),
      EXPECTED,
    );
    const nextCall = rotate(cedarCalls);
    const cedarStats = await measureSync('cedar', () => cedar.decide(nextCall()), settings, { batch: 10 });

    const casbin = await loadCasbin(CASBIN_PATH_MODEL, argumentConditionCasbin());
    expectDecisions(
      'casbin',
      CONDITION_PATHS.map((path) => (casbin.decide('agent', 'write_file', path) ? 'ALLOW' : 'DENY')),
      EXPECTED,
    );
    const nextPath = rotate(CONDITION_PATHS);
    const casbinStats = await measureSync(
      'casbin',
      () => casbin.decide('agent', 'write_file', nextPath()),
      settings,
      { batch: 100 },
    );
    rows.push(
      measuredRow({
        id: 'decision:cedar',
        engine: 'cedar',
        label: 'statefulIsAuthorized, when { context.path like "/workspace/*" }',
        group: 'condition',
        stats: cedarStats,
      }),
      measuredRow({
        id: 'decision:casbin',
        engine: 'casbin',
        label: 'enforceSync, keyMatch(r.path, "/workspace/*")',
        group: 'condition',
        stats: casbinStats,
      }),
    );
    const measured = withSpeedups(rows);
    const ape = measured.filter((row) => row.engine === 'ape');
    return caseResult(
      argumentConditionCase,
      measured,
      [
        targetAtMost('case2-pattern', 'case 2: APE decision, args pattern (mean)', ape[0], 1),
        targetAtMost('case2-path', 'case 2: APE decision, x-ape-path (mean)', ape[1], 1),
        ...speedupTargets('case2', 'case 2', measured),
      ],
      [
        'The x-ape-path check normalises the path (".." segments, encoded separators) before comparing; the regex, Cedar like and casbin keyMatch do not.',
        'Both APE encodings are compared with the same Cedar and casbin rows.',
      ],
    );
  },
};
