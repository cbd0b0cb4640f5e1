import type { AuditRecord } from '@ape/audit';
import { AUDIT_EVENT_TYPES } from '@ape/core';
import type { AuditFilter, AuditStatus, SessionSummary } from '../audit-log.js';
import { html, inertText, joinHtml, type SafeHtml, valueText } from '../html.js';
import { untrusted } from './layout.js';

/** The most records one page of the audit view lists (the newest that match). */
export const MAX_LISTED_RECORDS = 500;

const DECISIONS = ['ALLOW', 'DENY', 'ESCALATE'] as const;

/** @internal The status line: verification, and the checkpoint when one is configured. */
export function statusBanner(status: AuditStatus | undefined): SafeHtml {
  if (status === undefined) {
    return html`<p class="status status-none">No audit log is configured for this console.</p>`;
  }
  const where =
    status.firstBadLine === undefined
      ? ''
      : ` (first bad line ${status.firstBadLine}${status.firstBadSeq === undefined ? '' : `, seq ${status.firstBadSeq}`})`;
  const label =
    status.state === 'intact'
      ? 'VERIFIED'
      : status.state === 'torn'
        ? 'VERIFIED (TORN TAIL)'
        : status.state === 'tampered'
          ? 'TAMPERED'
          : 'UNREADABLE';
  const checkpoint = status.checkpoint;
  return html`<div class="status status-${status.state}" id="audit-status" data-state="${status.state}">
<p><strong>${label}</strong> ${untrusted(status.message, 400)}${where}</p>
${status.rootHash === undefined ? '' : html`<p class="muted">${status.records} records · Merkle root <code>${status.rootHash}</code></p>`}
${
  checkpoint === undefined
    ? html`<p class="muted">No checkpoint configured: truncation of the tail cannot be detected.</p>`
    : html`<p class="checkpoint checkpoint-${checkpoint.matches === true ? 'ok' : 'bad'}" data-checkpoint="${checkpoint.matches === true ? 'matches' : 'fails'}"><strong>Checkpoint:</strong> ${untrusted(checkpoint.message, 400)}</p>`
}
</div>`;
}

/** @internal The sessions page body. */
export function sessionsBody(status: AuditStatus | undefined, sessions: readonly SessionSummary[]): SafeHtml {
  const rows = sessions.map(
    (summary) => html`<tr data-session="${summary.session}">
<td>${untrusted(summary.tenant)}</td>
<td><a href="/audit?tenant=${encodeURIComponent(summary.tenant)}&amp;session=${encodeURIComponent(summary.session)}">${untrusted(summary.session)}</a></td>
<td class="state state-${summary.state}">${untrusted(summary.state)}</td>
<td>${summary.lineage === undefined ? '' : untrusted(summary.lineage)}</td>
<td>${summary.scope === undefined ? '' : untrusted(summary.scope)}</td>
<td>${summary.records}</td>
<td>${untrusted(summary.firstTs)}</td>
<td>${untrusted(summary.lastTs)}</td>
</tr>`,
  );
  return html`${statusBanner(status)}
<table class="sessions">
<thead><tr><th>Tenant</th><th>Session</th><th>State</th><th>Lineage</th><th>Intent scope</th><th>Records</th><th>First</th><th>Last</th></tr></thead>
<tbody>${rows.length === 0 ? html`<tr><td colspan="8" class="empty">No sessions.</td></tr>` : joinHtml(rows)}</tbody>
</table>`;
}

function option(value: string, selected: string | undefined, label = value): SafeHtml {
  return html`<option value="${value}"${selected === value ? html` selected` : ''}>${label}</option>`;
}

function filterForm(filter: AuditFilter, tenants: readonly string[]): SafeHtml {
  return html`<form method="get" action="/audit" class="filters" id="audit-filters">
<label>Tenant <select name="tenant">${option('', filter.tenant, 'any')}${joinHtml(tenants.map((tenant) => option(tenant, filter.tenant)))}</select></label>
<label>Session <input type="text" name="session" value="${filter.session ?? ''}"></label>
<label>Type <select name="type">${option('', filter.type, 'any')}${joinHtml(AUDIT_EVENT_TYPES.map((type) => option(type, filter.type)))}</select></label>
<label>Action <input type="text" name="action" value="${filter.action ?? ''}"></label>
<label>Decision <select name="decision">${option('', filter.decision, 'any')}${joinHtml(DECISIONS.map((decision) => option(decision, filter.decision)))}</select></label>
<label>From <input type="text" name="from" placeholder="2026-01-01T00:00:00Z" value="${filter.from ?? ''}"></label>
<label>To <input type="text" name="to" placeholder="2026-12-31T23:59:59Z" value="${filter.to ?? ''}"></label>
<button type="submit">Filter</button> <a href="/audit">clear</a>
</form>`;
}

function dataCell(record: AuditRecord): SafeHtml {
  const shown = inertText(valueText(record.data));
  return html`<span class="untrusted${shown.cut ? ' cut' : ''}">${shown.text}</span>${
    shown.cut ? html` <a class="show-all" href="/audit/record?seq=${record.seq}">show all</a>` : ''
  }`;
}

function recordRow(record: AuditRecord): SafeHtml {
  const action = record.data['action'];
  const decision = record.data['decision'] ?? record.data['approver'];
  return html`<tr class="record type-${record.type.replace(/[^a-z.]/g, '')}" data-seq="${record.seq}">
<td><a href="/audit/record?seq=${record.seq}">${record.seq}</a></td>
<td>${untrusted(record.ts)}</td>
<td>${untrusted(record.tenant)}</td>
<td>${untrusted(record.session)}</td>
<td class="type">${untrusted(record.type)}</td>
<td class="action">${typeof action === 'string' ? untrusted(action) : ''}</td>
<td class="decision">${typeof decision === 'string' ? untrusted(decision) : ''}</td>
<td class="data">${dataCell(record)}</td>
</tr>`;
}

/** @internal The audit page body: status, filters, the matching records (newest last). */
export function auditBody(
  status: AuditStatus | undefined,
  filter: AuditFilter,
  tenants: readonly string[],
  matching: readonly AuditRecord[],
  notice: string | undefined,
): SafeHtml {
  const shown = matching.slice(-MAX_LISTED_RECORDS);
  return html`${statusBanner(status)}
${filterForm(filter, tenants)}
${notice === undefined ? '' : html`<p class="notice">${untrusted(notice)}</p>`}
<p class="muted" id="record-count">${matching.length} matching record${matching.length === 1 ? '' : 's'}${matching.length > shown.length ? ` (the last ${shown.length} shown)` : ''}</p>
<table class="records">
<thead><tr><th>Seq</th><th>Time</th><th>Tenant</th><th>Session</th><th>Type</th><th>Action</th><th>Decision / approver</th><th>Data</th></tr></thead>
<tbody>${shown.length === 0 ? html`<tr><td colspan="8" class="empty">No matching records.</td></tr>` : joinHtml(shown.map(recordRow))}</tbody>
</table>`;
}
