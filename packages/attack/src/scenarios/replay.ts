import type { AuthorityToken } from '@ape/core';
import type { AttackContext, AttackSession } from '../types.js';
import { byUser, family, intentOf, NOTES, presentRead, SECRETS, TOKEN_TAMPERINGS } from './support.js';

/** A session with a two-step read plan (args decided at run time) and a token for step 0. */
async function authorised(
  context: AttackContext,
  options: { sessionId?: string; scope?: string; second?: string } = {},
): Promise<{ session: AttackSession; token: AuthorityToken }> {
  const session = await context.start(
    intentOf(['read_file', 'list_directory'], options.scope),
    { steps: [{ action_id: 'read_file' }, { action_id: options.second ?? 'read_file' }] },
    options.sessionId === undefined ? {} : { sessionId: options.sessionId },
  );
  const token = await session.runtime.authorize(0, byUser(NOTES));
  return { session, token };
}

/** Presents `token` (obtained elsewhere) at `session`'s gate for its step 0, with a fresh authorisation there. */
async function presentAt(
  context: AttackContext,
  session: AttackSession,
  token: AuthorityToken,
): Promise<void> {
  const spy = context.harmful('read_file');
  await session.runtime.authorize(0, byUser(NOTES));
  await session.runtime.gate.execute(token, spy.tool, { index: 0, args: NOTES });
}

/**
 * Obtains a token for step 0 of a fresh session, then presents what `tamper` makes of it at the
 * gate, for step 0 with `args`: the harmful read runs only if the gate accepts it.
 */
async function presentTampered(
  context: AttackContext,
  tamper: (token: AuthorityToken, session: AttackSession) => AuthorityToken | Promise<AuthorityToken>,
  args: Readonly<Record<string, unknown>> = NOTES,
): Promise<undefined> {
  const { session, token } = await authorised(context);
  const presented = await tamper(token, session);
  await session.runtime.gate.execute(presented, context.harmful('read_file').tool, { index: 0, args });
  return undefined;
}

/**
 * Obtains a token in one session, then presents it in a second session on the same authority and
 * clock: with `sessionId`, both sessions share the id; `scope` and `second` (the second step's
 * action) make the second session's intent or plan differ.
 */
async function presentInSecondSession(
  context: AttackContext,
  second: { sessionId?: string; scope?: string; second?: string },
): Promise<undefined> {
  const { session, token } = await authorised(
    context,
    second.sessionId === undefined ? {} : { sessionId: second.sessionId },
  );
  const other = await context.start(
    intentOf(['read_file', 'list_directory'], second.scope),
    { steps: [{ action_id: 'read_file' }, { action_id: second.second ?? 'read_file' }] },
    {
      authority: session.authority,
      clock: session.clock,
      ...(second.sessionId === undefined ? {} : { sessionId: second.sessionId }),
    },
  );
  await presentAt(context, other, token);
  return undefined;
}

/**
 * @internal Authority replay: a token obtained for one call is presented for another — again,
 * copied, forged, late, or in another step, plan, intent, tenant or session.
 */
export const REPLAY_SCENARIOS = family(
  'authority-replay',
  { layer: 'authority', target: 'workspace_files' },
  [
    {
      variant: 'reuse',
      title: 'the token of step 0 is used again for step 1',
      async run(context) {
        const { session, token } = await authorised(context);
        await presentRead(context, session, token, { role: 'harmless', index: 0 });
        await session.runtime.authorize(1, byUser(NOTES));
        await presentRead(context, session, token, { role: 'harmful', index: 1 });
        return undefined;
      },
    },
    ...TOKEN_TAMPERINGS.map(({ variant, title, tamper, args }) => ({
      variant,
      title,
      run: (context: AttackContext) => presentTampered(context, tamper, args),
    })),
    {
      variant: 'other-step',
      title: 'a token of step 0 is presented for step 1 of the same plan',
      async run(context) {
        const { session, token } = await authorised(context, { second: 'list_directory' });
        await presentRead(context, session, token, { role: 'harmless', index: 0 });
        const authority = session.authority;
        const binding = {
          tenant: session.runtime.tenant,
          session: session.runtime.sessionId,
          intentVersion: session.runtime.intentVersion ?? '',
          planHash: session.runtime.planHash ?? '',
          stepIndex: 0,
          action: 'read_file',
          argsHash: '0'.repeat(64),
        };
        const stolen = await authority.issue(binding);
        await authority.consume(stolen, { ...binding, stepIndex: 1 });
        context.harmful('read_file').tool(SECRETS);
        return undefined;
      },
    },
    {
      variant: 'other-session',
      title: "another session's token (same tenant, same authority)",
      run: (context) => presentInSecondSession(context, {}),
    },
    {
      variant: 'other-plan',
      title: 'a token of the same session id under another plan',
      run: (context) =>
        presentInSecondSession(context, { sessionId: 'shared-session', second: 'list_directory' }),
    },
    {
      variant: 'other-intent-version',
      title: 'a token of the same session and plan under another intent',
      run: (context) =>
        presentInSecondSession(context, { sessionId: 'shared-session', scope: 'a different task' }),
    },
    {
      variant: 'other-tenant',
      title: "tenant globex's token presented at tenant acme's gate",
      async run(context) {
        const acme = await context.start(intentOf(['read_file']), {
          steps: [{ action_id: 'read_file' }, { action_id: 'read_file' }],
        });
        const globex = await context.start(
          intentOf(['read_file']),
          { steps: [{ action_id: 'read_file' }, { action_id: 'read_file' }] },
          { tenant: 'globex' },
        );
        const foreign = await globex.runtime.authorize(0, byUser(NOTES));
        await presentAt(context, acme, foreign);
        return undefined;
      },
    },
    {
      variant: 'after-plan-change',
      title: 'a token obtained before the plan was replaced',
      run: (context) =>
        presentTampered(context, async (token, session) => {
          await session.runtime.submitPlan(
            { steps: [{ action_id: 'read_file' }] },
            { provenance: 'USER_TRUSTED' },
          );
          return token;
        }),
      layer: 'runtime',
    },
  ],
);
