import { html, inertText, joinHtml, type SafeHtml } from '../html.js';
import type { LoginSession } from '../login-sessions.js';

/** @internal The pages of the console, for the navigation bar. */
export type ConsolePage = 'approvals' | 'sessions' | 'audit' | 'login' | 'value' | 'error';

const NAVIGATION: readonly { readonly page: ConsolePage; readonly href: string; readonly label: string }[] = [
  { page: 'approvals', href: '/approvals', label: 'Approvals' },
  { page: 'sessions', href: '/sessions', label: 'Sessions' },
  { page: 'audit', href: '/audit', label: 'Audit log' },
];

/** @internal Untrusted text as an inert `<span>`, cut to `maxLength` with the cut marked. */
export function untrusted(value: string, maxLength?: number): SafeHtml {
  const shown = inertText(value, maxLength);
  return html`<span class="untrusted${shown.cut ? ' cut' : ''}">${shown.text}</span>`;
}

/** @internal Untrusted text in full, one `<pre>` line per line of the value (controls still escaped). */
export function untrustedInFull(value: string): SafeHtml {
  const lines = value.split('\n').map((line) => inertText(line, Number.POSITIVE_INFINITY).text);
  return html`<pre class="untrusted full">${lines.join('\n')}</pre>`;
}

/** @internal The hidden CSRF field every state-changing form carries. */
export function csrfField(session: LoginSession): SafeHtml {
  return html`<input type="hidden" name="csrf" value="${session.csrfToken}">`;
}

/** @internal A whole page: strict CSP applies, so only the static script and style are loaded. */
export function layout(
  page: ConsolePage,
  title: string,
  session: LoginSession | undefined,
  body: SafeHtml,
): SafeHtml {
  const navigation =
    session === undefined
      ? html``
      : html`<nav>${joinHtml(
          NAVIGATION.map(
            (item) =>
              html`<a href="${item.href}"${item.page === page ? html` aria-current="page"` : ''}>${item.label}</a>`,
          ),
        )}<span class="who">signed in as <strong>${untrusted(session.user.name)}</strong>
          (${session.user.tenants === '*' ? 'every tenant' : `tenants: ${session.user.tenants.join(', ')}`})</span>
        <form method="post" action="/logout" class="inline">${csrfField(session)}<button type="submit">Sign out</button></form></nav>`;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · APE console</title>
<link rel="stylesheet" href="/static/console.css">
<script src="/static/console.js" defer></script>
</head>
<body data-page="${page}">
<header><h1>APE console</h1>${navigation}</header>
<main>
<h2>${title}</h2>
${body}
</main>
</body>
</html>
`;
}
