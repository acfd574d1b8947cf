import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Locator, type Page } from 'playwright-core';

/** Flags for Debian's Chromium in a sandboxed, offline test: no GPU, no phoning home, no first-run UI. */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Builds packages/console/dist unless it is newer than its sources (scripts/build-console.mjs decides). */
export function buildConsole(): void {
  execFileSync(process.execPath, [join(import.meta.dirname, '../../scripts/build-console.mjs')], { stdio: 'pipe', timeout: 120_000 });
}

/** Chromium (VREG_TEST_CHROMIUM, else Debian's /usr/bin/chromium) with a new empty profile, at a laptop's size. */
export async function startChromium(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const userDataDir = await mkdtemp(join(tmpdir(), 'vreg-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.VREG_TEST_CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1366, height: 768 },
    timeout: 60_000,
  });
  context.setDefaultTimeout(15_000);
  return {
    context,
    async close() {
      await context.close();
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}

/** Polls `read` until `accept` holds; the last value in the error when it never does. */
export async function eventually<T>(read: () => Promise<T>, accept: (value: T) => boolean, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await read();
    if (accept(last)) return last;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(last)} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Clicks the page's Refresh button and waits for the reload it starts to
 * end (the button is disabled while one runs), so what the test reads next
 * is the new data and no reload is left to redraw the page under it.
 */
export async function refresh(page: Page): Promise<void> {
  const loaded = page.waitForResponse((res) => res.url().includes('/api/v1/'));
  await page.getByRole('button', { name: 'Refresh' }).click();
  await loaded;
  await page.getByRole('button', { name: 'Refresh', disabled: false }).waitFor();
}

/** The text of a locator once it is visible. */
export async function textOf(locator: Locator): Promise<string> {
  await locator.waitFor({ state: 'visible' });
  return (await locator.textContent()) ?? '';
}

/** Whether the element the locator finds has the keyboard focus. */
export function isFocused(locator: Locator): Promise<boolean> {
  return locator.evaluate((el) => el === el.ownerDocument.activeElement);
}

/**
 * A full-page screenshot (`mask` hides secrets): always taken, so a page that
 * cannot render fails the test; written to docs/console/<name>.png (the README
 * links them) only with VREG_UPDATE_SCREENSHOTS=1, so a test run never
 * rewrites tracked files.
 */
export async function screenshot(page: Page, name: string, mask: Locator[] = []): Promise<void> {
  const image = await page.screenshot({ fullPage: true, animations: 'disabled', mask });
  if (process.env.VREG_UPDATE_SCREENSHOTS === '1') await writeFile(join(import.meta.dirname, '../../docs/console', `${name}.png`), image);
}
