import { argumentLabels, type ActionRequest, createLabeled, labelOf } from '@ape/core';
import { compilePolicy } from '@ape/policy';
import { measureSync } from '../harness.js';
import { measuredRow } from '../report.js';
import { targetAtMost } from '../targets.js';
import type { BenchCase } from './context.js';
import { caseResult, expectDecisions, rotate } from './shared.js';

const EXPECTED = ['ALLOW', 'DENY'] as const;

/** The issue-24 policy: e-mail allowed only when the recipient came from the user. */
const DOCUMENT = {
  version: 1,
  name: 'argument-provenance',
  rules: [
    {
      id: 'mail-to-user-recipients',
      actions: ['send_email'],
      effect: 'allow',
      when: {
        args: {
          type: 'object',
          properties: { to: { type: 'string', 'x-ape-provenance': ['SYSTEM_TRUSTED', 'USER_TRUSTED'] } },
        },
      },
    },
  ],
};

/** A send_email whose body is untrusted and whose recipient carries `recipient`, labelled as the runtime does. */
function mail(recipient: 'USER_TRUSTED' | 'EXTERNAL_UNTRUSTED'): ActionRequest {
  const labelled = {
    to: createLabeled('boss@example.com', recipient),
    subject: 'Summary',
    body: createLabeled('The page, summarised.', 'EXTERNAL_UNTRUSTED'),
  };
  return Object.freeze({
    tenant: 'bench',
    action: 'send_email',
    args: Object.freeze({ to: 'boss@example.com', subject: 'Summary', body: 'The page, summarised.' }),
    provenance: labelOf(labelled, 'USER_TRUSTED'),
    argLabels: argumentLabels(labelled, 'USER_TRUSTED')!,
  });
}

/** A decision with one `x-ape-provenance` condition (issue 24): target ≤ 1 µs p50. */
export const argumentProvenanceCase: BenchCase = {
  id: 'argument-provenance',
  title: 'Decision with one x-ape-provenance condition (recipient from the user, then from the page)',
  async run({ settings }) {
    const policy = compilePolicy(DOCUMENT);
    const requests = [mail('USER_TRUSTED'), mail('EXTERNAL_UNTRUSTED')];
    expectDecisions(
      'APE (x-ape-provenance)',
      requests.map((item) => policy.evaluate(item).decision),
      EXPECTED,
    );
    const next = rotate(requests);
    const row = measuredRow({
      id: 'decision:provenance:ape',
      engine: 'ape',
      label: 'policy.evaluate, x-ape-provenance on args.to',
      group: 'condition',
      stats: await measureSync('ape-provenance', () => policy.evaluate(next()), settings, { batch: 1000 }),
    });
    return caseResult(
      argumentProvenanceCase,
      [row],
      [
        targetAtMost(
          'issue24-provenance-p50',
          'issue 24: APE decision, one x-ape-provenance (p50)',
          row,
          1,
          'p50Us',
        ),
      ],
      [
        'The label map is built once per call by the runtime; the decision scans it and counts the leaves of args.to.',
      ],
    );
  },
};
