import { setTimeout as sleep } from 'node:timers/promises';
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CliError } from '../errors.js';

export interface InstallOnceOptions {
  /** The directory the install fills; holds the marker and the lock. */
  root: string;
  /** Named in the error when another install holds the lock too long. */
  what: string;
  /** How long to wait for another process's install, and when a lock counts as abandoned. */
  staleAfterMs?: number;
  /** Does the work; called at most once across concurrent processes, and only while no marker exists. */
  install: () => Promise<void>;
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs `install` into `root` once: a marker file records success, and a lock directory (mkdir is atomic)
 * keeps concurrent first uses (a CLI and a test run) from installing twice. Used for MiniStack
 * and for the runtime's Node. Returns whether this call installed.
 */
export async function installOnce(options: InstallOnceOptions): Promise<boolean> {
  const { root, what } = options;
  const staleAfterMs = options.staleAfterMs ?? 10 * 60_000;
  const marker = path.join(root, 'installed.ok');
  if (await exists(marker)) return false;
  await mkdir(root, { recursive: true });
  const lock = path.join(root, 'install.lock');
  const deadline = Date.now() + staleAfterMs;
  for (;;) {
    try {
      await mkdir(lock);
      break;
    } catch {
      if (await exists(marker)) return false;
      // A lock older than staleAfterMs belongs to a crashed installer.
      const age = Date.now() - (await stat(lock).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
      if (age > staleAfterMs) await rm(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new CliError('LOCAL_INSTALL_LOCKED', `Another install of ${what} holds ${lock}.`);
      await sleep(250);
    }
  }
  try {
    if (await exists(marker)) return false;
    await options.install();
    await writeFile(marker, `${new Date().toISOString()}\n`);
    return true;
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}
