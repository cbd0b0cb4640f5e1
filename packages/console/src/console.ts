import type { AddressInfo } from 'node:net';
import { type ApprovalQueue, type Clock, ConfigurationError, systemClock } from '@ape/core';
import { serve } from '@hono/node-server';
import { createConsoleApp } from './app.js';
import { type ConsoleAuditOptions, createAuditReader } from './audit-log.js';
import { hostNamesFor } from './guards.js';
import { createLoginSessions } from './login-sessions.js';
import { createLoginThrottle } from './login-throttle.js';
import { type ConsoleUser, checkUsers } from './users.js';

/** Options of {@link createConsole}. */
export interface ConsoleOptions {
  /** Who may sign in, each with a secret hash and the tenants they see. At least one. */
  readonly users: readonly ConsoleUser[];
  /**
   * The approval queue to answer (the one an `ApprovalQueueEscalation` publishes to: in memory for
   * one process, `RedisApprovalQueue` for a fleet). Absent: the console only shows the audit log.
   */
  readonly queue?: ApprovalQueue;
  /** The audit log (and checkpoint) the sessions and audit views read. */
  readonly audit?: ConsoleAuditOptions;
  /**
   * More `host:port` names browsers use to reach the console (a proxy's name, another interface),
   * for the Host and Origin checks. The address it listens on (and `localhost:<port>` on a loopback
   * address) is always one of its names, unless it is a wildcard; required when it listens on a
   * wildcard address (`0.0.0.0`, `::`) or serves only through {@link ApeConsole.fetch}.
   */
  readonly allowedHosts?: readonly string[];
  /** How long a login lasts, in milliseconds; default 28800000 (8 hours). */
  readonly sessionTtlMs?: number;
  /** How often live updates look for new requests and log records, in milliseconds; default 250. */
  readonly pollIntervalMs?: number;
  /** Mark the login cookie `Secure` (serve over HTTPS, for example behind a TLS proxy); default false. */
  readonly secureCookies?: boolean;
  /** The clock for login expiry and waiting times; default the system clock. */
  readonly clock?: Clock;
}

/** Where {@link ApeConsole.listen} binds. */
export interface ConsoleListenOptions {
  /** Default `127.0.0.1`: the console is reachable from this machine only unless told otherwise. */
  readonly host?: string;
  /** Default `0`: a free port. */
  readonly port?: number;
}

/** A listening console. */
export interface ConsoleServer {
  /** `http://host:port/` to open in a browser. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** Stops listening and ends the live-update streams. */
  close(): Promise<void>;
}

/** The console: a web application to serve with {@link ApeConsole.listen} or from a host's server. */
export interface ApeConsole {
  /** Answers one request (a WHATWG `Request`), for hosts that mount the console in their own server. */
  fetch(request: Request): Promise<Response>;
  /** Starts an HTTP server for the console. */
  listen(options?: ConsoleListenOptions): Promise<ConsoleServer>;
}

const WHERE = 'createConsole';
const WILDCARD_HOSTS: ReadonlySet<string> = new Set(['0.0.0.0', '::', '']);

function checkMilliseconds(value: number | undefined, fallback: number, field: string, max: number): number {
  const checked = value ?? fallback;
  if (!Number.isSafeInteger(checked) || checked < 1 || checked > max) {
    throw new ConfigurationError(
      `${WHERE}: option "${field}" must be a whole number of milliseconds from 1 to ${max}.`,
      {
        field,
      },
    );
  }
  return checked;
}

/**
 * Creates the APE console: an approvals page that answers `queue` under each signed-in user's
 * identity, and sessions and audit pages over `audit` with its verification and checkpoint status.
 * Every page needs a login; cookies are HttpOnly and SameSite=Strict; every state change needs the
 * session's CSRF token and a same-origin `Origin`; the Content-Security-Policy allows no inline
 * script; untrusted text (arguments, rule ids, reasons, log fields) is rendered inert and cut with a
 * "show all" view; a user sees only their tenants. See docs/console.md.
 *
 * @throws ConfigurationError (`CONFIG_INVALID`) for malformed options (`details.field` names one).
 */
export function createConsole(options: ConsoleOptions): ApeConsole {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigurationError(`${WHERE}: options are required ({ users, queue?, audit? }).`, {
      field: 'options',
    });
  }
  const users = checkUsers(options.users, WHERE);
  const queue = options.queue;
  if (queue !== undefined && (typeof queue.list !== 'function' || typeof queue.answer !== 'function')) {
    throw new ConfigurationError(
      `${WHERE}: option "queue" must be an ApprovalQueue (list, get, answer, ...).`,
      {
        field: 'queue',
      },
    );
  }
  if (options.audit !== undefined && typeof options.audit?.file !== 'string') {
    throw new ConfigurationError(`${WHERE}: option "audit.file" must be the path of the audit log.`, {
      field: 'audit.file',
    });
  }
  const configuredHosts = options.allowedHosts;
  if (
    configuredHosts !== undefined &&
    (!Array.isArray(configuredHosts) ||
      !configuredHosts.every((host) => typeof host === 'string' && /^[^\s/]+:\d+$/.test(host)))
  ) {
    throw new ConfigurationError(`${WHERE}: option "allowedHosts" must list host:port names.`, {
      field: 'allowedHosts',
    });
  }
  const clock = options.clock ?? systemClock;
  const sessionTtlMs = checkMilliseconds(options.sessionTtlMs, 8 * 3_600_000, 'sessionTtlMs', 7 * 86_400_000);
  const pollIntervalMs = checkMilliseconds(options.pollIntervalMs, 250, 'pollIntervalMs', 60_000);
  let allowedHosts: ReadonlySet<string> = new Set((configuredHosts ?? []).map((host) => host.toLowerCase()));
  const closing = new AbortController();
  const app = createConsoleApp({
    queue,
    audit: options.audit === undefined ? undefined : createAuditReader(options.audit),
    users,
    logins: createLoginSessions(clock, sessionTtlMs),
    throttle: createLoginThrottle(clock),
    clock,
    allowedHosts: () => allowedHosts,
    secureCookies: options.secureCookies === true,
    pollIntervalMs,
    closing: closing.signal,
  });

  return {
    fetch: async (request) => app.fetch(request),
    listen(listenOptions = {}) {
      const host = listenOptions.host ?? '127.0.0.1';
      const port = listenOptions.port ?? 0;
      if (WILDCARD_HOSTS.has(host) && configuredHosts === undefined) {
        return Promise.reject(
          new ConfigurationError(
            `${WHERE}: listening on "${host}" (every interface) needs option "allowedHosts" (the host:port names browsers use).`,
            { field: 'allowedHosts' },
          ),
        );
      }
      if (!Number.isInteger(port) || port < 0 || port > 65_535) {
        return Promise.reject(
          new ConfigurationError(`${WHERE}: port must be 0-65535, got ${port}.`, { field: 'port' }),
        );
      }
      return new Promise((resolve, reject) => {
        const server = serve({ fetch: app.fetch, hostname: host, port }, (info: AddressInfo) => {
          server.off('error', reject);
          // The address it listens on is always one of its names (not a wildcard: no browser uses
          // it); `allowedHosts` adds the names a proxy or another interface brings.
          allowedHosts = new Set([
            ...(configuredHosts ?? []).map((name) => name.toLowerCase()),
            ...(WILDCARD_HOSTS.has(host) ? [] : hostNamesFor(host, info.port)),
          ]);
          const shown = host.includes(':') ? `[${host}]` : host;
          resolve({
            url: `http://${shown}:${info.port}/`,
            host,
            port: info.port,
            close: () =>
              new Promise<void>((done) => {
                closing.abort();
                server.close(() => done());
                (server as { closeAllConnections?: () => void }).closeAllConnections?.();
              }),
          });
        });
        server.once('error', reject);
      });
    },
  };
}

/**
 * Parses a listen address as `ape console --listen` and `ape mcp proxy --console` take it:
 * `host:port`, `[ipv6]:port`, `:port` or `port` (host 127.0.0.1).
 * @throws ConfigurationError (`CONFIG_INVALID`) for anything else.
 */
export function parseConsoleAddress(text: string): Required<ConsoleListenOptions> {
  const match = /^(?:(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]*):)?(\d{1,5})$/.exec(text);
  const port = Number(match?.[2]);
  if (match === null || port > 65_535) {
    throw new ConfigurationError(`console address "${text}" must be host:port, [ipv6]:port, :port or port.`, {
      field: 'listen',
    });
  }
  const host = match[1] === undefined || match[1] === '' ? '127.0.0.1' : match[1].replace(/^\[|\]$/g, '');
  return { host, port };
}
