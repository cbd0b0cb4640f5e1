import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createJsonlFileAuditSink } from '@ape/audit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConsoleClient, publish, SECRETS, startFixtureConsole } from './__fixtures__/console-client.js';

let work: string;
let log: string;
const servers: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'ape-console-pages-'));
  log = join(work, 'audit.jsonl');
  const sink = await createJsonlFileAuditSink(log, { durable: false });
  const time = Date.parse('2026-03-01T10:00:00Z');
  await sink.append({
    type: 'session.created',
    tenant: 'acme',
    session: 'acme-session',
    time,
    data: { lineage: 'L<1>' },
  });
  await sink.append({
    type: 'intent.set',
    tenant: 'acme',
    session: 'acme-session',
    time,
    data: { scope: 'scope <b>' },
  });
  await sink.append({
    type: 'decision.made',
    tenant: 'acme',
    session: 'acme-session',
    time: time + 1,
    data: {
      action: 'deploy_production',
      decision: 'ESCALATE',
      note: `<img src=x onerror=alert(1)>${'n'.repeat(400)}`,
    },
  });
  await sink.append({
    type: 'decision.made',
    tenant: 'globex',
    session: 'globex-session',
    time: time + 2,
    data: { action: 'read', decision: 'ALLOW' },
  });
  await sink.close();
});

afterAll(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
  rmSync(work, { recursive: true, force: true });
});

async function signedIn(name: keyof typeof SECRETS, file = log) {
  const started = await startFixtureConsole({ audit: { file } });
  servers.push(started.server);
  const client = started.client();
  await client.login(name, SECRETS[name]);
  return { ...started, browser: client };
}

describe('the approvals page', () => {
  it('shows lineage and intent scope from the log, and hostile arguments escaped and cut', async () => {
    const { queue, browser } = await signedIn('alice');
    const id = await publish(queue, 'acme', {
      html: '<script>alert(1)</script>',
      bidi: 'a\u202Eb',
      big: 'B'.repeat(5_000),
    });
    const page = await (await browser.get('/approvals')).text();
    expect(page).toContain('L&lt;1&gt;');
    expect(page).toContain('scope &lt;b&gt;');
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page).not.toContain('<script>alert');
    expect(page).toContain('a\\u202eb');
    expect(page).not.toContain('\u202E');
    expect(page).toContain('… (4800 more characters)');
    expect(page).toContain(`/approvals/value?id=${encodeURIComponent(id)}&amp;arg=big`);
    const full = await (await browser.get(`/approvals/value?id=${encodeURIComponent(id)}&arg=big`)).text();
    expect(full).toContain('B'.repeat(5_000));
    const json = await (await browser.get(`/approvals/value?id=${encodeURIComponent(id)}&arg=html`)).text();
    expect(json).toContain('&lt;script&gt;');
    expect((await browser.get(`/approvals/value?id=${encodeURIComponent(id)}&arg=toString`)).status).toBe(
      404,
    );
  });

  it('says so when no queue is configured, and refuses answers', async () => {
    const { createConsole } = await import('./console.js');
    const { fixtureUsers } = await import('./__fixtures__/console-client.js');
    const server = await createConsole({ users: fixtureUsers(), audit: { file: log } }).listen();
    servers.push(server);
    const browser = new ConsoleClient(server.url);
    await browser.login('root', SECRETS.root);
    expect(await (await browser.get('/approvals')).text()).toContain('answers no approval queue');
    const csrf = /name="csrf" value="([^"]+)"/.exec(await (await browser.get('/sessions')).text())?.[1] ?? '';
    expect((await browser.post('/approvals/answer', { csrf, id: 'x', decision: 'approve' })).status).toBe(
      404,
    );
    expect((await browser.get('/approvals/value?id=x&arg=y')).status).toBe(404);
  });
});

describe('the sessions and audit pages', () => {
  it('lists only the signed-in tenants’ sessions with their state', async () => {
    const { browser } = await signedIn('alice');
    const page = await (await browser.get('/sessions')).text();
    expect(page).toContain('acme-session');
    expect(page).not.toContain('globex-session');
    expect(page).toContain('VERIFIED');
  });

  it('filters records and shows a record in full, only within the tenant scope', async () => {
    const { browser } = await signedIn('bob');
    const page = await (await browser.get('/audit?decision=ALLOW')).text();
    expect(page).toContain('1 matching record');
    expect(page).toContain('globex-session');
    expect(page).not.toContain('acme-session');
    expect((await browser.get('/audit/record?seq=2')).status).toBe(404);
    expect((await browser.get('/audit/record?seq=3')).status).toBe(200);
  });

  it('renders hostile log fields inert, cut with a link to the whole record', async () => {
    const { browser } = await signedIn('root');
    const page = await (await browser.get('/audit?type=decision.made&action=deploy_production')).text();
    expect(page).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(page).not.toContain('<img src=x');
    expect(page).toContain('/audit/record?seq=2');
    const record = await (await browser.get('/audit/record?seq=2')).text();
    expect(record).toContain('n'.repeat(400));
  });

  it('ignores a time filter that is not a date and says so', async () => {
    const { browser } = await signedIn('root');
    const page = await (await browser.get('/audit?from=yesterday&to=2026-03-01T10:00:00.001Z')).text();
    expect(page).toContain('ignored from: not a date');
    expect(page).toContain('3 matching records');
  });

  it('shows a tampered log as TAMPERED', async () => {
    const tampered = join(work, 'tampered.jsonl');
    writeFileSync(tampered, readFileSync(log, 'utf8').replace('"read"', '"rm"'));
    const { browser } = await signedIn('root', tampered);
    const page = await (await browser.get('/audit')).text();
    expect(page).toContain('data-state="tampered"');
    expect(page).toContain('TAMPERED');
  });

  it('says when no audit log is configured', async () => {
    const started = await startFixtureConsole();
    servers.push(started.server);
    const browser = started.client();
    await browser.login('root', SECRETS.root);
    expect(await (await browser.get('/audit')).text()).toContain('No audit log is configured');
    expect(await (await browser.get('/sessions')).text()).toContain('No sessions.');
  });
});
