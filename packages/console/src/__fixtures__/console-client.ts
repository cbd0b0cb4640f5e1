import { type ApprovalQueue, createInMemoryApprovalQueue } from '@ape/core';
import { type ConsoleOptions, type ConsoleServer, createConsole } from '../console.js';
import { hashConsoleSecret } from '../secret.js';
import type { ConsoleUser } from '../users.js';

/** Secrets of the fixture users (hashed once per test file: scrypt is slow on purpose). */
export const SECRETS = Object.freeze({
  root: 'root-secret-0123456789',
  alice: 'alice-secret-0123456789',
  bob: 'bob-secret-0123456789',
});

let users: ConsoleUser[] | undefined;

/** root sees every tenant, alice only acme, bob only globex. */
export function fixtureUsers(): ConsoleUser[] {
  users ??= [
    { name: 'root', secretHash: hashConsoleSecret(SECRETS.root), tenants: '*' },
    { name: 'alice', secretHash: hashConsoleSecret(SECRETS.alice), tenants: ['acme'] },
    { name: 'bob', secretHash: hashConsoleSecret(SECRETS.bob), tenants: ['globex'] },
  ];
  return users;
}

/** A browser-like client of a running console: keeps the cookie, sends the console's Origin. */
export class ConsoleClient {
  readonly base: string;
  cookie: string | undefined;

  constructor(base: string) {
    this.base = base.replace(/\/$/, '');
  }

  get origin(): string {
    return this.base;
  }

  async request(path: string, init: RequestInit & { origin?: string | null } = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookie !== undefined) headers.set('cookie', this.cookie);
    if (init.origin !== null) headers.set('origin', init.origin ?? this.origin);
    return fetch(`${this.base}${path}`, { ...init, headers, redirect: 'manual' });
  }

  async get(path: string): Promise<Response> {
    return this.request(path, { method: 'GET', origin: null });
  }

  async post(path: string, fields: Record<string, string>, options: { origin?: string | null } = {}) {
    return this.request(path, {
      method: 'POST',
      body: new URLSearchParams(fields),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      ...options,
    });
  }

  async login(name: string, secret: string): Promise<Response> {
    const response = await this.post('/login', { name, secret });
    const setCookie = response.headers.get('set-cookie');
    if (setCookie !== null) this.cookie = setCookie.split(';')[0];
    return response;
  }

  /** The CSRF token of the signed-in session, read from a page's form. */
  async csrf(): Promise<string> {
    const text = await (await this.get('/approvals')).text();
    const match = /name="csrf" value="([^"]+)"/.exec(text);
    if (match?.[1] === undefined) throw new Error('no CSRF token on the page');
    return match[1];
  }
}

/** A console on a free loopback port over a fresh in-memory queue. */
export async function startFixtureConsole(
  options: Partial<ConsoleOptions> = {},
): Promise<{ server: ConsoleServer; queue: ApprovalQueue; client: () => ConsoleClient }> {
  const queue = options.queue ?? createInMemoryApprovalQueue();
  const server = await createConsole({
    users: fixtureUsers(),
    queue,
    pollIntervalMs: 20,
    ...options,
  }).listen();
  return { server, queue, client: () => new ConsoleClient(server.url) };
}

/** Publishes a request as an `ApprovalQueueEscalation` would. */
export function publish(
  queue: ApprovalQueue,
  tenant: string,
  args: Record<string, unknown>,
  action = 'deploy_production',
): Promise<string> {
  return queue.publish({
    tenant,
    session: `${tenant}-session`,
    stepIndex: 0,
    action,
    argsHash: 'a'.repeat(64),
    args,
    provenance: 'EXTERNAL_UNTRUSTED',
    decision: {
      decision: 'ESCALATE',
      rules: ['deploys-need-approval'],
      reason: 'deploys need a human',
      policy: 'b'.repeat(64),
    },
    expiresAt: Date.now() + 60_000,
  });
}
