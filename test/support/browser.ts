import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";

/** Debian's Chromium, which .ci/run installs with apt-get; CHROMIUM_PATH points elsewhere. */
export const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/**
 * Headless Chromium, driven by playwright-core (which downloads no browser of its own). A missing
 * browser fails the test with the fix: a browser test never skips.
 */
export const launchChromium = async (): Promise<Browser> => {
  if (!existsSync(chromiumPath)) {
    throw new Error(
      `the browser tests need Chromium at ${chromiumPath}: apt-get install -y chromium (.ci/run does), or set CHROMIUM_PATH`,
    );
  }
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      // Root in a container has no user namespaces for Chromium's sandbox.
      "--no-sandbox",
      "--disable-gpu",
      // No network but localhost here: keep Chromium from calling home at start.
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-quic",
      "--no-first-run",
    ],
  });
};
