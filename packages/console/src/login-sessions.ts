import { randomBytes, timingSafeEqual } from 'node:crypto';
import { type Clock, sha256 } from '@ape/core';
import type { CheckedUser } from './users.js';

/** @internal One logged-in browser. */
export interface LoginSession {
  readonly user: CheckedUser;
  /** The token every state-changing form must carry. */
  readonly csrfToken: string;
  readonly expiresAt: number;
}

/** @internal The console's logins: cookie token → user, kept only as sha256 of the token. */
export interface LoginSessions {
  /** Starts a session and returns the cookie token (shown once, never stored). */
  open(user: CheckedUser): { readonly token: string; readonly session: LoginSession };
  /** The live session of a cookie token, or `undefined`. */
  find(token: string | undefined): LoginSession | undefined;
  close(token: string | undefined): void;
}

const MAX_SESSIONS = 10_000;

/** @internal Creates the store; sessions end `ttlMs` after login. */
export function createLoginSessions(clock: Clock, ttlMs: number): LoginSessions {
  const sessions = new Map<string, LoginSession>();

  function sweep(now: number): void {
    for (const [key, session] of sessions) if (session.expiresAt <= now) sessions.delete(key);
    // Bounded memory: the oldest logins go first.
    while (sessions.size >= MAX_SESSIONS) {
      const oldest = sessions.keys().next().value;
      if (oldest === undefined) break;
      sessions.delete(oldest);
    }
  }

  return {
    open(user) {
      const now = clock.now();
      sweep(now);
      const token = randomBytes(32).toString('base64url');
      const session: LoginSession = Object.freeze({
        user,
        csrfToken: randomBytes(32).toString('base64url'),
        expiresAt: now + ttlMs,
      });
      sessions.set(sha256(token), session);
      return { token, session };
    },
    find(token) {
      if (token === undefined || token.length === 0 || token.length > 100) return undefined;
      const key = sha256(token);
      const session = sessions.get(key);
      if (session === undefined) return undefined;
      if (session.expiresAt <= clock.now()) {
        sessions.delete(key);
        return undefined;
      }
      return session;
    },
    close(token) {
      if (token !== undefined && token.length <= 100) sessions.delete(sha256(token));
    },
  };
}

/** @internal Compares a submitted CSRF token with the session's in constant time. */
export function csrfTokenMatches(session: LoginSession, submitted: unknown): boolean {
  if (typeof submitted !== 'string') return false;
  const expected = Buffer.from(session.csrfToken, 'utf8');
  const given = Buffer.from(submitted, 'utf8');
  return expected.length === given.length && timingSafeEqual(expected, given);
}
