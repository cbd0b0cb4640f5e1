import { request as httpRequest } from 'node:http';
import type { ApprovalQueue } from '@ape/core';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type ConsoleClient,
  fixtureUsers,
  publish,
  SECRETS,
  startFixtureConsole,
} from './__fixtures__/console-client.js';
import { createConsole, parseConsoleAddress } from './console.js';
import { CONTENT_SECURITY_POLICY } from './guards.js';
import { MAX_FAILED_SIGN_INS, SIGN_IN_WINDOW_MS } from './login-throttle.js';

const servers: { close(): Promise<void> }[] = [];

async function start(options: Parameters<typeof startFixtureConsole>[0] = {}) {
  const started = await startFixtureConsole(options);
  servers.push(started.server);
  return started;
}

async function signedIn(client: ConsoleClient, name: keyof typeof SECRETS = 'root'): Promise<ConsoleClient> {
  const response = await client.login(name, SECRETS[name]);
  expect(response.status).toBe(303);
  return client;
}

async function stillPending(queue: ApprovalQueue, id: string): Promise<void> {
  const record = await queue.get(id);
  expect(record?.settlement).toBeUndefined();
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

describe('signing in', () => {
  it('sets an HttpOnly, SameSite=Strict session cookie for the right secret', async () => {
    const { client } = await start();
    const response = await client().login('alice', SECRETS.alice);
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/approvals');
    const cookie = response.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^ape_console_session=[A-Za-z0-9_-]{43};/);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
  });

  it('refuses a wrong secret and an unknown name with the same answer', async () => {
    const { client } = await start();
    for (const [name, secret] of [
      ['alice', SECRETS.bob],
      ['mallory', SECRETS.alice],
    ] as const) {
      const response = await client().login(name, secret);
      expect(response.status).toBe(401);
      expect(response.headers.get('set-cookie')).toBeNull();
      expect(await response.text()).toContain('Wrong name or secret.');
    }
  });

  it('redirects a page request without a session to the login page', async () => {
    const { client } = await start();
    for (const path of ['/approvals', '/sessions', '/audit', '/']) {
      const response = await client().get(path);
      expect(response.status).toBe(303);
      expect(response.headers.get('location')).toBe('/login');
    }
  });

  it('ends the session on sign-out: the old cookie no longer works', async () => {
    const { client } = await start();
    const browser = await signedIn(client());
    const csrf = await browser.csrf();
    expect((await browser.post('/logout', { csrf })).status).toBe(303);
    expect((await browser.get('/approvals')).headers.get('location')).toBe('/login');
  });

  it('refuses a name after 10 failed sign-ins in a minute, even with the right secret, then lets it try again', async () => {
    let now = 5_000_000;
    const { client } = await start({ clock: { now: () => now } });
    for (let attempt = 0; attempt < MAX_FAILED_SIGN_INS; attempt++) {
      expect((await client().login('alice', 'wrong-secret-0123456789')).status).toBe(401);
    }
    const refused = await client().login('alice', SECRETS.alice);
    expect(refused.status).toBe(429);
    expect(await refused.text()).toContain('Too many failed sign-ins');
    expect((await client().login('bob', SECRETS.bob)).status).toBe(303);
    now += SIGN_IN_WINDOW_MS;
    expect((await client().login('alice', SECRETS.alice)).status).toBe(303);
  });

  it('ends the session after its time to live', async () => {
    let now = 1_000_000;
    const { client } = await start({ clock: { now: () => now }, sessionTtlMs: 1_000 });
    const browser = await signedIn(client());
    expect((await browser.get('/approvals')).status).toBe(200);
    now += 1_001;
    expect((await browser.get('/approvals')).headers.get('location')).toBe('/login');
  });
});

describe('answering an escalation', () => {
  it('approves under the signed-in identity, never a form field', async () => {
    const { client, queue } = await start();
    const id = await publish(queue, 'acme', { target: 'production' });
    const browser = await signedIn(client(), 'alice');
    const page = await (await browser.get('/approvals')).text();
    expect(page).toContain('deploy_production');
    const argsHash = /name="argsHash" value="([0-9a-f]+)"/.exec(page)?.[1] ?? '';
    const response = await browser.post('/approvals/answer', {
      csrf: await browser.csrf(),
      id,
      argsHash,
      decision: 'approve',
      reason: 'release 1.2',
      approver: 'someone-else',
    });
    expect(response.status).toBe(303);
    const record = await queue.get(id);
    expect(record?.settlement).toMatchObject({
      state: 'answered',
      approved: true,
      approver: 'alice',
      provenance: 'USER_TRUSTED',
      reason: 'release 1.2',
    });
  });

  it('denies with a reason', async () => {
    const { client, queue } = await start();
    const id = await publish(queue, 'acme', { target: 'production' });
    const browser = await signedIn(client());
    const response = await browser.post('/approvals/answer', {
      csrf: await browser.csrf(),
      id,
      argsHash: 'a'.repeat(64),
      decision: 'deny',
      reason: 'not today',
    });
    expect(response.status).toBe(303);
    expect((await queue.get(id))?.settlement).toMatchObject({
      approved: false,
      approver: 'root',
      reason: 'not today',
    });
  });

  it('refuses an answer without a session and leaves the request pending', async () => {
    const { client, queue } = await start();
    const id = await publish(queue, 'acme', {});
    const response = await client().post('/approvals/answer', { id, decision: 'approve', csrf: 'x' });
    expect(response.status).toBe(401);
    await stillPending(queue, id);
  });

  it('refuses a wrong or missing CSRF token and leaves the request pending', async () => {
    const { client, queue } = await start();
    const id = await publish(queue, 'acme', {});
    const browser = await signedIn(client());
    for (const csrf of ['forged', '']) {
      const response = await browser.post('/approvals/answer', {
        csrf,
        id,
        argsHash: 'a'.repeat(64),
        decision: 'approve',
      });
      expect(response.status).toBe(403);
      expect(await response.text()).toContain('CSRF token mismatch');
    }
    await stillPending(queue, id);
  });

  it('refuses a request from another origin, or without an Origin header, before reading it', async () => {
    const { client, queue } = await start();
    const id = await publish(queue, 'acme', {});
    const browser = await signedIn(client());
    const csrf = await browser.csrf();
    for (const origin of ['http://evil.example', 'null', null]) {
      const response = await browser.post(
        '/approvals/answer',
        { csrf, id, argsHash: 'a'.repeat(64), decision: 'approve' },
        { origin },
      );
      expect(response.status).toBe(403);
      expect(await response.text()).toContain('cross-origin');
    }
    await stillPending(queue, id);
  });

  it('refuses a Host it does not answer to (DNS rebinding)', async () => {
    const { server } = await start();
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const request = httpRequest(
        {
          host: server.host,
          port: server.port,
          path: '/login',
          headers: { host: `attacker.example:${server.port}` },
        },
        (response) => {
          response.resume();
          resolve(response.statusCode);
        },
      );
      request.on('error', reject);
      request.end();
    });
    expect(status).toBe(403);
  });

  it('refuses an answer whose arguments differ from the ones shown', async () => {
    const { client, queue } = await start();
    const id = await publish(queue, 'acme', {});
    const browser = await signedIn(client());
    const response = await browser.post('/approvals/answer', {
      csrf: await browser.csrf(),
      id,
      argsHash: 'c'.repeat(64),
      decision: 'approve',
    });
    expect(response.status).toBe(409);
    await stillPending(queue, id);
  });

  it('says an answer did not count when the request was already settled', async () => {
    const { client, queue } = await start();
    const id = await publish(queue, 'acme', {});
    await queue.cancel(id, 'the agent stopped');
    const browser = await signedIn(client());
    const response = await browser.post('/approvals/answer', {
      csrf: await browser.csrf(),
      id,
      argsHash: 'a'.repeat(64),
      decision: 'approve',
    });
    expect(response.status).toBe(409);
    expect(await response.text()).toContain('did not count');
  });

  it('refuses a decision other than approve or deny', async () => {
    const { client, queue } = await start();
    const id = await publish(queue, 'acme', {});
    const browser = await signedIn(client());
    const response = await browser.post('/approvals/answer', {
      csrf: await browser.csrf(),
      id,
      decision: 'maybe',
    });
    expect(response.status).toBe(400);
    await stillPending(queue, id);
  });

  it('reports a failing queue as 503 and answers nothing', async () => {
    const failing: ApprovalQueue = {
      publish: () => Promise.reject(new Error('down')),
      get: () => Promise.reject(new Error('redis is down')),
      list: () => Promise.reject(new Error('redis is down')),
      answer: () => Promise.reject(new Error('redis is down')),
      cancel: () => Promise.reject(new Error('redis is down')),
      wait: () => Promise.reject(new Error('redis is down')),
    };
    const { client } = await start({ queue: failing });
    const browser = await signedIn(client());
    expect((await browser.get('/approvals')).status).toBe(503);
    expect((await browser.get('/approvals/pending')).status).toBe(503);
  });
});

describe('tenant scoping', () => {
  it("never shows or answers another tenant's request", async () => {
    const { client, queue } = await start();
    const acme = await publish(queue, 'acme', { note: 'acme-secret-plan' });
    const globex = await publish(queue, 'globex', { note: 'globex-secret-plan' });
    const bob = await signedIn(client(), 'bob');
    const page = await (await bob.get('/approvals')).text();
    expect(page).toContain('globex-secret-plan');
    expect(page).not.toContain('acme-secret-plan');
    expect(page).not.toContain(acme);
    const fragment = await (await bob.get('/approvals/pending')).text();
    expect(fragment).toContain(globex);
    expect(fragment).not.toContain(acme);
    const answer = await bob.post('/approvals/answer', {
      csrf: await bob.csrf(),
      id: acme,
      argsHash: 'a'.repeat(64),
      decision: 'approve',
    });
    expect(answer.status).toBe(404);
    await stillPending(queue, acme);
    const value = await bob.get(`/approvals/value?id=${encodeURIComponent(acme)}&arg=note`);
    expect(value.status).toBe(404);
    expect(await value.text()).not.toContain('acme-secret-plan');
  });
});

describe('every response', () => {
  it('carries a strict Content-Security-Policy and no inline script', async () => {
    const { client } = await start();
    const browser = await signedIn(client());
    for (const path of ['/login', '/approvals', '/sessions', '/audit', '/static/console.js', '/nowhere']) {
      const response = await browser.get(path);
      expect(response.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
      expect(response.headers.get('x-frame-options')).toBe('DENY');
      const text = await response.text();
      expect(text).not.toMatch(/<script>|<script [^>]*>[^<]|\son[a-z]+=/i);
    }
    expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe-inline');
  });

  it('serves the static script with an ETag and answers a matching If-None-Match with 304', async () => {
    const { client } = await start();
    const first = await client().get('/static/console.js');
    expect(first.headers.get('content-type')).toContain('text/javascript');
    const etag = first.headers.get('etag') ?? '';
    const again = await client().request('/static/console.js', {
      headers: { 'if-none-match': etag },
      origin: null,
    });
    expect(again.status).toBe(304);
    expect((await client().get('/static/missing.js')).status).toBe(404);
  });
});

describe('live updates', () => {
  it('streams the ids of new pending requests to a signed-in browser only', async () => {
    const { client, queue } = await start();
    expect((await client().get('/events')).status).toBe(401);
    const browser = await signedIn(client(), 'alice');
    const controller = new AbortController();
    const response = await browser.request('/events', { signal: controller.signal, origin: null });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const reader = response.body?.getReader();
    const id = await publish(queue, 'acme', {});
    await publish(queue, 'globex', {});
    let seen = '';
    while (!seen.includes(id)) {
      const chunk = await reader?.read();
      if (chunk === undefined || chunk.done) break;
      seen += new TextDecoder().decode(chunk.value);
    }
    controller.abort();
    expect(seen).toContain('event: approvals');
    expect(seen).toContain(id);
  });
});

describe('createConsole options', () => {
  it.each([
    ['users', { users: [] }],
    ['users[0].name', { users: [{ name: '<b>', secretHash: 'x', tenants: '*' }] }],
    ['users[0].tenants', { users: [{ name: 'a', secretHash: 'x', tenants: [] }] }],
    ['users[0].secretHash', { users: [{ name: 'a', secretHash: 'plain', tenants: '*' }] }],
    ['queue', { queue: {} }],
    ['audit.file', { audit: {} }],
    ['allowedHosts', { allowedHosts: ['no port'] }],
    ['sessionTtlMs', { sessionTtlMs: 0 }],
    ['pollIntervalMs', { pollIntervalMs: 1.5 }],
  ])('refuses a malformed %s with CONFIG_INVALID', (field, options) => {
    const users = fixtureUsers();
    expect(() => createConsole({ users, ...(options as object) } as never)).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', details: expect.objectContaining({ field }) }),
    );
  });

  it('refuses a user listed twice', () => {
    const [root] = fixtureUsers();
    expect(() => createConsole({ users: [root as never, root as never] })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
  });

  it('refuses to listen on every interface without allowedHosts, and a bad port', async () => {
    const console = createConsole({ users: fixtureUsers() });
    await expect(console.listen({ host: '0.0.0.0' })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      details: { field: 'allowedHosts' },
    });
    await expect(console.listen({ port: 70_000 })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      details: { field: 'port' },
    });
  });

  it('serves through fetch for a host that mounts it, answering only its allowed hosts', async () => {
    const console = createConsole({ users: fixtureUsers(), allowedHosts: ['console.example:443'] });
    const own = await console.fetch(
      new Request('https://console.example:443/login', { headers: { host: 'console.example:443' } }),
    );
    expect(own.status).toBe(200);
    const other = await console.fetch(
      new Request('https://other.example/login', { headers: { host: 'other.example:443' } }),
    );
    expect(other.status).toBe(403);
  });

  it('answers its own address and the names allowedHosts adds, and refuses any other Host', async () => {
    const server = await createConsole({
      users: fixtureUsers(),
      allowedHosts: ['Console.Example:443'],
    }).listen();
    servers.push(server);
    // node:http, not fetch: fetch drops a Host header it is given (a forbidden header name).
    const status = (host: string) =>
      new Promise<number | undefined>((resolve, reject) => {
        httpRequest(
          { host: '127.0.0.1', port: server.port, path: '/login', headers: { host } },
          (response) => {
            response.resume();
            resolve(response.statusCode);
          },
        )
          .on('error', reject)
          .end();
      });
    expect(await status(`127.0.0.1:${server.port}`)).toBe(200);
    expect(await status(`localhost:${server.port}`)).toBe(200);
    expect(await status('console.example:443')).toBe(200);
    expect(await status(`evil.example:${server.port}`)).toBe(403);
  });

  it('binds 127.0.0.1 by default', async () => {
    const server = await createConsole({ users: fixtureUsers() }).listen();
    servers.push(server);
    expect(server.host).toBe('127.0.0.1');
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/`);
    const viaLocalhost = await fetch(`${server.url}login`, { headers: { host: `localhost:${server.port}` } });
    expect(viaLocalhost.status).toBe(200);
  });
});

describe('parseConsoleAddress', () => {
  it.each([
    ['8080', { host: '127.0.0.1', port: 8080 }],
    [':0', { host: '127.0.0.1', port: 0 }],
    ['0.0.0.0:9000', { host: '0.0.0.0', port: 9000 }],
    ['[::1]:7000', { host: '::1', port: 7000 }],
    ['localhost:7001', { host: 'localhost', port: 7001 }],
  ])('reads %s', (text, expected) => {
    expect(parseConsoleAddress(text)).toEqual(expected);
  });

  it.each(['', 'host:', '127.0.0.1:99999', 'http://x:1', 'a b:1'])(
    'refuses %j with CONFIG_INVALID',
    (text) => {
      expect(() => parseConsoleAddress(text)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    },
  );
});
