import { spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readFile, readdir, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import type { Architecture } from '../constants.js';
import { CliError, errorMessage } from '../errors.js';
import { cacheDir, packageRoot } from '../paths.js';
import type { Output } from '../ui/output.js';
import { deterministicZip, lambdaCodeSha256, sha256Hex, type ZipEntryInput } from './zip.js';

/** Lambda's architecture names (defined in src/constants.ts). */
export type LambdaArch = Architecture;

/**
 * Bump when the layer's recipe (npm flags, what is dropped) changes, so cached layers built by the
 * old recipe are not reused.
 */
const LAYER_RECIPE = 1;
/** Where Lambda's Node.js runtimes look in a layer: /opt/nodejs/node_modules is on NODE_PATH. */
const LAYER_PREFIX = 'nodejs/node_modules';

export function npmCpu(arch: LambdaArch): 'x64' | 'arm64' {
  return arch === 'x86_64' ? 'x64' : 'arm64';
}

/** `linux-x64` / `linux-arm64`: the suffix of sharp's platform packages. */
export function sharpPlatform(arch: LambdaArch): string {
  return `linux-${npmCpu(arch)}`;
}

export interface LayerArtifact {
  arch: LambdaArch;
  sharpVersion: string;
  /** The layer zip. */
  bytes: Buffer;
  size: number;
  /** Hex SHA-256 of the zip. */
  sha256: string;
  /** Base64 SHA-256, as Lambda reports a layer version's Content.CodeSha256. */
  codeSha256: string;
  /** Sum of the uncompressed entry sizes. */
  unzippedSize: number;
  entryCount: number;
  /** Served from the cache rather than installed now. */
  fromCache: boolean;
  /** The cached zip. */
  cachePath: string;
  /** A layer-version Description that identifies this exact zip (see layerDescription). */
  description: string;
}

/**
 * The Description `init` gives the layer version it publishes, so the next run can tell whether the
 * latest version already holds these bytes: `sharp 0.35.5 linux-x64 glibc sha256:<hex>`.
 */
export function layerDescription(sharpVersion: string, arch: LambdaArch, sha256: string): string {
  return `sharp ${sharpVersion} ${sharpPlatform(arch)} glibc sha256:${sha256}`;
}

export function parseLayerDescription(description: string | undefined): { sharpVersion: string; platform: string; sha256: string } | undefined {
  const match = /^sharp (\S+) (linux-\w+) glibc sha256:([0-9a-f]{64})$/.exec(description ?? '');
  if (!match) return undefined;
  const [, sharpVersion = '', platform = '', sha256 = ''] = match;
  return { sharpVersion, platform, sha256 };
}

interface LockPackage {
  version?: string;
  dependencies?: Record<string, string>;
}

function readLockfile(root: string): Record<string, LockPackage> | undefined {
  const lockfile = path.join(root, 'package-lock.json');
  if (!existsSync(lockfile)) return undefined;
  const lock = JSON.parse(readFileSync(lockfile, 'utf8')) as { packages?: Record<string, LockPackage> };
  return lock.packages;
}

/**
 * The exact sharp version we test with: from package-lock.json in a checkout, else from the sharp
 * package installed beside us (an installed img-resizer has no lockfile).
 */
export function pinnedSharpVersion(): string {
  const root = packageRoot();
  const locked = readLockfile(root)?.['node_modules/sharp']?.version;
  if (locked) return locked;
  try {
    // sharp's exports hide package.json; find it from the resolved entry point.
    let dir = path.dirname(createRequire(path.join(root, 'package.json')).resolve('sharp'));
    while (!existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
    const { name, version } = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
    if (name === 'sharp' && version) return version;
  } catch {
    // Fall through to the declared dependency.
  }
  const declared = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> }).dependencies?.sharp;
  if (declared && /^\d+\.\d+\.\d+$/.test(declared)) return declared;
  throw new CliError('SHARP_VERSION_UNKNOWN', 'Cannot tell which sharp version to put in the layer (no package-lock.json entry, no installed sharp).', {
    suggestion: 'Run `npm ci` in the img-resizer checkout.',
  });
}

/**
 * sharp's JavaScript dependencies (detect-libc, semver, @img/colour) pinned to the lockfile's
 * versions when there is one, so the layer does not drift when those publish new releases.
 */
function pinnedSharpDependencies(sharpVersion: string): string[] {
  const packages = readLockfile(packageRoot());
  const sharp = packages?.['node_modules/sharp'];
  if (!packages || sharp?.version !== sharpVersion) return [];
  return Object.keys(sharp.dependencies ?? {})
    .sort()
    .flatMap((name) => {
      const version = (packages[`node_modules/sharp/node_modules/${name}`] ?? packages[`node_modules/${name}`])?.version;
      return version ? [`${name}@${version}`] : [];
    });
}

export interface BuildLayerOptions {
  arch: LambdaArch;
  output?: Output;
  /** Cache root; default the user's cache directory. */
  cacheDir?: string;
  /** Install afresh even when a cached layer exists (the result replaces the cache). */
  fresh?: boolean;
  /** Environment for npm (tests point the registry and npm's cache elsewhere). */
  env?: NodeJS.ProcessEnv;
}

interface CacheRecord {
  recipe: number;
  sharpVersion: string;
  arch: LambdaArch;
  packages: string[];
  sha256: string;
  size: number;
  unzippedSize: number;
  entryCount: number;
}

/** The cache directory of one layer build (per sharp version, architecture and recipe). */
export function layerCacheDir(root: string, sharpVersion: string, arch: LambdaArch, packages: readonly string[]): string {
  const recipe = createHash('sha256').update(JSON.stringify({ LAYER_RECIPE, packages })).digest('hex').slice(0, 10);
  return path.join(root, 'layers', `sharp-${sharpVersion}-${sharpPlatform(arch)}-glibc-${recipe}`);
}

/**
 * The sharp layer for Lambda's Linux (glibc) on one architecture: `nodejs/node_modules/` with sharp,
 * its `@img/sharp-linux-*` and `@img/sharp-libvips-linux-*` packages and its JavaScript dependencies,
 * installed by npm for that platform whatever the host's. Cached per sharp version and architecture;
 * without a registry the cache serves, or a CliError says what is missing.
 */
export async function buildSharpLayer(options: BuildLayerOptions): Promise<LayerArtifact> {
  const { arch, output } = options;
  const sharpVersion = pinnedSharpVersion();
  const packages = [`sharp@${sharpVersion}`, ...pinnedSharpDependencies(sharpVersion)];
  const dir = layerCacheDir(options.cacheDir ?? cacheDir(), sharpVersion, arch, packages);
  const zipPath = path.join(dir, 'layer.zip');
  const recordPath = path.join(dir, 'layer.json');

  if (!options.fresh) {
    const cached = await readCachedLayer(zipPath, recordPath, output);
    if (cached) {
      output?.debug(`sharp layer ${sharpPlatform(arch)} from the cache: ${zipPath}`);
      return artifact(cached.bytes, cached.record, zipPath, true);
    }
  }

  const task = output?.task(`Installing sharp ${sharpVersion} for ${sharpPlatform(arch)} (glibc) with npm`);
  let bytes: Buffer;
  let entryCount: number;
  let unzipped: number;
  const installDir = await mkdtemp(path.join(os.tmpdir(), 'img-resizer-layer-'));
  try {
    await npmInstall(installDir, arch, packages, options.env ?? process.env, dir);
    const nodeModules = path.join(installDir, 'node_modules');
    await verifyInstall(nodeModules, arch, sharpVersion);
    const entries = await layerEntries(nodeModules, output);
    entryCount = entries.length;
    unzipped = entries.reduce((sum, e) => sum + (e.data as Buffer).length, 0);
    bytes = await deterministicZip(entries);
    task?.succeed(`Built the sharp ${sharpVersion} layer for ${sharpPlatform(arch)}`);
  } catch (error) {
    task?.fail();
    throw error;
  } finally {
    await rm(installDir, { recursive: true, force: true });
  }

  const record: CacheRecord = {
    recipe: LAYER_RECIPE,
    sharpVersion,
    arch,
    packages,
    sha256: sha256Hex(bytes),
    size: bytes.length,
    unzippedSize: unzipped,
    entryCount,
  };
  await writeCache(dir, zipPath, recordPath, bytes, record, output);
  return artifact(bytes, record, zipPath, false);
}

function artifact(bytes: Buffer, record: CacheRecord, cachePath: string, fromCache: boolean): LayerArtifact {
  return {
    arch: record.arch,
    sharpVersion: record.sharpVersion,
    bytes,
    size: bytes.length,
    sha256: record.sha256,
    codeSha256: lambdaCodeSha256(bytes),
    unzippedSize: record.unzippedSize,
    entryCount: record.entryCount,
    fromCache,
    cachePath,
    description: layerDescription(record.sharpVersion, record.arch, record.sha256),
  };
}

async function readCachedLayer(zipPath: string, recordPath: string, output?: Output): Promise<{ bytes: Buffer; record: CacheRecord } | undefined> {
  let record: CacheRecord;
  let bytes: Buffer;
  try {
    record = JSON.parse(await readFile(recordPath, 'utf8')) as CacheRecord;
    bytes = await readFile(zipPath);
  } catch {
    return undefined;
  }
  if (record.recipe !== LAYER_RECIPE || sha256Hex(bytes) !== record.sha256) {
    output?.warn(`Ignoring a damaged cached layer at ${zipPath}; building it again.`);
    return undefined;
  }
  return { bytes, record };
}

/** Zip first, record last, each renamed into place: a reader sees a whole pair or no record. */
async function writeCache(dir: string, zipPath: string, recordPath: string, bytes: Buffer, record: CacheRecord, output?: Output): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
    const suffix = `.${process.pid}.${randomUUID().slice(0, 8)}.tmp`;
    await writeFile(zipPath + suffix, bytes);
    await rename(zipPath + suffix, zipPath);
    await writeFile(recordPath + suffix, `${JSON.stringify(record, null, 2)}\n`);
    await rename(recordPath + suffix, recordPath);
  } catch (error) {
    // A read-only cache costs the next build a reinstall, nothing more.
    output?.warn(`Could not cache the sharp layer in ${dir}: ${errorMessage(error)}`);
  }
}

/**
 * npm settings inherited from `npm run` (npm_config_*) may redirect the install (prefix, global,
 * omit, os/cpu); keep only those about reaching the registry.
 */
function npmEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const keep = /^npm_config_(registry|cache|userconfig|globalconfig|proxy|https_proxy|http_proxy|noproxy|no_proxy|ca|cafile|strict_ssl|fetch_.*|.*:registry|\/\/.*)$/i;
  const clean: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(env)) {
    if (/^npm_/i.test(key) && !keep.test(key)) continue;
    clean[key] = value;
  }
  clean.npm_config_update_notifier = 'false';
  return clean;
}

const NETWORK_ERROR = /\b(ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|ENOTCACHED|ERR_SOCKET_TIMEOUT|network|request to \S+ failed)\b/i;

async function npmInstall(dir: string, arch: LambdaArch, packages: string[], env: NodeJS.ProcessEnv, cacheLocation: string): Promise<void> {
  await writeFile(path.join(dir, 'package.json'), `${JSON.stringify({ name: 'img-resizer-sharp-layer', private: true }, null, 2)}\n`);
  const args = [
    'install',
    '--prefix', dir,
    '--os=linux',
    `--cpu=${npmCpu(arch)}`,
    '--libc=glibc',
    '--omit=dev',
    '--no-package-lock',
    '--no-save',
    // sharp 0.35 needs no install scripts: its binaries come as @img/* packages.
    '--ignore-scripts',
    '--no-audit',
    '--no-fund',
    '--no-bin-links',
    // The npm cache answers first; the registry is asked only for what it lacks.
    '--prefer-offline',
    '--fetch-retries=1',
    '--fetch-retry-mintimeout=500',
    '--fetch-retry-maxtimeout=2000',
    '--loglevel=error',
    ...packages,
  ];
  const isWindows = process.platform === 'win32';
  const { code, stderr, spawnError } = await new Promise<{ code: number | null; stderr: string; spawnError?: Error }>((resolve) => {
    const child = spawn(isWindows ? 'npm.cmd' : 'npm', args, { cwd: dir, env: npmEnvironment(env), shell: isWindows, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => { err += chunk.toString('utf8'); });
    child.on('error', (error) => { resolve({ code: null, stderr: err, spawnError: error }); });
    child.on('close', (exitCode) => { resolve({ code: exitCode, stderr: err }); });
  });
  const what = `sharp ${packages[0]?.split('@')[1] ?? ''} for ${sharpPlatform(arch)}`;
  if (spawnError) {
    throw new CliError('NPM_NOT_FOUND', `Building the sharp layer needs npm, which could not be run: ${spawnError.message}`, {
      suggestion: `Install Node.js with npm, or build once where npm works: the layer is then cached in ${cacheLocation}.`,
    });
  }
  if (code !== 0) {
    const tail = stderr.trim().split('\n').slice(-6).join('\n');
    if (NETWORK_ERROR.test(stderr)) {
      throw new CliError(
        'LAYER_REGISTRY_UNREACHABLE',
        `Cannot build the ${what} layer: the npm registry is not reachable, and neither npm's cache nor ours (${cacheLocation}) holds it.\n${tail}`,
        { suggestion: `Connect to the registry (check \`npm config get registry\` and proxy settings) and build once; later builds for ${npmCpu(arch)} work offline from the cache.` },
      );
    }
    throw new CliError('LAYER_INSTALL_FAILED', `npm could not install ${what}:\n${tail}`, {
      suggestion: 'Run with --debug for details, or try the same `npm install` by hand in an empty directory.',
    });
  }
}

/** npm reports success even when an optional platform package was skipped; check they are there. */
async function verifyInstall(nodeModules: string, arch: LambdaArch, sharpVersion: string): Promise<void> {
  const platform = sharpPlatform(arch);
  const readVersion = async (pkg: string): Promise<string | undefined> => {
    try {
      return (JSON.parse(await readFile(path.join(nodeModules, pkg, 'package.json'), 'utf8')) as { version?: string }).version;
    } catch {
      return undefined;
    }
  };
  const hasFile = async (dir: string, pattern: RegExp): Promise<boolean> => {
    try {
      return (await readdir(path.join(nodeModules, dir))).some((f) => pattern.test(f));
    } catch {
      return false;
    }
  };
  const problems: string[] = [];
  const installed = await readVersion('sharp');
  if (installed !== sharpVersion) problems.push(`sharp ${installed ?? 'missing'} (wanted ${sharpVersion})`);
  if (!(await hasFile(`@img/sharp-${platform}/lib`, /\.node$/))) problems.push(`@img/sharp-${platform} (the native module)`);
  if (!(await hasFile(`@img/sharp-libvips-${platform}/lib`, /^libvips-cpp\.so/))) problems.push(`@img/sharp-libvips-${platform} (libvips)`);
  if (problems.length > 0) {
    throw new CliError('LAYER_INCOMPLETE', `npm's install for ${platform} lacks: ${problems.join('; ')}.`, {
      suggestion: 'Check that your npm (v10+) honours --os/--cpu/--libc, and that no .npmrc sets omit=optional.',
    });
  }
}

const LICENCE = /^(licen[cs]e|copying|notice|copyright)(\.[\w.-]+)?$/i;
const JUNK_FILE = /(\.(md|markdown)|\.d\.[cm]?ts|\.map|\.(h|hh|hpp|c|cc|cpp|gyp|gypi))$/i;
const JUNK_DIR = new Set(['docs', 'doc', 'test', 'tests', '__tests__', 'example', 'examples', 'benchmark', 'benchmarks']);

/** Whether a file (path relative to node_modules, forward slashes) is worth shipping in the layer. */
export function keepInLayer(relPath: string): boolean {
  const parts = relPath.split('/');
  const base = parts[parts.length - 1] ?? '';
  if (parts.some((p) => p.startsWith('.'))) return false; // .bin links, .package-lock.json
  if (LICENCE.test(base)) return true;
  const pkgParts = parts[0]?.startsWith('@') ? 2 : 1;
  const pkg = parts.slice(0, pkgParts).join('/');
  const inner = parts.slice(pkgParts, -1);
  // sharp-libvips' README carries the licensing table of the libraries it bundles.
  if (pkg.startsWith('@img/sharp-libvips-') && /^readme/i.test(base)) return true;
  if (inner.some((d) => JUNK_DIR.has(d.toLowerCase()))) return false;
  if (pkg.startsWith('@img/sharp-libvips-') && inner.includes('include')) return false;
  // sharp's C++ sources and its build-from-source script are for compiling, which the layer never does.
  if (pkg === 'sharp' && (inner[0] === 'src' || inner[0] === 'install')) return false;
  return !JUNK_FILE.test(base);
}

/** The layer's zip entries; symlinks to files inside the install are stored as those files, others fail. */
async function layerEntries(nodeModules: string, output?: Output): Promise<ZipEntryInput[]> {
  const root = await realpath(nodeModules);
  const entries: ZipEntryInput[] = [];
  const dropped: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const name of await readdir(dir)) {
      const full = path.join(dir, name);
      const rel = path.relative(nodeModules, full).split(path.sep).join('/');
      let info = await lstat(full);
      let source = full;
      if (info.isSymbolicLink()) {
        const target = await realpath(full).catch(() => undefined);
        const targetInfo = target?.startsWith(root + path.sep) ? await stat(target) : undefined;
        if (target === undefined || !targetInfo?.isFile()) {
          if (!keepInLayer(rel)) { dropped.push(rel); continue; }
          throw new CliError('LAYER_SYMLINK', `The sharp layer would contain a symlink (${rel}), which Lambda rejects.`, {
            suggestion: 'Report this: npm installed a linked package into the layer.',
          });
        }
        source = target;
        info = targetInfo;
      }
      if (info.isDirectory()) {
        await walk(full);
        continue;
      }
      if (!info.isFile()) continue;
      if (!keepInLayer(rel)) {
        dropped.push(rel);
        continue;
      }
      entries.push({ path: `${LAYER_PREFIX}/${rel}`, data: await readFile(source), mode: info.mode & 0o111 ? 0o755 : 0o644 });
    }
  };
  await walk(nodeModules);
  output?.debug(`Left out of the layer (${dropped.length}): ${dropped.join(', ')}`);
  return entries;
}
