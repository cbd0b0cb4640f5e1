import {
  APPROVAL_BINDING_FIELDS,
  type ApprovalBinding,
  type ApprovalQueue,
  type Clock,
  type PendingApproval,
} from '@ape/core';
import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { streamSSE } from 'hono/streaming';
import { type AuditFilter, type AuditReader, filterRecords, summarizeSessions } from './audit-log.js';
import { isOwnHost, isOwnOrigin, SAFE_METHODS, SECURITY_HEADERS } from './guards.js';
import { html, type SafeHtml } from './html.js';
import { csrfTokenMatches, type LoginSession, type LoginSessions } from './login-sessions.js';
import type { LoginThrottle } from './login-throttle.js';
import { verifySecret } from './secret.js';
import { STATIC_ASSETS } from './static-assets.js';
import type { CheckedUser } from './users.js';
import { type ApprovalItem, approvalsBody, pendingSection } from './views/approvals.js';
import { auditBody, sessionsBody } from './views/audit.js';
import { layout, untrusted } from './views/layout.js';
import { errorPage, loginPage, valuePage } from './views/pages.js';

/** The name of the login cookie. */
export const SESSION_COOKIE = 'ape_console_session';

const MAX_BODY_BYTES = 64 * 1024;
const MAX_REASON_LENGTH = 500;
const FILTER_FIELDS = ['tenant', 'session', 'type', 'action', 'decision', 'from', 'to'] as const;

/** @internal What the routes need. */
export interface ConsoleAppParts {
  readonly queue: ApprovalQueue | undefined;
  readonly audit: AuditReader | undefined;
  readonly users: ReadonlyMap<string, CheckedUser>;
  readonly logins: LoginSessions;
  readonly throttle: LoginThrottle;
  readonly clock: Clock;
  /** The `host:port` names the console answers to; empty until it listens (nothing is served). */
  readonly allowedHosts: () => ReadonlySet<string>;
  readonly secureCookies: boolean;
  readonly pollIntervalMs: number;
  /** Aborts when the console closes: live-update streams end. */
  readonly closing: AbortSignal;
}

type Variables = { login: LoginSession };
type ConsoleContext = Context<{ Variables: Variables }>;

function page(
  context: ConsoleContext,
  body: SafeHtml,
  status: 200 | 400 | 401 | 403 | 404 | 409 | 429 | 503 = 200,
) {
  return context.html(body.markup, status);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function bindingOf(request: PendingApproval): ApprovalBinding {
  const binding: Record<string, unknown> = {};
  for (const field of APPROVAL_BINDING_FIELDS) binding[field] = request[field];
  return binding as unknown as ApprovalBinding;
}

/** The pending requests this user may see, oldest first. */
async function visiblePending(queue: ApprovalQueue, user: CheckedUser): Promise<PendingApproval[]> {
  if (user.tenants === '*') return [...(await queue.list())];
  const lists = await Promise.all(user.tenants.map((tenant) => queue.list({ tenant })));
  return lists
    .flat()
    .filter((request) => user.sees(request.tenant))
    .sort((left, right) => left.createdAt - right.createdAt);
}

function formText(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function normalizedInstant(value: string): string | undefined {
  const time = Date.parse(value);
  return Number.isNaN(time) ? undefined : new Date(time).toISOString();
}

/** @internal The console's routes; the host wraps them in a server (see `createConsole`). */
export function createConsoleApp(parts: ConsoleAppParts): Hono<{ Variables: Variables }> {
  const app = new Hono<{ Variables: Variables }>();

  app.use('*', async (context, next) => {
    const hosts = parts.allowedHosts();
    if (!isOwnHost(context.req.header('host'), hosts)) {
      return context.text('refused: this console does not answer to that Host', 403, SECURITY_HEADERS);
    }
    if (!SAFE_METHODS.has(context.req.method) && !isOwnOrigin(context.req.header('origin'), hosts)) {
      return context.text(
        'refused: cross-origin request (the Origin header must be this console)',
        403,
        SECURITY_HEADERS,
      );
    }
    await next();
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) context.res.headers.set(name, value);
  });
  app.use(
    '*',
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: (context) => context.text('refused: body too large', 413),
    }),
  );

  app.get('/static/:name', (context) => {
    const asset = STATIC_ASSETS.get(context.req.param('name'));
    if (asset === undefined) return context.text('not found', 404);
    if (context.req.header('if-none-match') === asset.etag) return context.body(null, 304);
    return context.body(asset.body, 200, { 'Content-Type': asset.contentType, ETag: asset.etag });
  });

  app.get('/login', (context) => {
    if (parts.logins.find(getCookie(context, SESSION_COOKIE)) !== undefined)
      return context.redirect('/approvals', 303);
    return page(context as ConsoleContext, loginPage(undefined));
  });

  app.post('/login', async (context) => {
    const form = await context.req.parseBody();
    const name = formText(form['name']) ?? '';
    const secret = formText(form['secret']) ?? '';
    const wait = parts.throttle.retryAfter(name);
    if (wait > 0) {
      return page(
        context as ConsoleContext,
        loginPage(`Too many failed sign-ins for this name: try again in ${Math.ceil(wait / 1000)} s.`),
        429,
      );
    }
    const user = parts.users.get(name);
    // Hash even for an unknown name, so the answer time does not tell which names exist.
    const hash = user?.hash ?? parts.users.values().next().value?.hash;
    const valid = hash !== undefined && secret.length <= 1024 && (await verifySecret(secret, hash));
    if (user === undefined || !valid) {
      parts.throttle.failed(name);
      return page(context as ConsoleContext, loginPage('Wrong name or secret.'), 401);
    }
    parts.throttle.succeeded(name);
    parts.logins.close(getCookie(context, SESSION_COOKIE));
    const { token } = parts.logins.open(user);
    setCookie(context, SESSION_COOKIE, token, {
      httpOnly: true,
      sameSite: 'Strict',
      path: '/',
      secure: parts.secureCookies,
    });
    return context.redirect('/approvals', 303);
  });

  // Everything below needs a login.
  app.use('*', async (context, next) => {
    const login = parts.logins.find(getCookie(context, SESSION_COOKIE));
    if (login === undefined) {
      if (SAFE_METHODS.has(context.req.method) && context.req.path !== '/events')
        return context.redirect('/login', 303);
      return context.text('refused: sign in first', 401);
    }
    context.set('login', login);
    if (!SAFE_METHODS.has(context.req.method)) {
      const form = await context.req.parseBody();
      if (!csrfTokenMatches(login, form['csrf'])) {
        return page(
          context,
          errorPage(
            login,
            'Refused',
            'refused: the form is stale or forged (CSRF token mismatch); reload the page and try again',
          ),
          403,
        );
      }
    }
    await next();
  });

  app.get('/', (context) => context.redirect('/approvals', 303));

  app.post('/logout', (context) => {
    parts.logins.close(getCookie(context, SESSION_COOKIE));
    deleteCookie(context, SESSION_COOKIE, { path: '/', secure: parts.secureCookies });
    return context.redirect('/login', 303);
  });

  async function approvalItems(user: CheckedUser): Promise<ApprovalItem[]> {
    if (parts.queue === undefined) return [];
    const pending = await visiblePending(parts.queue, user);
    const sessions =
      parts.audit === undefined ? [] : summarizeSessions((await parts.audit.snapshot()).records);
    const byKey = new Map(sessions.map((summary) => [`${summary.tenant}\u0000${summary.session}`, summary]));
    return pending.map((request) => {
      const summary = byKey.get(`${request.tenant}\u0000${request.session}`);
      return {
        request,
        ...(summary?.lineage === undefined ? {} : { lineage: summary.lineage }),
        ...(summary?.scope === undefined ? {} : { scope: summary.scope }),
      };
    });
  }

  async function approvalsPage(
    context: ConsoleContext,
    notice: SafeHtml | undefined,
    status: 200 | 400 | 404 | 409 | 503 = 200,
  ) {
    const login = context.get('login');
    let items: ApprovalItem[];
    try {
      items = await approvalItems(login.user);
    } catch (error) {
      return page(
        context,
        errorPage(login, 'Approvals', `the approval queue failed: ${describe(error)}`),
        503,
      );
    }
    const body = approvalsBody(items, login, parts.clock.now(), notice, parts.queue !== undefined);
    return page(context, layout('approvals', 'Approvals', login, body), status);
  }

  app.get('/approvals', (context) => {
    const answered = context.req.query('answered');
    const id = context.req.query('id');
    const notice =
      (answered === 'approved' || answered === 'denied') && id !== undefined
        ? html`<p class="notice" role="status" id="answer-notice">You ${answered} ${untrusted(id)}.</p>`
        : undefined;
    return approvalsPage(context, notice);
  });

  app.get('/approvals/pending', async (context) => {
    const login = context.get('login');
    try {
      return context.html(pendingSection(await approvalItems(login.user), login, parts.clock.now()).markup);
    } catch (error) {
      return context.text(`the approval queue failed: ${describe(error)}`, 503);
    }
  });

  app.get('/approvals/value', async (context) => {
    const login = context.get('login');
    const id = context.req.query('id') ?? '';
    const name = context.req.query('arg') ?? '';
    const record = parts.queue === undefined ? undefined : await parts.queue.get(id).catch(() => undefined);
    if (
      record === undefined ||
      !login.user.sees(record.request.tenant) ||
      !Object.hasOwn(record.request.args, name)
    ) {
      return page(
        context,
        errorPage(login, 'Not found', 'no such request or argument (or it is not yours to see)'),
        404,
      );
    }
    const value = record.request.args[name];
    const text = typeof value === 'string' ? value : (JSON.stringify(value, null, 2) ?? String(value));
    return page(
      context,
      valuePage(
        login,
        'Argument',
        [
          ['Request', record.request.id],
          ['Action', record.request.action],
          ['Argument', name],
        ],
        text,
        '/approvals',
      ),
    );
  });

  app.post('/approvals/answer', async (context) => {
    const login = context.get('login');
    const form = await context.req.parseBody();
    const id = formText(form['id']) ?? '';
    const decision = formText(form['decision']);
    const reason = (formText(form['reason']) ?? '').trim().slice(0, MAX_REASON_LENGTH);
    const refuse = (status: 400 | 404 | 409 | 503, message: string) =>
      approvalsPage(
        context,
        html`<p class="error" role="alert" id="answer-notice">${untrusted(message, 1000)}</p>`,
        status,
      );
    if (decision !== 'approve' && decision !== 'deny')
      return refuse(400, 'refused: the decision must be approve or deny');
    if (parts.queue === undefined) return refuse(404, 'this console answers no approval queue');
    try {
      const record = await parts.queue.get(id);
      if (record === undefined || !login.user.sees(record.request.tenant)) {
        return refuse(
          404,
          `no pending request ${id} (unknown, expired and forgotten, or not yours to answer)`,
        );
      }
      if (formText(form['argsHash']) !== record.request.argsHash) {
        return refuse(409, 'refused: the request differs from the one shown; reload and look again');
      }
      const result = await parts.queue.answer(id, {
        approved: decision === 'approve',
        approver: login.user.name,
        provenance: 'USER_TRUSTED',
        ...(reason === '' ? {} : { reason }),
        binding: bindingOf(record.request),
      });
      if (!result.ok) {
        const settlement = result.settlement;
        const why =
          settlement === undefined
            ? result.reason
            : settlement.state === 'answered'
              ? `it was already ${settlement.approved ? 'approved' : 'denied'} by ${settlement.approver}`
              : `it already ended (${settlement.state})`;
        return refuse(409, `your answer did not count: ${why}`);
      }
    } catch (error) {
      return refuse(503, `the approval queue failed, nothing was answered: ${describe(error)}`);
    }
    const answered = decision === 'approve' ? 'approved' : 'denied';
    return context.redirect(`/approvals?answered=${answered}&id=${encodeURIComponent(id)}`, 303);
  });

  function auditFilter(context: ConsoleContext): { filter: AuditFilter; notice: string | undefined } {
    const filter: Record<string, string> = {};
    const ignored: string[] = [];
    for (const field of FILTER_FIELDS) {
      const value = context.req.query(field)?.trim();
      if (value === undefined || value === '') continue;
      if (field === 'from' || field === 'to') {
        const instant = normalizedInstant(value);
        if (instant === undefined) ignored.push(field);
        else filter[field] = instant;
        continue;
      }
      filter[field] = value;
    }
    return {
      filter,
      notice:
        ignored.length === 0
          ? undefined
          : `ignored ${ignored.join(' and ')}: not a date (use 2026-01-31T12:00:00Z)`,
    };
  }

  app.get('/sessions', async (context) => {
    const login = context.get('login');
    const snapshot = await parts.audit?.snapshot();
    const visible =
      snapshot === undefined ? [] : snapshot.records.filter((record) => login.user.sees(record.tenant));
    return page(
      context,
      layout('sessions', 'Sessions', login, sessionsBody(snapshot?.status, summarizeSessions(visible))),
    );
  });

  app.get('/audit', async (context) => {
    const login = context.get('login');
    const snapshot = await parts.audit?.snapshot();
    const visible =
      snapshot === undefined ? [] : snapshot.records.filter((record) => login.user.sees(record.tenant));
    const tenants = [...new Set(visible.map((record) => record.tenant))].sort();
    const { filter, notice } = auditFilter(context);
    const body = auditBody(snapshot?.status, filter, tenants, filterRecords(visible, filter), notice);
    return page(context, layout('audit', 'Audit log', login, body));
  });

  app.get('/audit/record', async (context) => {
    const login = context.get('login');
    const seq = Number(context.req.query('seq'));
    const snapshot = await parts.audit?.snapshot();
    const record = snapshot?.records.find((candidate) => candidate.seq === seq);
    if (record === undefined || !login.user.sees(record.tenant)) {
      return page(context, errorPage(login, 'Not found', 'no such record (or it is not yours to see)'), 404);
    }
    return page(
      context,
      valuePage(
        login,
        `Record ${record.seq}`,
        [
          ['Tenant', record.tenant],
          ['Session', record.session],
          ['Type', record.type],
        ],
        JSON.stringify(record, null, 2),
        '/audit',
      ),
    );
  });

  app.get('/events', (context) => {
    const login = context.get('login');
    return streamSSE(context, async (stream) => {
      let lastIds: string | undefined;
      let lastAudit: string | undefined;
      let stopped = false;
      stream.onAbort(() => {
        stopped = true;
      });
      const stop = () => {
        stopped = true;
        stream.abort();
      };
      parts.closing.addEventListener('abort', stop, { once: true });
      try {
        while (!stopped && !parts.closing.aborted && login.expiresAt > parts.clock.now()) {
          if (parts.queue !== undefined) {
            const ids = await visiblePending(parts.queue, login.user).then(
              (pending) => pending.map((request) => request.id).join(' '),
              () => lastIds,
            );
            if (ids !== undefined && ids !== lastIds) {
              lastIds = ids;
              await stream.writeSSE({ event: 'approvals', data: ids });
            }
          }
          if (parts.audit !== undefined) {
            const version = await parts.audit.version();
            if (lastAudit !== undefined && version !== lastAudit)
              await stream.writeSSE({ event: 'audit', data: 'changed' });
            lastAudit = version;
          }
          await stream.sleep(parts.pollIntervalMs);
        }
      } finally {
        parts.closing.removeEventListener('abort', stop);
      }
    });
  });

  app.notFound((context) => context.text('not found', 404));
  app.onError((error, context) => context.text(`the console failed: ${describe(error)}`, 500));
  return app;
}
