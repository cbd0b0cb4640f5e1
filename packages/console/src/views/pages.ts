import { html, type SafeHtml } from '../html.js';
import type { LoginSession } from '../login-sessions.js';
import { layout, untrusted, untrustedInFull } from './layout.js';

/** @internal The login page (the only page served without a session). */
export function loginPage(problem: string | undefined): SafeHtml {
  return layout(
    'login',
    'Sign in',
    undefined,
    html`${problem === undefined ? '' : html`<p class="error" role="alert">${problem}</p>`}
<form method="post" action="/login" class="login">
<label>Name <input type="text" name="name" autocomplete="username" required maxlength="128"></label>
<label>Secret <input type="password" name="secret" autocomplete="current-password" required maxlength="1024"></label>
<button type="submit">Sign in</button>
</form>
<p class="muted">The secret was printed by <code>ape console</code> when it started, or is configured in its secret file.</p>`,
  );
}

/** @internal A refusal or failure, as a page. */
export function errorPage(session: LoginSession | undefined, title: string, message: string): SafeHtml {
  return layout(
    'error',
    title,
    session,
    html`<p class="error" role="alert">${untrusted(message, 1000)}</p>
<p><a href="/approvals">Back to the approvals</a></p>`,
  );
}

/** @internal One untrusted value in full (the "show all" view). */
export function valuePage(
  session: LoginSession,
  title: string,
  facts: readonly (readonly [string, string])[],
  value: string,
  back: string,
): SafeHtml {
  return layout(
    'value',
    title,
    session,
    html`<dl class="facts">${facts.map(([name, fact]) => html`<dt>${name}</dt><dd>${untrusted(fact)}</dd>`)}</dl>
<p class="muted">${value.length} characters, shown as inert text (controls and bidirectional marks as visible escapes).</p>
${untrustedInFull(value)}
<p><a href="${back}">Back</a></p>`,
  );
}
