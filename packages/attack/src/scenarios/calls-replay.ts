import type { AuthorityToken, CallAuthorization } from '@ape/core';
import type { AttackContext, AttackSession, SessionOptions } from '../types.js';
import { byUser, calls, callsSession, family, NOTES, presentRead, TOKEN_TAMPERINGS } from './support.js';

const READS = ['read_file', 'list_directory'] as const;

/**
 * A calls-mode session of `tenant` (default acme) that has run `before` (list_directory calls of
 * the given paths) and holds an authorisation of a read of the notes.
 */
async function authorisedCall(
  context: AttackContext,
  options: SessionOptions & { readonly before?: readonly string[] } = {},
): Promise<{ session: AttackSession; authorisation: CallAuthorization }> {
  const { before = [], ...sessionOptions } = options;
  const session = await callsSession(context, READS, sessionOptions);
  for (const path of before) {
    await session.runtime.call('list_directory', context.harmless('list_directory').tool, byUser({ path }));
  }
  const authorisation = await session.runtime.authorizeCall('read_file', byUser(NOTES));
  return { session, authorisation };
}

/**
 * Authorises a read of the notes in a fresh calls-mode session, then presents what `tamper` makes
 * of the token for that call with `args`: the harmful read runs only if the gate accepts it.
 */
async function presentTamperedCall(
  context: AttackContext,
  tamper: (token: AuthorityToken, session: AttackSession) => AuthorityToken,
  args: Readonly<Record<string, unknown>> = NOTES,
): Promise<undefined> {
  const { session, authorisation } = await authorisedCall(context);
  await session.runtime.gate.execute(
    tamper(authorisation.token, session),
    context.harmful('read_file').tool,
    {
      index: authorisation.index,
      args,
    },
  );
  return undefined;
}

/**
 * Obtains a token in one calls-mode session (`first`), then presents it at a second session's
 * outstanding authorisation of the same call (`second`) on the same authority and clock.
 */
async function presentInOtherChain(
  context: AttackContext,
  first: SessionOptions & { readonly before?: readonly string[] },
  second: SessionOptions & { readonly before?: readonly string[] },
): Promise<undefined> {
  const stolen = await authorisedCall(context, first);
  const target = await authorisedCall(context, {
    ...second,
    ...(first.tenant === undefined
      ? { authority: stolen.session.authority, clock: stolen.session.clock }
      : {}),
  });
  await presentRead(context, target.session, stolen.authorisation.token, {
    role: 'harmful',
    index: target.authorisation.index,
  });
  return undefined;
}

/**
 * @internal Authority replay in calls mode: a token from `authorizeCall` is presented for another
 * call — again, copied, late, with other arguments, under another chain head, session or tenant.
 */
export const CALLS_REPLAY_SCENARIOS = family(
  'authority-replay',
  { layer: 'authority', target: 'workspace_files' },
  [
    ...calls([
      {
        variant: 'calls-reuse',
        title: 'calls mode: the token of call 0 is used again for call 1',
        async run(context) {
          const { session, authorisation } = await authorisedCall(context);
          await presentRead(context, session, authorisation.token, {
            role: 'harmless',
            index: authorisation.index,
          });
          const next = await session.runtime.authorizeCall('read_file', byUser(NOTES));
          await presentRead(context, session, authorisation.token, { role: 'harmful', index: next.index });
          return undefined;
        },
      },
      ...TOKEN_TAMPERINGS.flatMap(({ variant, callsTitle, tamper, args }) =>
        callsTitle === undefined
          ? []
          : [
              {
                variant: `calls-${variant}`,
                title: callsTitle,
                run: (context: AttackContext) => presentTamperedCall(context, tamper, args),
              },
            ],
      ),
      {
        variant: 'calls-other-chain-head',
        title:
          'calls mode: a token bound to one chain of calls is presented after a different history (same session id)',
        run: (context) =>
          presentInOtherChain(
            context,
            { sessionId: 'shared-session', before: ['/workspace/public'] },
            { sessionId: 'shared-session', before: ['/workspace/private'] },
          ),
      },
      {
        variant: 'calls-other-session',
        title: "calls mode: another session's token (same tenant, same authority)",
        run: (context) => presentInOtherChain(context, {}, {}),
      },
      {
        variant: 'calls-other-tenant',
        title: "calls mode: tenant globex's token presented at tenant acme's gate",
        run: (context) => presentInOtherChain(context, { tenant: 'globex' }, {}),
      },
      {
        variant: 'calls-reauthorised-older-token',
        title: 'calls mode: a read is authorised twice and the older token opens the newer authorisation',
        async run(context) {
          const { session, authorisation } = await authorisedCall(context);
          const newer = await session.runtime.authorizeCall('read_file', byUser(NOTES));
          await presentRead(context, session, authorisation.token, { role: 'harmful', index: newer.index });
          return undefined;
        },
      },
    ]),
    {
      variant: 'reauthorised-older-token',
      title: 'step 0 is authorised twice and the older token is presented (it must be void)',
      async run(context) {
        const session = await context.start(
          { allowed_actions: ['read_file'], forbidden_actions: [], scope: 'attack scenario' },
          { steps: [{ action_id: 'read_file' }] },
        );
        const older = await session.runtime.authorize(0, byUser(NOTES));
        await session.runtime.authorize(0, byUser(NOTES));
        await presentRead(context, session, older, { role: 'harmful', index: 0 });
        return undefined;
      },
    },
  ],
);
