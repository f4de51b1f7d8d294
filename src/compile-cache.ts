import module from 'node:module';

/** Node 22.1+'s on-disk cache of compiled code; Node 20's API (and its types) has no such function. */
type EnableCompileCache = () => unknown;

/**
 * Lets Node keep the compiled code of the modules a command loads (the AWS SDK's above all) on disk, so later runs
 * skip compiling them: about a fifth of an AWS command's start-up on Node 24 (issue 21). Only modules loaded after
 * this call are cached, which is every command's own. Where, as Node's documentation recommends for tools: its
 * default, `node-compile-cache` under the system's temporary directory, or NODE_COMPILE_CACHE when set; Node
 * checks each entry against the file's contents (an upgrade of the CLI is picked up), and
 * NODE_DISABLE_COMPILE_CACHE=1 turns it off. Node 20 has no such cache: there this does nothing.
 */
export function enableCompileCache(): void {
  const enable = (module as { enableCompileCache?: EnableCompileCache }).enableCompileCache;
  // Never throws by design: a cache that cannot be written only makes the next start slower.
  if (typeof enable === 'function') enable();
}
