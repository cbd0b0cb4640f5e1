/** @internal The Content-Security-Policy of every response: no inline script or style, no framing. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

/** @internal Headers every response carries. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  // Not no-referrer: Chromium then sends `Origin: null` on the console's own form posts.
  'Referrer-Policy': 'same-origin',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cache-Control': 'no-store',
});

/** @internal Methods that never change state (everything else needs a same-origin request). */
export const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD']);

/**
 * @internal True when `origin` (the request's `Origin` header) is this console: `http://` or
 * `https://` followed by one of the allowed `host:port` names. A missing or `null` origin is not.
 */
export function isOwnOrigin(origin: string | undefined, allowedHosts: ReadonlySet<string>): boolean {
  if (origin === undefined) return false;
  const match = /^https?:\/\/([^/]+)$/.exec(origin);
  return match?.[1] !== undefined && allowedHosts.has(match[1].toLowerCase());
}

/** @internal True when the `Host` header names this console (defeats DNS rebinding). */
export function isOwnHost(host: string | undefined, allowedHosts: ReadonlySet<string>): boolean {
  return host !== undefined && allowedHosts.has(host.toLowerCase());
}

/** @internal The `host:port` names a console listening on `host:port` answers to. */
export function hostNamesFor(host: string, port: number): string[] {
  const bracketed = host.includes(':') ? `[${host}]` : host;
  const names = [`${bracketed}:${port}`.toLowerCase()];
  if (host === '127.0.0.1' || host === '::1') names.push(`localhost:${port}`);
  return names;
}
