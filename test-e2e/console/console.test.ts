import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createJsonlFileAuditSink, generateNoteKeyPair, type JsonlFileAuditSink } from '@ape/audit';
import { AuthorityManager } from '@ape/authority';
import { type ConsoleServer, createConsole, hashConsoleSecret } from '@ape/console';
import {
  ApeError,
  type ApprovalQueue,
  createInMemoryApprovalQueue,
  createInMemoryUsageStore,
  createRuntime,
} from '@ape/core';
import { ApprovalQueueEscalation } from '@ape/escalation';
import { compilePolicy } from '@ape/policy';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { launchChromium } from './browser.js';

// The console in a real Chromium: a real runtime in this process escalates through an in-memory
// ApprovalQueue; a person signs in, sees the request arrive live, approves or denies it, and reads
// the audit log the runtime writes. Screenshots go to docs/console/ when APE_CONSOLE_SCREENSHOTS=1.

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SECRETS = {
  root: 'root-secret-0123456789',
  alice: 'alice-secret-0123456789',
  bob: 'bob-secret-0123456789',
};
const HOSTILE = {
  script: '<script>window.__pwned = "script"</script>',
  image: '<img src=x onerror="window.__pwned = \'img\'">',
  link: 'javascript:window.__pwned = "link"',
  bidi: 'invoice\u202Egpj.exe\u202C',
  big: `${'A'.repeat(1_000_000)}END`,
};

const policy = compilePolicy({
  version: 1,
  name: 'console-e2e',
  allowed_actions: ['read_file'],
  escalation_required: ['deploy_production', 'send_report'],
});

let work: string;
let auditFile: string;
let checkpointFile: string;
let sink: JsonlFileAuditSink;
let queue: ApprovalQueue;
const usage = createInMemoryUsageStore();
let server: ConsoleServer;
let browser: Browser;
const screenshots =
  process.env['APE_CONSOLE_SCREENSHOTS'] === '1' ? join(root, 'docs', 'console') : undefined;

async function shoot(page: Page, name: string, fullPage = true): Promise<void> {
  const directory = screenshots ?? join(work, 'screenshots');
  mkdirSync(directory, { recursive: true });
  await page.screenshot({ path: join(directory, `${name}.png`), fullPage });
}

/** A runtime session of `tenant` whose step 0 is `action` with `args`, escalated to the queue. */
async function agentSession(tenant: string, action: string, args: Record<string, unknown>) {
  const runtime = createRuntime({
    tenant,
    policy,
    authority: new AuthorityManager({ tenant }),
    audit: sink,
    escalation: new ApprovalQueueEscalation({ queue, timeoutMs: 120_000 }),
    lineage: `${tenant}-release-train`,
    usage,
  });
  await runtime.setIntent(
    { allowed_actions: [action, 'read_file'], forbidden_actions: [], scope: `ship the ${tenant} release` },
    { provenance: 'USER_TRUSTED' },
  );
  await runtime.submitPlan({ steps: [{ action_id: action, args }] }, { provenance: 'USER_TRUSTED' });
  let ranAt: number | undefined;
  const tool = vi.fn(() => {
    ranAt = performance.now();
    return 'done';
  });
  const step = runtime.executeStep(0, tool, { args, provenance: 'EXTERNAL_UNTRUSTED' });
  step.catch(() => undefined);
  return { runtime, tool, step, ranAt: () => ranAt };
}

async function signIn(name: keyof typeof SECRETS): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${server.url}login`);
  await page.fill('input[name="name"]', name);
  await page.fill('input[name="secret"]', SECRETS[name]);
  await Promise.all([page.waitForURL(/\/approvals$/), page.click('button[type="submit"]')]);
  return { context, page };
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return ApeError.isInstance(error) ? error.code : String(error);
  }
  return 'resolved';
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'ape-console-e2e-'));
  auditFile = join(work, 'audit.jsonl');
  checkpointFile = join(work, 'audit.checkpoint');
  const keys = generateNoteKeyPair('console-e2e');
  sink = await createJsonlFileAuditSink(auditFile, {
    durable: false,
    checkpoint: { key: keys.signerKey, path: checkpointFile, every: 1, intervalMs: 10 },
  });
  queue = createInMemoryApprovalQueue();
  server = await createConsole({
    users: [
      { name: 'root', secretHash: hashConsoleSecret(SECRETS.root), tenants: '*' },
      { name: 'alice', secretHash: hashConsoleSecret(SECRETS.alice), tenants: ['acme'] },
      { name: 'bob', secretHash: hashConsoleSecret(SECRETS.bob), tenants: ['globex'] },
    ],
    queue,
    audit: { file: auditFile, checkpoint: { file: checkpointFile, key: keys.verifierKey } },
    pollIntervalMs: 50,
  }).listen();
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await sink?.close();
  rmSync(work, { recursive: true, force: true });
});

describe('the console in Chromium', () => {
  it('shows the login page, and refuses a wrong secret', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(server.url);
    expect(page.url()).toBe(`${server.url}login`);
    await shoot(page, 'login');
    await page.fill('input[name="name"]', 'alice');
    await page.fill('input[name="secret"]', 'wrong-secret-0123456789');
    await page.click('button[type="submit"]');
    await expect.poll(() => page.textContent('.error')).toContain('Wrong name or secret');
    await context.close();
  });

  it('shows a pending escalation live, approves it, and the agent runs its tool', async () => {
    const { context, page } = await signIn('alice');
    await expect.poll(() => page.textContent('#pending')).toContain('No escalation is waiting');
    const agent = await agentSession('acme', 'deploy_production', { target: 'production', version: '1.2.0' });
    // No reload: the request arrives over server-sent events.
    const card = page.locator('article.approval', { hasText: 'deploy_production' });
    await card.waitFor();
    expect(await card.locator('.tenant').textContent()).toBe('acme');
    expect(await card.locator('.rules').textContent()).toContain('escalation_required[0]');
    expect(await card.textContent()).toContain('ship the acme release');
    expect(await card.textContent()).toContain('acme-release-train');
    expect(await card.locator('.labels').first().textContent()).toContain('EXTERNAL_UNTRUSTED');
    await shoot(page, 'approvals');
    expect(agent.tool).not.toHaveBeenCalled();
    await card.locator('input[name="reason"]').fill('release 1.2 checked');
    const clickedAt = performance.now();
    await card.locator('button.approve').click();
    expect(await agent.step).toMatchObject({ value: 'done' });
    const resumeMs = (agent.ranAt() ?? Number.NaN) - clickedAt;
    console.info(`[console e2e] the agent's tool ran ${resumeMs.toFixed(1)} ms after the Approve click`);
    expect(agent.tool).toHaveBeenCalledTimes(1);
    expect(agent.runtime.state).toBe('EXECUTING');
    await expect.poll(() => page.textContent('#answer-notice')).toContain('You approved');
    await sink.flush();
    const approved = readFileSync(auditFile, 'utf8')
      .split('\n')
      .filter((line) => line.includes('"escalation.approved"'));
    expect(approved.join('\n')).toContain('"approver":"alice"');
    await context.close();
  });

  it('denies another with a reason, and the session terminates without running the tool', async () => {
    const { context, page } = await signIn('alice');
    const agent = await agentSession('acme', 'send_report', { to: 'board@acme.example' });
    const card = page.locator('article.approval', { hasText: 'send_report' });
    await card.waitFor();
    await card.locator('input[name="reason"]').fill('not to the board');
    await card.locator('button.deny').click();
    expect(await codeOf(agent.step)).toBe('ESCALATION_DENIED');
    expect(agent.tool).not.toHaveBeenCalled();
    expect(agent.runtime.state).toBe('TERMINATED');
    await sink.flush();
    await page.goto(`${server.url}sessions`);
    const row = page.locator('tr', { hasText: agent.runtime.sessionId });
    await expect.poll(() => row.locator('.state').textContent()).toBe('TERMINATED');
    await shoot(page, 'sessions');
    await context.close();
  });

  it('filters the audit view by type, decision and action, with the verification and checkpoint status', async () => {
    const { context, page } = await signIn('root');
    await sink.flush();
    await vi.waitFor(() => expect(readFileSync(checkpointFile, 'utf8')).toContain('console-e2e'));
    await page.goto(`${server.url}audit`);
    expect(await page.getAttribute('#audit-status', 'data-state')).toBe('intact');
    expect(await page.textContent('#audit-status')).toContain('VERIFIED');
    await page.selectOption('select[name="type"]', 'escalation.denied');
    await Promise.all([
      page.waitForURL(/type=escalation.denied/),
      page.click('#audit-filters button[type="submit"]'),
    ]);
    const types = await page.locator('tbody .type').allTextContents();
    expect(types.length).toBeGreaterThan(0);
    expect(new Set(types)).toEqual(new Set(['escalation.denied']));
    await page.goto(`${server.url}audit?type=decision.made&decision=ESCALATE&action=deploy_production`);
    const actions = await page.locator('tbody .action').allTextContents();
    expect(actions).toEqual(['deploy_production']);
    expect(await page.locator('tbody .decision').allTextContents()).toEqual(['ESCALATE']);
    expect(await page.getAttribute('.checkpoint', 'data-checkpoint')).toBe('matches');
    await shoot(page, 'audit');
    await page.goto(`${server.url}audit?to=2000-01-01T00:00:00Z`);
    expect(await page.textContent('#record-count')).toContain('0 matching records');
    await page.goto(`${server.url}audit?tenant=acme`);
    expect(await page.getAttribute('.checkpoint', 'data-checkpoint')).toBe('matches');
    await context.close();
  });

  it('renders hostile arguments inert, cut, with a way to see all of them', async () => {
    const { context, page } = await signIn('root');
    const dialogs: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    const agent = await agentSession('acme', 'deploy_production', HOSTILE);
    const card = page.locator('article.approval', { hasText: 'deploy_production' });
    await card.waitFor();
    expect(await page.evaluate(() => (window as { __pwned?: unknown }).__pwned)).toBeUndefined();
    expect(await card.locator('img, script, iframe, a[href^="javascript"]').count()).toBe(0);
    const text = (await card.textContent()) ?? '';
    expect(text).toContain(HOSTILE.script);
    expect(text).toContain(HOSTILE.image);
    expect(text).toContain(HOSTILE.link);
    expect(text).toContain('invoice\\u202egpj.exe\\u202c');
    expect(text).not.toContain('\u202E');
    expect(text.length).toBeLessThan(10_000);
    const big = card.locator('tr', { hasText: 'big' });
    expect(await big.locator('.value .untrusted').textContent()).toMatch(
      /^A{1,200}… \(\d+ more characters\)$/,
    );
    await shoot(page, 'approvals-hostile');
    await Promise.all([page.waitForURL(/\/approvals\/value/), big.locator('a.show-all').click()]);
    const full = (await page.textContent('pre.full')) ?? '';
    expect(full.length).toBe(HOSTILE.big.length);
    expect(full.endsWith('END')).toBe(true);
    await shoot(page, 'show-all', false);
    await page.goBack();
    await page.locator('article.approval button.deny').click();
    expect(await codeOf(agent.step)).toBe('ESCALATION_DENIED');
    expect(agent.tool).not.toHaveBeenCalled();
    expect(dialogs).toEqual([]);
    expect(await page.evaluate(() => (window as { __pwned?: unknown }).__pwned)).toBeUndefined();
    await context.close();
  });

  it('refuses a wrong CSRF token, a request without a session, and a cross-origin form', async () => {
    const agent = await agentSession('acme', 'deploy_production', { target: 'staging' });
    const [pending] = await vi.waitFor(async () => {
      const list = await queue.list({ tenant: 'acme' });
      expect(list).toHaveLength(1);
      return list;
    });
    const id = pending?.id ?? '';
    const fields = { id, argsHash: pending?.argsHash ?? '', decision: 'approve' };
    const { context, page } = await signIn('alice');
    const forged = await page.evaluate(
      async (body) =>
        (await fetch('/approvals/answer', { method: 'POST', body: new URLSearchParams(body) })).status,
      { ...fields, csrf: 'forged' },
    );
    expect(forged).toBe(403);
    const anonymous = await browser.newContext();
    const stranger = await anonymous.newPage();
    await stranger.goto(`${server.url}login`);
    const noSession = await stranger.evaluate(
      async (body) =>
        (await fetch('/approvals/answer', { method: 'POST', body: new URLSearchParams(body) })).status,
      { ...fields, csrf: 'x' },
    );
    expect(noSession).toBe(401);
    // A page of another origin, in the browser that is signed in, submits a form to the console.
    const attacker: Server = createServer((_request, response) => {
      response.setHeader('content-type', 'text/html');
      response.end(`<form id="f" method="post" action="${server.url}approvals/answer">
${Object.entries(fields)
  .map(([name, value]) => `<input name="${name}" value="${value}">`)
  .join('')}<input name="csrf" value="guess"></form><script>document.getElementById('f').submit()</script>`);
    });
    await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
    const attackerUrl = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}/`;
    const [response] = await Promise.all([
      page.waitForResponse((candidate) => candidate.url().endsWith('/approvals/answer')),
      page.goto(attackerUrl),
    ]);
    expect([401, 403]).toContain(response.status());
    attacker.close();
    expect((await queue.get(id))?.settlement).toBeUndefined();
    expect(agent.tool).not.toHaveBeenCalled();
    await queue.cancel(id, 'test over');
    expect(await codeOf(agent.step)).toBe('ESCALATION_DENIED');
    await anonymous.close();
    await context.close();
  });

  it("keeps tenants apart: bob never sees acme's request, alice does", async () => {
    const acme = await agentSession('acme', 'deploy_production', { target: 'acme-only-secret' });
    const globex = await agentSession('globex', 'deploy_production', { target: 'globex-target' });
    const bob = await signIn('bob');
    await bob.page.locator('article.approval', { hasText: 'globex-target' }).waitFor();
    expect(await bob.page.textContent('#pending')).not.toContain('acme-only-secret');
    await bob.page.goto(`${server.url}audit`);
    expect(await bob.page.locator('tbody td:nth-child(3)').allTextContents()).not.toContain('acme');
    const alice = await signIn('alice');
    await alice.page.locator('article.approval', { hasText: 'acme-only-secret' }).waitFor();
    expect(await alice.page.textContent('#pending')).not.toContain('globex-target');
    for (const id of (await queue.list()).map((request) => request.id)) await queue.cancel(id, 'test over');
    expect(await codeOf(acme.step)).toBe('ESCALATION_DENIED');
    expect(await codeOf(globex.step)).toBe('ESCALATION_DENIED');
    await bob.context.close();
    await alice.context.close();
  });

  it('shows a tampered log as TAMPERED', async () => {
    await sink.flush();
    const tampered = join(work, 'tampered.jsonl');
    writeFileSync(
      tampered,
      readFileSync(auditFile, 'utf8').replace('"deploy_production"', '"deploy_staging"'),
    );
    const other = await createConsole({
      users: [{ name: 'root', secretHash: hashConsoleSecret(SECRETS.root), tenants: '*' }],
      audit: { file: tampered },
    }).listen();
    try {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(`${other.url}login`);
      await page.fill('input[name="name"]', 'root');
      await page.fill('input[name="secret"]', SECRETS.root);
      await Promise.all([page.waitForURL(/\/approvals$/), page.click('button[type="submit"]')]);
      await page.goto(`${other.url}audit`);
      expect(await page.getAttribute('#audit-status', 'data-state')).toBe('tampered');
      expect(await page.textContent('#audit-status')).toContain('TAMPERED');
      await shoot(page, 'audit-tampered', false);
      await context.close();
    } finally {
      await other.close();
    }
  });
});
