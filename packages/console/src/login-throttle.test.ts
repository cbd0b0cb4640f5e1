import { describe, expect, it } from 'vitest';
import { createLoginThrottle, MAX_FAILED_SIGN_INS, SIGN_IN_WINDOW_MS } from './login-throttle.js';

describe('the sign-in throttle', () => {
  it('blocks a name for the rest of its window once it failed too often, and only that name', () => {
    let now = 0;
    const throttle = createLoginThrottle({ now: () => now });
    for (let attempt = 0; attempt < MAX_FAILED_SIGN_INS - 1; attempt++) throttle.failed('alice');
    expect(throttle.retryAfter('alice')).toBe(0);
    throttle.failed('alice');
    now = 1_000;
    expect(throttle.retryAfter('alice')).toBe(SIGN_IN_WINDOW_MS - 1_000);
    expect(throttle.retryAfter('bob')).toBe(0);
    now = SIGN_IN_WINDOW_MS;
    expect(throttle.retryAfter('alice')).toBe(0);
  });

  it('starts a new window after the old one ended, and forgets a name that signed in', () => {
    let now = 0;
    const throttle = createLoginThrottle({ now: () => now });
    throttle.failed('alice');
    now = SIGN_IN_WINDOW_MS + 1;
    for (let attempt = 0; attempt < MAX_FAILED_SIGN_INS - 1; attempt++) throttle.failed('alice');
    expect(throttle.retryAfter('alice')).toBe(0);
    throttle.failed('alice');
    expect(throttle.retryAfter('alice')).toBeGreaterThan(0);
    throttle.succeeded('alice');
    expect(throttle.retryAfter('alice')).toBe(0);
  });
});
