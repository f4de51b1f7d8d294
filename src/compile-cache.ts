import module from 'node:module';
import path from 'node:path';
import { cacheDir } from './paths.js';

/** Node 22.1+'s on-disk cache of compiled code; Node 20's API (and its types) has no such function. */
type EnableCompileCache = (directory?: string) => unknown;

/**
 * Lets Node keep the compiled code of the modules a command loads (the AWS SDK's above all) in the user's cache
 * directory, so later runs skip compiling them: about a fifth of an AWS command's start-up on Node 24 (issue 21).
 * Only modules loaded after this call are cached, which is every command's own. Node checks each entry against
 * the file's contents, so an upgrade of the CLI is picked up. NODE_COMPILE_CACHE, when set, wins (Node enabled
 * the cache itself), NODE_DISABLE_COMPILE_CACHE=1 turns it off, and Node 20 has no cache: there this does nothing.
 */
export function enableCompileCache(env: NodeJS.ProcessEnv = process.env): void {
  const enable = (module as { enableCompileCache?: EnableCompileCache }).enableCompileCache;
  if (typeof enable !== 'function') return;
  try {
    enable(path.join(cacheDir(env), 'compile-cache'));
  } catch {
    // A cache that cannot be written only makes the next start slower, never this command wrong.
  }
}
