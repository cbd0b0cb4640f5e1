import type { PendingApproval, ProvenanceLabel } from '@ape/core';
import { html, inertText, joinHtml, type SafeHtml, valueText } from '../html.js';
import type { LoginSession } from '../login-sessions.js';
import { csrfField, untrusted } from './layout.js';

/** @internal A pending request with what the audit log adds about its session. */
export interface ApprovalItem {
  readonly request: PendingApproval;
  readonly lineage?: string;
  readonly scope?: string;
}

/** @internal A JSON pointer (RFC 6901) token for one property name. */
export function pointerToken(name: string): string {
  return name.replaceAll('~', '~0').replaceAll('/', '~1');
}

/**
 * @internal The labels of one top-level argument: from the request's per-argument labels
 * (`argLabels`, keyed by JSON pointer) when it carries them, the call's label otherwise.
 */
export function argumentLabels(request: PendingApproval, name: string): readonly string[] {
  const argLabels = (request as { readonly argLabels?: unknown }).argLabels;
  if (typeof argLabels !== 'object' || argLabels === null) return [request.provenance];
  const pointer = `/${pointerToken(name)}`;
  const labels = new Set<string>();
  for (const [key, label] of Object.entries(argLabels as Readonly<Record<string, ProvenanceLabel>>)) {
    if ((key === pointer || key.startsWith(`${pointer}/`)) && typeof label === 'string') labels.add(label);
  }
  return labels.size === 0 ? [request.provenance] : [...labels].sort();
}

/** @internal Where the whole value of one argument is shown. */
export function argumentHref(id: string, name: string): string {
  return `/approvals/value?id=${encodeURIComponent(id)}&arg=${encodeURIComponent(name)}`;
}

function waited(milliseconds: number): string {
  const seconds = Math.max(0, Math.floor(milliseconds / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  return minutes < 60
    ? `${minutes} min ${seconds % 60} s`
    : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

function argumentRow(request: PendingApproval, name: string, value: unknown): SafeHtml {
  const shown = inertText(valueText(value));
  const labels = argumentLabels(request, name);
  return html`<tr>
<th scope="row">${untrusted(name)}</th>
<td class="labels">${joinHtml(
    labels.map(
      (label) =>
        html`<span class="label label-${label === 'EXTERNAL_UNTRUSTED' ? 'untrusted' : 'trusted'}">${untrusted(label)}</span>`,
    ),
    ' ',
  )}</td>
<td class="value"><span class="untrusted${shown.cut ? ' cut' : ''}">${shown.text}</span>${
    shown.cut ? html` <a class="show-all" href="${argumentHref(request.id, name)}">show all</a>` : ''
  }</td>
</tr>`;
}

function approvalCard(item: ApprovalItem, session: LoginSession, now: number): SafeHtml {
  const { request } = item;
  const names = Object.keys(request.args).sort();
  return html`<article class="approval" data-id="${request.id}">
<h3><span class="action">${untrusted(request.action)}</span> <span class="muted">step ${request.stepIndex}</span></h3>
<dl class="facts">
<dt>Tenant</dt><dd class="tenant">${untrusted(request.tenant)}</dd>
<dt>Session</dt><dd class="session">${untrusted(request.session)}</dd>
<dt>Lineage</dt><dd>${item.lineage === undefined ? html`<span class="muted">(none recorded)</span>` : untrusted(item.lineage)}</dd>
<dt>Intent scope</dt><dd>${item.scope === undefined ? html`<span class="muted">(not in the audit log)</span>` : untrusted(item.scope)}</dd>
<dt>Escalated by</dt><dd class="rules">${joinHtml(
    request.decision.rules.map((rule) => html`<code>${untrusted(rule)}</code>`),
    ', ',
  )}</dd>
<dt>Reason</dt><dd class="reason">${untrusted(request.decision.reason)}</dd>
<dt>Provenance</dt><dd>${untrusted(request.provenance)}</dd>
<dt>Waiting</dt><dd class="waited">${waited(now - request.createdAt)} (expires ${new Date(request.expiresAt).toISOString()})</dd>
</dl>
<table class="arguments">
<thead><tr><th scope="col">Argument</th><th scope="col">Provenance</th><th scope="col">Value</th></tr></thead>
<tbody>${names.length === 0 ? html`<tr><td colspan="3" class="muted">no arguments</td></tr>` : joinHtml(names.map((name) => argumentRow(request, name, request.args[name])))}</tbody>
</table>
<form method="post" action="/approvals/answer" class="answer">
${csrfField(session)}
<input type="hidden" name="id" value="${request.id}">
<input type="hidden" name="argsHash" value="${request.argsHash}">
<label>Reason <input type="text" name="reason" maxlength="500" autocomplete="off" data-reason-for="${request.id}"></label>
<button type="submit" name="decision" value="approve" class="approve">Approve</button>
<button type="submit" name="decision" value="deny" class="deny">Deny</button>
</form>
</article>`;
}

/** @internal The list of pending requests (also served alone for live updates). */
export function pendingSection(items: readonly ApprovalItem[], session: LoginSession, now: number): SafeHtml {
  return html`<section id="pending" data-ids="${items.map((item) => item.request.id).join(' ')}">${
    items.length === 0
      ? html`<p class="empty">No escalation is waiting for an answer.</p>`
      : joinHtml(items.map((item) => approvalCard(item, session, now)))
  }</section>`;
}

/** @internal The body of the approvals page. */
export function approvalsBody(
  items: readonly ApprovalItem[],
  session: LoginSession,
  now: number,
  notice: SafeHtml | undefined,
  queueConfigured: boolean,
): SafeHtml {
  if (!queueConfigured) {
    return html`<p class="empty">This console answers no approval queue (start it with one to approve here).</p>`;
  }
  return html`${notice ?? ''}<p class="muted">Arguments are shown as inert text: they come from the agent and may be hostile. Your answer is recorded as <strong>${untrusted(session.user.name)}</strong>.</p>
${pendingSection(items, session, now)}`;
}
