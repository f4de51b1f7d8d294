import { spawn } from 'node:child_process';

/** Running `npm install` into a directory of ours: the sharp layer's install and the local stack's Node. */

/**
 * npm settings inherited from `npm run` (npm_config_*) may redirect the install (prefix, global,
 * omit, os/cpu); keep only those about reaching the registry.
 */
export function npmEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const keep = /^npm_config_(registry|cache|userconfig|globalconfig|proxy|https_proxy|http_proxy|noproxy|no_proxy|ca|cafile|strict_ssl|fetch_.*|.*:registry|\/\/.*)$/i;
  const clean: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(env)) {
    if (/^npm_/i.test(key) && !keep.test(key)) continue;
    clean[key] = value;
  }
  clean.npm_config_update_notifier = 'false';
  return clean;
}

/** npm's stderr when the registry could not be reached (as opposed to a package that does not install). */
export const NETWORK_ERROR = /\b(ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|ENOTCACHED|ERR_SOCKET_TIMEOUT|network|request to \S+ failed)\b/i;

export interface NpmRun {
  code: number | null;
  stderr: string;
  /** npm itself could not be started. */
  spawnError?: Error;
}

/** Runs npm with `args` in `dir`, under the filtered environment; stdout is dropped, stderr kept for errors. */
export function runNpm(dir: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<NpmRun> {
  const isWindows = process.platform === 'win32';
  return new Promise((resolve) => {
    const child = spawn(isWindows ? 'npm.cmd' : 'npm', args, { cwd: dir, env: npmEnvironment(env), shell: isWindows, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => { err += chunk.toString('utf8'); });
    child.on('error', (error) => { resolve({ code: null, stderr: err, spawnError: error }); });
    child.on('close', (exitCode) => { resolve({ code: exitCode, stderr: err }); });
  });
}
