import { sha256 } from '@ape/core';

/**
 * The console's only script, served as a file so the Content-Security-Policy can forbid inline
 * script. It adds live updates and nothing else: every page works without it. It never builds
 * markup from data; the pending list it swaps in is server-rendered (and escaped) HTML.
 */
const CONSOLE_SCRIPT = `'use strict';
(function () {
  var page = document.body.getAttribute('data-page');
  if (page !== 'approvals' && page !== 'sessions' && page !== 'audit') return;
  var events = new EventSource('/events');
  function typing() {
    var active = document.activeElement;
    return active !== null && (active.tagName === 'INPUT' || active.tagName === 'SELECT');
  }
  events.addEventListener('approvals', function (event) {
    if (page !== 'approvals') return;
    var section = document.getElementById('pending');
    if (section === null || section.getAttribute('data-ids') === event.data) return;
    fetch('/approvals/pending', { credentials: 'same-origin' }).then(function (response) {
      if (!response.ok) return undefined;
      return response.text();
    }).then(function (text) {
      if (text === undefined) return;
      var fresh = new DOMParser().parseFromString(text, 'text/html').getElementById('pending');
      var current = document.getElementById('pending');
      if (fresh === null || current === null) return;
      var reasons = {};
      var focused = document.activeElement ? document.activeElement.getAttribute('data-reason-for') : null;
      current.querySelectorAll('input[data-reason-for]').forEach(function (input) {
        reasons[input.getAttribute('data-reason-for')] = input.value;
      });
      var adopted = document.adoptNode(fresh);
      current.replaceWith(adopted);
      adopted.querySelectorAll('input[data-reason-for]').forEach(function (input) {
        var id = input.getAttribute('data-reason-for');
        if (Object.prototype.hasOwnProperty.call(reasons, id)) input.value = reasons[id];
        if (id === focused) input.focus();
      });
    });
  });
  events.addEventListener('audit', function () {
    if ((page === 'sessions' || page === 'audit') && !typing()) location.reload();
  });
})();
`;

const CONSOLE_STYLE = `:root { color-scheme: light; font-family: system-ui, sans-serif; font-size: 15px; }
body { margin: 0; background: #f6f7f9; color: #1d2330; }
header { background: #1d2330; color: #fff; padding: 0.6rem 1.2rem; display: flex; align-items: center; gap: 2rem; flex-wrap: wrap; }
header h1 { font-size: 1.1rem; margin: 0; }
nav { display: flex; gap: 1rem; align-items: center; flex: 1; flex-wrap: wrap; }
nav a { color: #cfd8ea; text-decoration: none; }
nav a[aria-current="page"] { color: #fff; font-weight: 600; border-bottom: 2px solid #7aa7ff; }
.who { margin-left: auto; color: #cfd8ea; font-size: 0.9rem; }
form.inline { display: inline; }
main { padding: 1rem 1.2rem; max-width: 1200px; }
h2 { margin-top: 0.2rem; }
.muted { color: #5d6678; }
.untrusted { font-family: ui-monospace, monospace; white-space: pre-wrap; overflow-wrap: anywhere; unicode-bidi: isolate; }
.untrusted.cut { background: #fff4d6; }
pre.full { background: #fff; border: 1px solid #d4d8e0; padding: 0.8rem; max-height: 70vh; overflow: auto; }
article.approval { background: #fff; border: 1px solid #d4d8e0; border-left: 4px solid #e0a100; border-radius: 6px; padding: 0.8rem 1rem; margin-bottom: 1rem; }
article.approval h3 { margin: 0 0 0.5rem; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 0.2rem 1rem; margin: 0 0 0.6rem; }
dl.facts dt { color: #5d6678; }
dl.facts dd { margin: 0; }
table { border-collapse: collapse; width: 100%; background: #fff; margin-bottom: 0.8rem; }
th, td { border: 1px solid #d4d8e0; padding: 0.3rem 0.5rem; text-align: left; vertical-align: top; }
thead th { background: #eef1f6; }
td.value, td.data { max-width: 40rem; }
.label { font-size: 0.8rem; padding: 0.05rem 0.35rem; border-radius: 3px; }
.label-trusted { background: #dff3e4; color: #1b5e2b; }
.label-untrusted { background: #fde2e1; color: #8a1c17; }
form.answer { display: flex; gap: 0.6rem; align-items: center; flex-wrap: wrap; }
form.answer input[name="reason"] { width: 24rem; }
button { font: inherit; padding: 0.3rem 0.8rem; border-radius: 4px; border: 1px solid #9aa3b5; background: #fff; cursor: pointer; }
button.approve { background: #1f7a3a; color: #fff; border-color: #1f7a3a; }
button.deny { background: #b3261e; color: #fff; border-color: #b3261e; }
.status { padding: 0.5rem 0.8rem; border-radius: 6px; margin-bottom: 0.8rem; }
.status p { margin: 0.2rem 0; }
.status-intact, .status-torn { background: #dff3e4; border: 1px solid #9fd3ad; }
.status-tampered, .status-unreadable { background: #fde2e1; border: 1px solid #eba7a3; }
.status-none { background: #eef1f6; }
.checkpoint-bad { color: #8a1c17; }
form.filters { display: flex; flex-wrap: wrap; gap: 0.5rem 1rem; align-items: end; margin-bottom: 0.8rem; }
form.filters label { display: flex; flex-direction: column; font-size: 0.85rem; color: #5d6678; }
.notice { background: #eef4ff; border: 1px solid #b7cbf5; padding: 0.5rem 0.8rem; border-radius: 6px; }
.error { background: #fde2e1; border: 1px solid #eba7a3; padding: 0.5rem 0.8rem; border-radius: 6px; }
.empty { color: #5d6678; font-style: italic; }
form.login { display: grid; gap: 0.6rem; max-width: 22rem; }
form.login input { font: inherit; padding: 0.3rem; }
`;

/** @internal A static file the console serves, with its strong ETag. */
export interface StaticAsset {
  readonly body: string;
  readonly contentType: string;
  readonly etag: string;
}

function asset(body: string, contentType: string): StaticAsset {
  return Object.freeze({ body, contentType, etag: `"${sha256(body).slice(0, 32)}"` });
}

/** @internal The files under `/static/`. */
export const STATIC_ASSETS: ReadonlyMap<string, StaticAsset> = new Map([
  ['console.js', asset(CONSOLE_SCRIPT, 'text/javascript; charset=utf-8')],
  ['console.css', asset(CONSOLE_STYLE, 'text/css; charset=utf-8')],
]);
