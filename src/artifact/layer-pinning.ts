import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { CliError } from '../errors.js';
import { packageRoot } from '../paths.js';

/** The sharp version and dependencies the layer holds: exactly what package-lock.json pins. */

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
export function pinnedSharpDependencies(sharpVersion: string): string[] {
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

