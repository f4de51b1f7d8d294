import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CliError } from '../errors.js';
import type { LambdaArch } from './layer.js';
import { NETWORK_ERROR, runNpm } from './npm-run.js';

/** Installing sharp for Lambda's Linux with npm, whatever the host's platform, and checking what npm did. */

export function npmCpu(arch: LambdaArch): 'x64' | 'arm64' {
  return arch === 'x86_64' ? 'x64' : 'arm64';
}

/** `linux-x64` / `linux-arm64`: the suffix of sharp's platform packages. */
export function sharpPlatform(arch: LambdaArch): string {
  return `linux-${npmCpu(arch)}`;
}



export async function npmInstall(dir: string, arch: LambdaArch, packages: string[], env: NodeJS.ProcessEnv, cacheLocation: string): Promise<void> {
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
  const { code, stderr, spawnError } = await runNpm(dir, args, env);
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
export async function verifyInstall(nodeModules: string, arch: LambdaArch, sharpVersion: string): Promise<void> {
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

