import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's Chromium: CI installs it with `apt-get install -y chromium`. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/**
 * Launches headless Chromium (a fresh profile each time). A missing browser fails
 * the test with what to install: these tests are never skipped, CI runs them.
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`${CHROMIUM_PATH} not found: these tests need Debian's Chromium; install it with \`apt-get install -y chromium\``);
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** What a page did while it loaded: console messages, uncaught errors and every request but the page's own. */
export interface PageLog {
  console: { type: string; text: string }[];
  pageErrors: string[];
  otherRequests: string[];
}

/** Opens a local HTML file in a new page, recording what it logs and requests. */
export async function openFile(browser: Browser, file: string): Promise<{ page: Page; log: PageLog }> {
  const url = pathToFileURL(file).href;
  const page = await browser.newPage();
  const log: PageLog = { console: [], pageErrors: [], otherRequests: [] };
  page.on('console', (m) => log.console.push({ type: m.type(), text: m.text() }));
  page.on('pageerror', (e) => log.pageErrors.push(String(e)));
  page.on('request', (r) => {
    if (r.url() !== url) log.otherRequests.push(r.url());
  });
  await page.goto(url, { waitUntil: 'load' });
  return { page, log };
}
