import { execFileSync } from 'node:child_process';
import { type Browser, chromium } from 'playwright-core';

/** The `chromium` on PATH (Debian's package; `.ci/run` installs it). Throws, never skips, when missing. */
export function chromiumPath(): string {
  try {
    return execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(
      "the console e2e tests need Debian's chromium on PATH: apt-get install -y chromium (.ci/run installs it)",
    );
  }
}

/**
 * A headless Chromium. Each launch gets a fresh profile: playwright-core itself passes a new
 * temporary `--user-data-dir` (and refuses one in `args`) and removes it on close.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
