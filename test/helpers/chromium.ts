import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { LOCAL_CDN_HEADERS } from '../../src/provision/cdn-address.js';

export const CHROMIUM = '/usr/bin/chromium';

/** Debian's Chromium, installed when missing and the test runs as root with apt (as in CI). */
export function ensureChromium(): string {
  if (existsSync(CHROMIUM)) return CHROMIUM;
  if (process.getuid?.() === 0 && existsSync('/usr/bin/apt-get')) {
    execFileSync('apt-get', ['install', '-y', '-qq', 'chromium'], { stdio: 'inherit' });
    if (existsSync(CHROMIUM)) return CHROMIUM;
  }
  throw new Error(`Chromium is not installed at ${CHROMIUM}: run \`apt-get install -y chromium\` (Debian's package).`);
}

/** A headless Chromium with a fresh profile (its own --user-data-dir) and nothing that phones home. */
export async function launchChromium(): Promise<BrowserContext> {
  const executablePath = ensureChromium();
  return chromium.launchPersistentContext(mkdtempSync(path.join(os.tmpdir(), 'img-resizer-chromium-')), {
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
    // The local distribution redirects plain HTTP to HTTPS, which the emulator does not serve (see cdn-address.ts).
    extraHTTPHeaders: { ...LOCAL_CDN_HEADERS },
  });
}

/** Every <img> of the loaded page: whether it completed, its natural width, and what it loaded. */
export interface ImageState {
  complete: boolean;
  naturalWidth: number;
  currentSrc: string;
  /** The width attribute (the output's width as the metadata records it), not the rendered width. */
  widthAttribute: number;
}

/** Loads a file and reads every <img> once all have settled (loaded or failed). */
export async function imagesOf(browser: BrowserContext, file: string): Promise<ImageState[]> {
  const page = await browser.newPage();
  await page.goto(`file://${file}`, { waitUntil: 'load' });
  // Page scripts as strings: the project's TypeScript has no DOM types.
  await page.waitForFunction('[...document.images].every((img) => img.complete)', undefined, { timeout: 30_000 });
  const states = await page.evaluate<ImageState[]>(
    '[...document.images].map((img) => ({ complete: img.complete, naturalWidth: img.naturalWidth, currentSrc: img.currentSrc, widthAttribute: Number(img.getAttribute("width")) }))',
  );
  await page.close();
  return states;
}
